"""The service layer: what the CLI and the chat both call.

One module per command family; each function takes typed inputs (a workspace, settings, options),
returns a typed result with its notices (never printed here) and raises `PersonaError`s. Only
`services` builds an engine (engine.engine_for) and only `services.analysis` decides whether the
stored analysis or a fresh one is used. The CLI parses options, calls one service and prints; the
chat's slash commands call the same services and show the same results in the conversation.
"""
