"""Which model endpoint to use, and how: resolved once per command from four places.

Each of model, base URL and API key is taken from the first place that sets it:
1. the command option (--model, --base-url, --api-key is deliberately not offered),
2. the environment (PERSONA_ASSISTANT_MODEL, PERSONA_ASSISTANT_BASE_URL or OPENAI_BASE_URL,
   PERSONA_ASSISTANT_API_KEY or OPENAI_API_KEY),
3. the user's keys file ($XDG_CONFIG_HOME or ~/.config, /persona-assistant/keys.json, mode 0600,
   written by `persona-assistant keys set`),
4. the workspace's persona-assistant.toml [llm] table (model, base_url; never a key: a workspace
   is meant to be shared and put under version control).

With neither a key nor a base URL the offline engine drafts. A base URL alone is enough for
local servers (Ollama, llama.cpp, vLLM, LM Studio), which ignore the key.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from persona_assistant.errors import InputError, UsageError

DEFAULT_MODEL = "gpt-4o-mini"
OPENAI_BASE_URL = "https://api.openai.com/v1"
# Sent to local servers that need no key; the SDK refuses to start without one.
DUMMY_KEY = "not-needed"
KEYS_FILE_NAME = "keys.json"

# Defaults of the [llm] table: set here only (the settings' fields and resolve_settings read them).
DEFAULT_TIMEOUT_S = 60.0  # whole answers: the total wait; streamed answers: the wait for the first token
DEFAULT_IDLE_TIMEOUT_S = 30.0  # streamed answers: the longest gap between two chunks
DEFAULT_MAX_RETRIES = 2  # the SDK's own retries of 429/5xx/connection failures, per answer
DEFAULT_PROMPT_BUDGET_TOKENS = 6000  # what one prompt may hold (prompts.py fits notes and chat history to it)

# US dollars per 1M tokens (input, output); a workspace's [llm.prices."model"] overrides.
# Unknown models have no price: their cost is reported as unknown, never as 0.
DEFAULT_PRICES: dict[str, tuple[float, float]] = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}

OFFLINE_HINT = (
    "offline engine: no model endpoint configured (set OPENAI_API_KEY or run `persona-assistant keys set`, "
    "or set PERSONA_ASSISTANT_BASE_URL / [llm] base_url for a local server)"
)


class LLMSettings(BaseModel):
    """Everything the LLM layer needs; the key is a SecretStr so no repr or dump shows it."""

    model_config = ConfigDict(frozen=True)

    model: str = DEFAULT_MODEL
    base_url: str = OPENAI_BASE_URL
    api_key: SecretStr = SecretStr(DUMMY_KEY)
    offline: bool = False
    timeout: float = DEFAULT_TIMEOUT_S
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT_S
    max_retries: int = DEFAULT_MAX_RETRIES  # at most max_retries + 1 HTTP attempts per answer (llm/loop.py)
    prompt_budget_tokens: int = DEFAULT_PROMPT_BUDGET_TOKENS
    max_tokens: int | None = None  # --max-tokens, else [llm] max_tokens (llm/budget.py decides per call)
    task_max_tokens: dict[str, int] = Field(default_factory=dict)  # [llm.max_tokens_per_task]
    prices: dict[str, tuple[float, float]] = Field(default_factory=lambda: dict(DEFAULT_PRICES))
    cache: bool = True
    redact: bool = True
    origin: dict[str, str] = Field(default_factory=dict)  # setting -> where it came from

    @property
    def endpoint_host(self) -> str:
        """Host (and port) of the endpoint: what logs and errors name. No path, no query, no key."""
        parts = urlsplit(self.base_url)
        return parts.netloc.rsplit("@", 1)[-1] or self.base_url

    def price(self, model: str | None = None) -> tuple[float, float] | None:
        return self.prices.get(model or self.model)

    def cost(self, prompt_tokens: int, completion_tokens: int, model: str | None = None) -> float | None:
        """Estimated US dollars; None when the model has no price."""
        price = self.price(model)
        if price is None:
            return None
        return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000

    @property
    def offline_notice(self) -> str:
        return OFFLINE_HINT


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base).expanduser() / "persona-assistant"


def keys_path() -> Path:
    return config_dir() / KEYS_FILE_NAME


def read_keys_file(path: Path | None = None) -> dict[str, str]:
    """The keys file's entries (api_key, base_url, model); {} when absent."""
    path = path or keys_path()
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not valid JSON ({exc.__class__.__name__}); rewrite it with "
                         "`persona-assistant keys set`") from None
    if not isinstance(data, dict):
        raise InputError(f"{path}: expected a JSON object with api_key, base_url, model")
    return {k: v for k, v in data.items() if isinstance(v, str) and v.strip()}


def write_keys_file(updates: dict[str, str], path: Path | None = None) -> Path:
    """Merge `updates` into the keys file, written atomically with mode 0600 in a 0700 folder."""
    from persona_assistant.workspace import atomic_write

    path = path or keys_path()
    current = read_keys_file(path)
    current.update({k: v for k, v in updates.items() if v})
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    atomic_write(path, json.dumps(current, indent=2) + "\n", mode=0o600)
    return path


def check_url(url: str, where: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{where}: base URL {url!r} is not an http(s) URL (e.g. http://localhost:11434/v1)")
    return url.rstrip("/")


def _number(value: Any, where: str, *, kind: type = float, minimum: float = 0) -> Any:
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise InputError(f"{where}: expected a number, got {value!r}") from None
    if number < minimum:
        raise InputError(f"{where}: must be at least {minimum}, got {value!r}")
    return number


def _prices(table: Any, where: str, base_url: str) -> dict[str, tuple[float, float]]:
    # OpenAI's list prices say nothing about a local or third-party server: there, only the
    # workspace's own table prices a model.
    prices = dict(DEFAULT_PRICES) if base_url == OPENAI_BASE_URL else {}
    if table is None:
        return prices
    if not isinstance(table, dict):
        raise InputError(f"{where}: [llm.prices] must be a table of models")
    for model, entry in table.items():
        if not isinstance(entry, dict) or not {"input", "output"} <= set(entry):
            raise InputError(f"{where}: [llm.prices.\"{model}\"] needs input and output (US$ per 1M tokens)")
        prices[model] = (_number(entry["input"], f"{where}: llm.prices.{model}.input"),
                         _number(entry["output"], f"{where}: llm.prices.{model}.output"))
    return prices


def resolve_settings(ws=None, *, model: str | None = None, base_url: str | None = None,
                     api_key: str | None = None, offline: bool = False, cache: bool = True,
                     redact: bool = True, max_tokens: int | None = None,
                     timeout: float | None = None) -> LLMSettings:
    """Settings from option > environment > keys file > workspace config (see the module docstring)."""
    cfg = (ws.config().get("llm") if ws is not None else None) or {}
    where = str(ws.config_path) if ws is not None else "persona-assistant.toml"
    if not isinstance(cfg, dict):
        raise InputError(f"{where}: [llm] must be a table")
    if "api_key" in cfg:
        raise InputError(f"{where}: [llm] api_key is not read from a workspace (it would be shared); "
                         "use `persona-assistant keys set` or OPENAI_API_KEY")
    keys = read_keys_file()
    env = os.environ
    origin: dict[str, str] = {}

    def pick(name: str, option: str | None, env_names: tuple[str, ...], from_cfg: bool) -> str | None:
        candidates = [("option", option)]
        candidates += [(f"environment {e}", env.get(e)) for e in env_names]
        candidates.append(("keys file", keys.get(name)))
        if from_cfg:
            candidates.append((where, cfg.get(name)))
        for source, value in candidates:
            if isinstance(value, str) and value.strip():
                origin[name] = source
                return value.strip()
        return None

    model_v = pick("model", model, ("PERSONA_ASSISTANT_MODEL",), True)
    url_v = pick("base_url", base_url, ("PERSONA_ASSISTANT_BASE_URL", "OPENAI_BASE_URL"), True)
    key_v = pick("api_key", api_key, ("PERSONA_ASSISTANT_API_KEY", "OPENAI_API_KEY"), False)
    if url_v:
        url_v = check_url(url_v, "--base-url" if origin["base_url"] == "option" else origin["base_url"])

    budget = _number(cfg.get("prompt_budget_tokens", DEFAULT_PROMPT_BUDGET_TOKENS),
                     f"{where}: llm.prompt_budget_tokens", kind=int, minimum=500)
    retries = _number(cfg.get("max_retries", DEFAULT_MAX_RETRIES), f"{where}: llm.max_retries", kind=int, minimum=0)
    idle = _number(cfg.get("idle_timeout", DEFAULT_IDLE_TIMEOUT_S), f"{where}: llm.idle_timeout", minimum=0.1)
    if timeout is None:
        timeout = _number(cfg.get("timeout", DEFAULT_TIMEOUT_S), f"{where}: llm.timeout", minimum=1)
    elif timeout <= 0:
        raise UsageError(f"--timeout: must be positive, got {timeout}")
    if max_tokens is not None and max_tokens < 1:
        raise UsageError(f"--max-tokens: must be at least 1, got {max_tokens}")
    if max_tokens is not None:
        origin["max_tokens"] = "option"
    elif cfg.get("max_tokens") is not None:
        max_tokens = _number(cfg["max_tokens"], f"{where}: llm.max_tokens", kind=int, minimum=1)
        origin["max_tokens"] = where
    per_task = cfg.get("max_tokens_per_task") or {}
    if not isinstance(per_task, dict):
        raise InputError(f"{where}: [llm.max_tokens_per_task] must be a table of task = tokens")
    task_max_tokens = {str(k): _number(v, f"{where}: llm.max_tokens_per_task.{k}", kind=int, minimum=1)
                       for k, v in per_task.items()}
    return LLMSettings(
        model=model_v or DEFAULT_MODEL,
        base_url=url_v or OPENAI_BASE_URL,
        api_key=SecretStr(key_v or DUMMY_KEY),
        offline=offline or not (key_v or url_v),
        timeout=float(timeout),
        idle_timeout=float(idle),
        max_retries=retries,
        prompt_budget_tokens=budget,
        max_tokens=max_tokens,
        task_max_tokens=task_max_tokens,
        prices=_prices(cfg.get("prices"), where, url_v or OPENAI_BASE_URL),
        cache=cache,
        redact=redact,
        origin=origin,
    )
