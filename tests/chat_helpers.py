"""Builders shared by the chat tests: a small workspace and SSE chat-completion bodies."""

from __future__ import annotations

import io
import json
from pathlib import Path

from persona_assistant.schemas import Claim, Persona, PersonaSet, QuoteEvidence
from persona_assistant.workspace import Workspace

BASE_URL = "http://chat-stub.test/v1"

NOTE = """\
---
name: Dana Reyes
role: CFO
company: Acme Freight
---
**Interviewer:** What slows your month-end close?
**Dana:** We reconcile bank feeds by hand and it takes three full days every month.
**Interviewer:** What would success look like?
**Dana:** I want the close done in five days without overtime for my team.
**Dana:** Our auditors keep asking for evidence we cannot pull quickly.
"""


def make_workspace(root: Path) -> Workspace:
    """A workspace with one interview note and one personas version (v0001)."""
    ws = Workspace(root)
    ws.notes_dir.mkdir(parents=True)
    ws.state_dir.mkdir(parents=True)
    (ws.notes_dir / "dana.md").write_text(NOTE, encoding="utf-8")
    quote = QuoteEvidence(source_id="dana", path="notes/dana.md", line_start=7, line_end=7,
                          text="We reconcile bank feeds by hand and it takes three full days every month.")
    persona = Persona(
        id="cfo", name="Maya, the CFO", archetype="Owns the close and the audit", role="CFO",
        seniority="c_level", function="finance", buying_role="financial_buyer",
        pains=[Claim(text="Manual bank reconciliation takes three days", evidence=[quote],
                     confidence="low", status="supported")],
        goals=[Claim(text="Close in five days", status="inferred", confidence="low")],
        quotes=[quote], sources=["dana"])
    ws.save_version("personas", PersonaSet(personas=[persona]))
    return ws


def settings(*, offline: bool = False, model: str = "stub-model"):
    """The real LLM settings pointing at the mocked endpoint (or offline)."""
    from persona_assistant.llm.settings import resolve_settings

    return resolve_settings(None, model=model, base_url=None if offline else BASE_URL, offline=offline)


def chunk(delta: dict, finish: str | None = None) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "stub-model",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def sse(chunks: list[dict], usage: dict | None = None) -> str:
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks)
    if usage:
        body += "data: " + json.dumps({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1,
                                       "model": "stub-model", "choices": [], "usage": usage}) + "\n\n"
    return body + "data: [DONE]\n\n"


def text_stream(*parts: str, usage: dict | None = None) -> str:
    chunks = [chunk({"role": "assistant", "content": ""})]
    chunks += [chunk({"content": p}) for p in parts]
    chunks.append(chunk({}, "stop"))
    return sse(chunks, usage)


def tool_stream(name: str, arguments: dict, call_id: str = "call_1") -> str:
    """A tool call streamed the way OpenAI does it: name first, arguments in pieces."""
    args = json.dumps(arguments)
    half = len(args) // 2
    return sse([
        chunk({"role": "assistant", "content": None, "tool_calls": [
            {"index": 0, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[:half]}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": args[half:]}}]}),
        chunk({}, "tool_calls"),
    ])


def sse_response(body: str):
    import httpx

    return httpx.Response(200, text=body, headers={"content-type": "text/event-stream"})


def run_lines(ws: Workspace, lines: list[str], *, settings_obj=None, resume: bool = False,
              terminal: bool = False) -> tuple[str, object]:
    """Drive a Chat with piped input lines; returns (everything shown, the Chat)."""
    from persona_assistant.chat.repl import Chat

    out = io.StringIO()
    stdin = io.StringIO("".join(line + "\n" for line in lines))
    chat = Chat(ws, settings_obj or settings(), resume=resume, out=out, stdin=stdin, terminal=False)
    if terminal:  # render as a terminal would, but keep reading the piped lines
        from persona_assistant.chat.render import make_console

        chat.terminal = True
        chat.console = make_console(out, terminal=True)
        chat.input.read = (lambda read: (lambda prompt="": read()))(chat.input.read)
    chat.run()
    return out.getvalue(), chat


def make_analysis():
    """A small CRM analysis: Software better, Retail worse, Media not significant."""
    from persona_assistant.schemas import Analysis, DataSufficiency, Segment, SegmentStats

    def seg(sid, won, closed, lo, hi, verdict, lift):
        return Segment(id=sid, dimensions=dict([sid.split("=")]), closed=closed, won=won, lost=closed - won,
                       win_rate=won / closed, ci_low=lo, ci_high=hi, verdict=verdict, lift=lift,
                       deal_ids=[f"D{i}" for i in range(closed)])

    return Analysis(
        baseline=SegmentStats(closed=200, won=80, lost=120, win_rate=0.4, ci_low=0.33, ci_high=0.47),
        dimensions=["industry"], min_support=30, correction="Holm", verdict="Software wins more often.",
        segments=[seg("industry=Retail", 10, 60, 0.09, 0.28, "worse", 0.42),
                  seg("industry=Software", 45, 70, 0.53, 0.75, "better", 1.6),
                  seg("industry=Media", 25, 70, 0.25, 0.47, "not significant", 0.9)],
        icp_candidates=["industry=Software"], anti_icp=["industry=Retail"],
        sufficiency=DataSufficiency(won=80, lost=120, verdict="sufficient"))
