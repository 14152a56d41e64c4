"""How many model requests a persona draft makes as the notes grow (model mocked by respx: nothing leaves
the machine, the real openai client and the real drafting code run).

A persona draft asks one item per note part (evidence extraction), one grouping item (two notes or
more) and one synthesis item per group; each item takes one answer plus at most the re-asks the answer
budget allows (llm/answers.py), each answer one HTTP request here (max_retries=0; the SDK's transport
retries would add attempts of the same answer). Printed for 5, 10 and 20 notes, twice: with answers that
pass at once (the usual case) and with extraction answers that are never usable (every item spends its
whole answer budget; the draft then stops with "no usable answer").

    .venv/bin/python bench/bench_requests.py [--notes 5 10 20]
"""

from __future__ import annotations

import argparse
import itertools
import json
import tempfile
from collections import Counter
from pathlib import Path

import httpx
import respx

BASE = "http://bench-model.test/v1"
ROLES = [("CFO", "finance", "c_level"), ("Head of Demand Generation", "marketing", "director"),
         ("RevOps Manager", "operations", "manager")]
NOTE = """---
name: Person {n}
role: {role}
company: Company {n}
---

**Interviewer:** What slows you down?

**Person {n}:** Every month we rebuild the same spreadsheet by hand, and it takes {n} extra days.

**Interviewer:** What would you change first?

**Person {n}:** I want one report that the board trusts without a second check.
"""


def write_workspace(root: Path, notes: int) -> list[tuple[str, str]]:
    """`notes` short interviews over three role families; returns (source id, function) per note."""
    (root / "notes").mkdir(parents=True)
    made = []
    for n in range(1, notes + 1):
        role, function, _ = ROLES[n % len(ROLES)]
        sid = f"interview-{n:02d}"
        (root / "notes" / f"{sid}.md").write_text(NOTE.format(n=n, role=role), encoding="utf-8")
        made.append((sid, function))
    return made


def completion(content) -> httpx.Response:
    text = content if isinstance(content, str) else json.dumps(content)
    return httpx.Response(200, json={
        "id": "c", "object": "chat.completion", "created": 0, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}],
        "usage": {"prompt_tokens": 100, "completion_tokens": 50, "total_tokens": 150}})


def endpoint(made: list[tuple[str, str]], usable: bool):
    """A stand-in model answering by the response schema's name; counts requests per schema."""
    asked: Counter[str] = Counter()
    garbage = itertools.count()

    def answer(request: httpx.Request) -> httpx.Response:
        name = json.loads(request.content)["response_format"]["json_schema"]["name"]
        asked[name] += 1
        if name == "ExtractedEvidence":
            if not usable:  # never JSON, never the same twice (an identical answer would end the re-asks)
                return completion(f"I cannot answer that ({next(garbage)})")
            return completion({"role": "unknown", "seniority": "unknown", "function": "unknown",
                               "buying_role": "unknown", "items": []})
        if name == "PersonaGrouping":
            groups: dict[str, list[str]] = {}
            for sid, function in made:
                groups.setdefault(function, []).append(sid)
            return completion({"groups": [{"id": f, "label": f, "role": f, "function": f, "seniority": "unknown",
                                           "source_ids": ids, "rationale": "same function"}
                                          for f, ids in groups.items()], "ungrouped": []})
        return completion({"id": "p", "name": "A persona", "archetype": "a", "role": "r", "seniority": "unknown",
                           "function": "unknown", "buying_role": "unknown"})
    return answer, asked


def draft(notes: int, usable: bool) -> tuple[Counter, str]:
    from persona_assistant.errors import PersonaError
    from persona_assistant.llm.settings import LLMSettings, SecretStr
    from persona_assistant.services.drafting import draft_personas
    from persona_assistant.workspace import Workspace

    settings = LLMSettings(model="bench-model", base_url=BASE, api_key=SecretStr("sk-bench"), timeout=5.0,
                           max_retries=0, cache=False)
    with tempfile.TemporaryDirectory(prefix="bench-requests-") as tmp:
        made = write_workspace(Path(tmp), notes)
        answer, asked = endpoint(made, usable)
        with respx.mock(assert_all_mocked=True) as mock:
            route = mock.post(f"{BASE}/chat/completions").mock(side_effect=answer)
            try:
                pset, _, _ = draft_personas(Workspace(Path(tmp)), settings)
                outcome = f"{len(pset.personas)} personas"
            except PersonaError as exc:
                outcome = f"stopped: {exc.message[:60]}"
        asked["total"] = route.call_count
    return asked, outcome


def main() -> None:
    from persona_assistant.llm.loop import ANSWERS_PER_CALL

    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=int, nargs="+", default=[5, 10, 20])
    args = ap.parse_args()
    print(f"answer budget per item: at most {ANSWERS_PER_CALL} answers (llm/loop.py); max_retries=0 (one HTTP request "
          "per answer)")
    for usable, label in ((True, "answers usable at once"), (False, "extraction answers never usable")):
        print(label + ":")
        for n in args.notes:
            asked, outcome = draft(n, usable)
            print(f"  {n:>3} notes: {asked['total']:>3} requests per persona draft (extraction "
                  f"{asked['ExtractedEvidence']}, grouping {asked['PersonaGrouping']}, synthesis "
                  f"{asked['Persona']}); {outcome}")


if __name__ == "__main__":
    main()
