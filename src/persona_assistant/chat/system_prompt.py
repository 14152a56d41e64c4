"""The chat's system prompt: what the model is told about the workspace, within a budget."""

from __future__ import annotations

from typing import Any

from persona_assistant.chat.context import Context
from persona_assistant.chat.tool_schemas import TOOL_NAMES
from persona_assistant.safe_text import shorten

PROMPT_NAME = "chat"


def workspace_facts(ctx: Context, detail: int = 2) -> dict:
    """What the model is told about the workspace, at a level of detail (2 full, 0 least).
    Persona items carry their citation (`cfo.pains[0]`), segments their id: what an answer cites."""
    items = {2: 3, 1: 1, 0: 0}[detail]
    n = {2: 240, 1: 140, 0: 80}[detail]
    brief = ctx.brief()
    analysis = ctx.analysis()
    icp = ctx.icp()
    ps = ctx.personas()
    facts: dict[str, Any] = {
        "brief": {"product": shorten(brief.product, n), "category": shorten(brief.category, n),
                  "value_propositions": [shorten(v, n) for v in brief.value_propositions[: items + 2]],
                  "proof_points": [shorten(p.claim, n) for p in brief.proof_points[: items + 2]],
                  "tone": shorten(brief.tone, n)},
        "analysis": None, "icp": None, "personas": [],
    }
    if analysis is not None:
        def seg(sid: str) -> str:
            s = analysis.segment(sid)
            return (f"[segment:{sid}]: {s.won}/{s.closed} won, win rate {s.win_rate:.0%} "
                    f"(95% CI {s.ci_low:.0%}-{s.ci_high:.0%}), {s.verdict}") if s else sid
        facts["analysis"] = {
            "verdict": shorten(analysis.verdict, 2 * n),
            "sufficiency": f"{analysis.sufficiency.verdict} ({analysis.sufficiency.won} won, "
                           f"{analysis.sufficiency.lost} lost)",
            "baseline": f"{analysis.baseline.won}/{analysis.baseline.closed} won, "
                        f"win rate {analysis.baseline.win_rate:.0%}",
            "icp_candidates": [seg(s) for s in analysis.icp_candidates[: items + 2]],
            "anti_icp": [seg(s) for s in analysis.anti_icp[: items + 1]],
        }
    if icp is not None:
        facts["icp"] = {"name": shorten(icp.name, n), "summary": shorten(icp.summary, 2 * n),
                        "crm_singles_out_segment": icp.crm_singles_out_segment}
    if ps is not None:
        for p in ps.personas:
            def cited(field: str) -> list[str]:
                return [f"{shorten(c.text, n)} [{p.id}.{field}[{i}]]"
                        for i, c in enumerate(getattr(p, field)[:items])]
            facts["personas"].append({
                "id": p.id, "name": shorten(p.name, 60), "role": shorten(p.role, 80), "buying_role": p.buying_role,
                "archetype": shorten(p.archetype, n),
                "pains": cited("pains"), "goals": cited("goals"), "objections": cited("objections"),
            })
    return facts


def system_prompt(ctx: Context, budget_tokens: int = 3000) -> str:
    """The chat's system prompt within `budget_tokens` (about 4 characters a token): less
    detail about the workspace first, then a hard cut."""
    from persona_assistant.prompts import CHARS_PER_TOKEN, render

    limit = budget_tokens * CHARS_PER_TOKEN
    text = ""
    for detail in (2, 1, 0):
        text = render(PROMPT_NAME, ctx.ws, facts=workspace_facts(ctx, detail), tools=TOOL_NAMES).system
        if len(text) <= limit:
            return text
    return text[: limit - 30] + "\n[workspace facts truncated]\n"
