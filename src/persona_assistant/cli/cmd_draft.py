"""`draft icp|personas`, `history` and `diff`: versioned, evidence-checked drafts."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from persona_assistant.cli.common import MaxTokensOpt, JsonOpt, WorkspaceOpt, emit_json, notice, notices

OfflineOpt = Annotated[bool, typer.Option("--offline", help="Use the offline engine even if a model is configured.")]
ModelOpt = Annotated[Optional[str], typer.Option("--model", metavar="M", help="Model name.", show_default=False)]
BaseUrlOpt = Annotated[Optional[str], typer.Option("--base-url", metavar="U", help="OpenAI-compatible base URL.",
                                                   show_default=False)]
NoCacheOpt = Annotated[bool, typer.Option("--no-cache", help="Ask the model again instead of using cached answers.")]
NoRedactOpt = Annotated[bool, typer.Option("--no-redact", help="Send names, emails and phones unredacted.")]
WaitOpt = Annotated[bool, typer.Option("--wait", help="If another draft or campaign is running on the workspace, "
                                                      "wait for it to finish instead of stopping.")]


def _run(kind: str, workspace: Path, json_out: bool, offline: bool, model: Optional[str], base_url: Optional[str],
         no_cache: bool, no_redact: bool, max_tokens: Optional[int], wait: bool = False) -> None:
    from persona_assistant.llm.settings import resolve_settings
    from persona_assistant.services.drafting import draft
    from persona_assistant.workspace import open_workspace

    ws = open_workspace(workspace)
    settings = resolve_settings(ws, model=model, base_url=base_url, offline=offline, cache=not no_cache,
                                redact=not no_redact, max_tokens=max_tokens)
    result = draft(ws, kind, settings, progress=notice, wait=wait)
    notices(result.notes, "note: ")
    if json_out:
        emit_json(result.to_json())
        return
    typer.echo(result.summary())


def _draft_command(kind: str, doc: str):
    """The typer command for one draft kind (the two kinds take the same options)."""

    def command(
        workspace: WorkspaceOpt = Path("."), json_out: JsonOpt = False, offline: OfflineOpt = False,
        model: ModelOpt = None, base_url: BaseUrlOpt = None, no_cache: NoCacheOpt = False,
        no_redact: NoRedactOpt = False, max_tokens: MaxTokensOpt = None, wait: WaitOpt = False,
    ) -> None:
        _run(kind, workspace, json_out, offline, model, base_url, no_cache, no_redact, max_tokens, wait)

    command.__doc__ = doc
    command.__name__ = f"draft_{kind}_command"
    return command


draft_icp_command = _draft_command(
    "icp", "Draft the ICP from CRM segment figures and interview quotes; saved as drafts/icp/vNNNN.")
draft_personas_command = _draft_command(
    "personas", "Draft buyer personas from the interview notes; saved as drafts/personas/vNNNN.")


def history(
    kind: Annotated[Optional[str], typer.Argument(help="icp, personas, analysis or campaign (default: all).",
                                       show_default=False)] = None,
    workspace: WorkspaceOpt = Path("."), json_out: JsonOpt = False,
) -> None:
    """List the saved versions of the drafts, analyses and campaigns: label, time and counts."""
    from persona_assistant.services.drafting import history as run
    from persona_assistant.workspace import open_workspace

    rows = run(open_workspace(workspace), kind)
    if json_out:
        emit_json([r.to_json() for r in rows])
        return
    for r in rows:
        first = ("personas", "quotes")  # then the kind's other counts as it gives them
        keys = [k for k in first if k in r.counts] + [k for k in r.counts if k not in first]
        counts = ", ".join(f"{k.replace('_', ' ')} {r.counts[k]}" for k in keys)
        typer.echo(f"{r.kind:<9} {r.version}  {r.time}  {counts}")


def diff(
    kind: Annotated[str, typer.Argument(help="icp or personas.")],
    workspace: WorkspaceOpt = Path("."),
    from_: Annotated[Optional[int], typer.Option("--from", metavar="N", help="Older version number (default: the "
                                                 "one before --to).", show_default=False)] = None,
    to: Annotated[Optional[int], typer.Option("--to", metavar="M", help="Newer version number (default: the latest).",
                                              show_default=False)] = None,
    json_out: JsonOpt = False,
) -> None:
    """Which fields changed between two versions, and which sources their evidence comes from."""
    from rich.console import Console
    from rich.text import Text

    from persona_assistant.safe_text import as_rich_text
    from persona_assistant.services.drafting import diff as run
    from persona_assistant.workspace import open_workspace

    d = run(open_workspace(workspace), kind, from_, to)
    if json_out:
        emit_json(d.to_dict())
        return
    console = Console(highlight=False, soft_wrap=True)
    console.print(Text(f"{d.kind}: {d.old} -> {d.new}, {len(d.changes)} field(s) changed", style="bold"))
    if d.new_sources:
        console.print(Text("new sources: ") + as_rich_text(", ".join(d.new_sources)))
    for c in d.changes:
        console.print(as_rich_text(c.field, style="bold"))
        if c.before is not None or c.after is not None:
            console.print(Text("  ~ ") + as_rich_text(f"{c.before} -> {c.after}"))
        for t in c.added:
            console.print(Text("  + ", style="green") + as_rich_text(t))
        for t in c.removed:
            console.print(Text("  - ", style="red") + as_rich_text(t))
        for t in c.evidence:
            console.print(Text("  * evidence changed: ") + as_rich_text(t))
        if c.sources:
            new = set(c.new_sources)
            console.print(Text("  from: ") + as_rich_text(", ".join(s + (" (new)" if s in new else "")
                                                                   for s in c.sources)))
