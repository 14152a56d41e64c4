from persona_assistant.cli.main import run

run()
