"""Create a new workspace folder with its commented templates."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from persona_assistant.errors import UsageError
from persona_assistant.llm.settings import DEFAULT_IDLE_TIMEOUT_S, DEFAULT_PROMPT_BUDGET_TOKENS, DEFAULT_TIMEOUT_S
from persona_assistant.workspace import Workspace

CONFIG_TEMPLATE = """\
# persona-assistant settings for this workspace. Command options and environment
# variables (PERSONA_ASSISTANT_MODEL, PERSONA_ASSISTANT_BASE_URL, OPENAI_API_KEY) win over these.
# With no model endpoint configured the offline engine drafts everything.

[llm]
# model = "gpt-4o-mini"
# base_url = "http://localhost:11434/v1"   # Ollama, vLLM, LM Studio, llama.cpp server...
# prompt_budget_tokens = {budget}
# timeout = {timeout:g}          # seconds: a whole answer, or a local server's first token
# idle_timeout = {idle:g}     # seconds between two chunks of a streamed answer (local servers)

[analysis]
min_support = 30
# Every column is a candidate dimension except ids, dates, free text and outcome leaks (see `analyze`).
# Names: the export's header or the canonical field. Used by analyze, draft icp, score, backtest, chat.
# dimensions = ["Industry", "Lead Source"]   # only these
# exclude = ["Region"]                        # never these
# allow = ["Contract Term"]                   # let in a column excluded as a leak, id, date or free text
""".format(budget=DEFAULT_PROMPT_BUDGET_TOKENS, timeout=DEFAULT_TIMEOUT_S, idle=DEFAULT_IDLE_TIMEOUT_S)


def init_workspace(directory: Path) -> list[Path]:
    """Create the workspace layout; existing files are left untouched. Returns what was created."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"init: {directory} exists and is not a folder")
    ws = Workspace(directory)
    created: list[Path] = []
    for folder in (ws.crm_dir, ws.notes_dir, ws.state_dir):
        if not folder.exists():
            ws.make_dir(folder)
            created.append(folder)
    brief = resources.files("persona_assistant").joinpath("brief_template.yaml").read_text("utf-8")
    for path, text in ((ws.brief_path, brief), (ws.config_path, CONFIG_TEMPLATE)):
        if not path.exists():
            ws.write(path, text)
            created.append(path)
    return created
