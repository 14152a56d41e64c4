"""End to end through the real openai client (respx at the HTTP layer): none of the PII probes is in
any request body, in drafting or in chat, and answers come back with the original values exactly."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import respx
from pydantic import BaseModel

from chat_helpers import make_workspace, run_lines, sse_response, text_stream
from persona_assistant.services.drafting import draft_personas
from persona_assistant.llm.client import LLM
from persona_assistant.llm.settings import LLMSettings, SecretStr
from persona_assistant.llm.store import Store
from persona_assistant.workspace import Workspace
from pii_probes import KNOWN_PEOPLE, NEGATIVES, POSITIVES
from test_draft import completion

BASE = "http://llm.test/v1"
ECHOED = "Tomasz said the bank feed breaks every Monday."


def probe_values() -> list[str]:
    return [v for _, v in POSITIVES] + KNOWN_PEOPLE


def sent_text(request: httpx.Request) -> str:
    """Every string of the request body, unescaped (json.dumps escapes non-ASCII names)."""
    return json.dumps(json.loads(request.content), ensure_ascii=False)


def assert_no_probe_in(bodies: list[str]) -> None:
    leaked = sorted({v for v in probe_values() for b in bodies if v.lower() in b.lower()})
    assert not leaked, f"{len(leaked)} of {len(probe_values())} probe values reached the provider: {leaked}"


def write_probe_workspace(root) -> Workspace:
    """Known people come from front matter (name, interviewer) and the CRM; the rest of the probes sit
    in the interviewee's body text."""
    ws = Workspace(root)
    ws.notes_dir.mkdir(parents=True)
    ws.crm_dir.mkdir(parents=True)
    lines = ["---", f"name: {KNOWN_PEOPLE[0]}", "role: Controller", "company: Lumen Freight",
             f"interviewer: {KNOWN_PEOPLE[1]}", "---", "", "**Interviewer:** Tell me about the close.", ""]
    for text, _ in POSITIVES + [(t, "") for t in NEGATIVES]:
        lines += [f"**Marisol:** {text}", ""]
    (ws.notes_dir / "probe.md").write_text("\n".join(lines), encoding="utf-8")
    (ws.crm_dir / "deals.csv").write_text(
        "Deal Name,Deal Stage,Amount,Deal owner,Associated Company\n"
        f"Lumen - Core,Closed Won,100,{KNOWN_PEOPLE[2]},Lumen Freight\n", encoding="utf-8")
    return ws


def test_drafting_sends_no_probe_and_restores_quotes_exactly(tmp_path):
    ws = write_probe_workspace(tmp_path / "ws")
    bodies: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        bodies.append(sent_text(request))
        user = body["messages"][-1]["content"]
        # the model copies the redacted line it was shown, placeholders and all
        redacted = re.search(r"<PERSON_\d+> said the bank feed breaks every Monday\.", user).group(0)
        name = body.get("response_format", {}).get("json_schema", {}).get("name", "")
        line = next(i for i, t in enumerate((ws.notes_dir / "probe.md").read_text().splitlines(), 1) if ECHOED in t)
        if name == "ExtractedEvidence":
            return completion({"source_id": "probe", "role": "Controller", "seniority": "manager",
                               "function": "finance", "buying_role": "champion", "items": [
                                   {"category": "pains", "line_start": line, "line_end": line,
                                    "quote": redacted, "summary": "bank feeds break"}]})
        quote = {"kind": "quote", "source_id": "probe", "path": "notes/probe.md", "line_start": line,
                 "line_end": line, "text": redacted}
        return completion({"id": "x", "name": "Controller Cora", "archetype": "Owns the close", "role": "Controller",
                           "seniority": "manager", "function": "finance", "buying_role": "champion",
                           "pains": [{"text": "Bank feeds break", "evidence": [quote], "confidence": "medium",
                                      "status": "supported"}], "quotes": [quote]})

    settings = LLMSettings(model="m", base_url=BASE, api_key=SecretStr("sk-test"), timeout=5.0, max_retries=0)
    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(f"{BASE}/chat/completions").mock(side_effect=server)
        pset, _version, _notes = draft_personas(ws, settings)
    assert len(bodies) >= 2
    assert_no_probe_in(bodies)
    assert "2024-03-12" in bodies[0] and "94107" in bodies[0] and "NetSuite" in bodies[0]  # not PII: sent as is
    assert [q.text for q in pset.personas[0].quotes] == [ECHOED]  # restored to the file's own words
    rows = [r for r in Store.existing(ws).recent(10) if r["status"] == "ok"]
    assert rows and all(r["redacted"] >= len(POSITIVES) - 5 for r in rows if r["task"].startswith("extract"))


@pytest.fixture
def chat_ws(tmp_path):
    ws = make_workspace(tmp_path / "ws")
    (ws.notes_dir / "more.md").write_text(
        f"---\nname: {KNOWN_PEOPLE[0]}\ninterviewer: {KNOWN_PEOPLE[1]}\n---\n**{KNOWN_PEOPLE[2]}:** We close late.\n",
        encoding="utf-8")
    return ws


@respx.mock(base_url="http://chat-stub.test/v1")
def test_chat_sends_no_probe_in_any_turn_and_restores_answers(respx_mock, chat_ws):
    bodies: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        bodies.append(sent_text(request))
        last = json.loads(request.content)["messages"][-1]["content"]
        return sse_response(text_stream("You said: ", last))  # echoes the redacted line back

    respx_mock.post("/chat/completions").mock(side_effect=server)
    lines = [t for t, _ in POSITIVES]
    shown, chat = run_lines(chat_ws, lines + ["/exit"])
    assert len(bodies) == len(lines)
    assert_no_probe_in(bodies)
    answers = [m["content"] for m in chat.session.messages if m["role"] == "assistant"]
    assert answers == [f"You said: {t}" for t in lines]  # every placeholder restored exactly
    counts = [r["redacted"] for r in Store.existing(chat_ws).recent(len(lines))]
    assert counts[0] > counts[-1] >= 1  # the later turn carries the earlier turns' values too


class Reply(BaseModel):
    text: str


def test_an_llm_given_only_the_workspace_redacts_its_names_and_logs_the_count(tmp_path):
    """Chat and campaign build LLM(settings, ws=ws): the workspace's known names apply there too."""
    ws = write_probe_workspace(tmp_path / "ws")
    said = f"{KNOWN_PEOPLE[1].lower()} met {KNOWN_PEOPLE[2]} on 2024-03-12"  # interviewer; CRM deal owner
    bodies: list[str] = []

    def server(request: httpx.Request) -> httpx.Response:
        bodies.append(sent_text(request))
        return completion({"text": re.search(r"<PERSON_\d+> met <PERSON_\d+>", bodies[-1]).group(0)})

    with respx.mock(assert_all_mocked=True) as mock:
        mock.post(f"{BASE}/chat/completions").mock(side_effect=server)
        settings = LLMSettings(model="m", base_url=BASE, api_key=SecretStr("sk-test"), timeout=5.0, max_retries=0,
                               cache=False)
        value = LLM(settings, ws=ws).structured("t", [{"role": "user", "content": said}], Reply).value
        assert value.text == f"{KNOWN_PEOPLE[1].lower()} met {KNOWN_PEOPLE[2]}"
        mock.post(f"{BASE}/chat/completions").mock(return_value=completion({"text": "ok"}))
        LLM(settings.model_copy(update={"redact": False}), ws=ws).structured(
            "t", [{"role": "user", "content": said}], Reply)
    assert_no_probe_in(bodies)
    rows = Store.existing(ws).recent(2)
    assert [r["redacted"] for r in rows] == [None, 2]  # --no-redact: nothing counted
