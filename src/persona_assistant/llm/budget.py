"""The output limit (`max_tokens`) of each call: the one place it is decided.

Without a limit, a small model under a server's grammar runs on to the context limit (one
measured answer: 2,196 tokens in 198 s). Each task gets a limit sized to what its answer
needs (an asset is a few short fields; a persona is the longest answer), overridden, in this
order of precedence, by the `--max-tokens` option of the command, a per-task entry of the
workspace's `[llm.max_tokens_per_task]` table, and `[llm] max_tokens`.
"""

from __future__ import annotations

# Tokens per answer. Sized from the answer schemas: an asset's fields are at most a few hundred
# characters each; an extraction lists up to ~20 quotes; a persona holds eight item lists with
# evidence; chat answers are a few paragraphs.
TASK_MAX_TOKENS = {
    "asset": 800,
    "extract_evidence": 2500,
    "persona_grouping": 1200,
    "persona_synthesis": 4000,
    "icp_draft": 4000,
    "chat": 1200,
}
DEFAULT_MAX_TOKENS = 2500
CUT_NOTICE = "(answer cut at the output limit)"


def max_tokens_for(task: str, settings) -> int:
    """The output limit of one call of `task` under `settings` (see the module docstring)."""
    if settings.max_tokens is not None and settings.origin.get("max_tokens") == "option":
        return settings.max_tokens
    if task in settings.task_max_tokens:
        return settings.task_max_tokens[task]
    if settings.max_tokens is not None:
        return settings.max_tokens
    return TASK_MAX_TOKENS.get(task, DEFAULT_MAX_TOKENS)
