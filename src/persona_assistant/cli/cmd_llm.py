"""`keys set|path` (the API key, stored outside any workspace), `log` and `usage` (the model log)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from persona_assistant.cli.common import JsonOpt, WorkspaceOpt, emit_json, notice

def keys_set(
    base_url: Annotated[Optional[str], typer.Option("--base-url", help="Also store a default endpoint URL.")] = None,
    model: Annotated[Optional[str], typer.Option("--model", help="Also store a default model name.")] = None,
    stdin: Annotated[bool, typer.Option("--stdin", help="Read the key from standard input (for scripts).")] = False,
) -> None:
    """Store an API key (asked for without echo) in the keys file, readable only by you."""
    from persona_assistant.errors import UsageError
    from persona_assistant.llm.settings import check_url, write_keys_file

    if stdin:
        key = sys.stdin.readline()
    else:
        key = typer.prompt("API key", hide_input=True, default="", show_default=False)
    key = key.strip()
    if not key and not (base_url or model):
        raise UsageError("keys set: no key given (type it at the prompt, or pipe it with --stdin)")
    if any(c.isspace() for c in key):
        raise UsageError("keys set: the key contains whitespace; paste it as one word")
    if base_url:
        base_url = check_url(base_url, "--base-url")
    path = write_keys_file({"api_key": key, "base_url": base_url or "", "model": model or ""})
    notice(f"saved to {path} (mode 0600)")


def keys_path_cmd() -> None:
    """Print where the keys file is (or would be)."""
    from persona_assistant.llm.settings import keys_path

    typer.echo(str(keys_path()))


def _cost(value) -> str:
    return "unknown" if value is None else f"${value:.4f}"


def _count(value) -> str:
    """A token count, or "unknown" when the server sent none (never 0)."""
    return "unknown" if value is None else str(value)


def _total(rows: list[dict], key: str):
    values = [r[key] for r in rows]
    return None if any(v is None for v in values) else sum(values)


def log_cmd(
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
    n: Annotated[int, typer.Option("-n", "--last", min=1, help="How many of the latest calls to show.")] = 20,
) -> None:
    """The latest model calls: task, model, endpoint, values redacted, tokens, latency, cost, status."""
    import datetime as dt

    from persona_assistant.llm.store import Store
    from persona_assistant.workspace import open_workspace

    ws = open_workspace(workspace)
    store = Store.existing(ws)
    rows = store.recent(n) if store else []
    if store:
        store.close()
    for row in rows:
        row["time"] = dt.datetime.fromtimestamp(row["time"]).isoformat(timespec="seconds")
    if json_out:
        emit_json(rows)
        return
    if not rows:
        notice(f"no model calls logged yet in {ws.state_dir}")
        return
    from rich.console import Console
    from rich.table import Table

    from persona_assistant.safe_text import as_rich_text

    table = Table(show_edge=False)
    numbers = ("tries", "requests", "redacted", "prompt", "completion", "ms", "cost")
    for col in ("time", "task", "model", "endpoint", "mode", "tries", "requests", "redacted", "prompt", "completion",
                "ms", "cost", "status"):
        table.add_column(col, justify="right" if col in numbers else "left")
    for r in reversed(rows):
        status = "ok (cache)" if r["cached"] else r["status"]
        if r["error"]:
            status = f"{status}: {r['error']}"
        table.add_row(*(as_rich_text(str(v)) for v in (
            r["time"], r["task"], r["model"], r["endpoint"], r["mode"] or "", r["attempts"],
            "" if r["requests"] is None else r["requests"],
            "" if r["redacted"] is None else r["redacted"], _count(r["prompt_tokens"]),
            _count(r["completion_tokens"]), r["latency_ms"], _cost(r["cost"]), status)))
    Console(soft_wrap=False).print(table)


def usage_cmd(
    workspace: WorkspaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Totals per model and task: calls, cache hits, errors, tokens, estimated cost."""
    from persona_assistant.llm.store import Store
    from persona_assistant.workspace import open_workspace

    ws = open_workspace(workspace)
    store = Store.existing(ws)
    rows = store.usage() if store else []
    if store:
        store.close()
    costs = [r["cost"] for r in rows]
    total = {
        "calls": sum(r["calls"] for r in rows),
        "prompt_tokens": _total(rows, "prompt_tokens"),
        "completion_tokens": _total(rows, "completion_tokens"),
        "cost": None if any(c is None for c in costs) else sum(costs),
    }
    if json_out:
        emit_json({"by_model_task": rows, "total": total})
        return
    if not rows:
        notice(f"no model calls logged yet in {ws.state_dir}")
        return
    from rich.console import Console
    from rich.table import Table

    from persona_assistant.safe_text import as_rich_text

    table = Table(show_edge=False)
    for col in ("model", "task", "calls", "cached", "errors", "prompt", "completion", "cost"):
        table.add_column(col, justify="left" if col in ("model", "task") else "right")
    for r in rows:
        table.add_row(*(as_rich_text(str(v)) for v in (
            r["model"], r["task"], r["calls"], r["cached"], r["errors"], _count(r["prompt_tokens"]),
            _count(r["completion_tokens"]), _cost(r["cost"]))))
    table.add_row(*(as_rich_text(str(v)) for v in (
        "total", "", total["calls"], "", "", _count(total["prompt_tokens"]), _count(total["completion_tokens"]),
        _cost(total["cost"]))))
    Console(soft_wrap=False).print(table)
    if total["cost"] is None:
        notice("cost unknown for models without a price; add [llm.prices.\"MODEL\"] input/output (US$ per 1M "
               "tokens) to persona-assistant.toml")
