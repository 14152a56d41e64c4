"""Offline chat that answers: with no model, a question gets the workspace's evidence with citations."""

from __future__ import annotations

import json
import re
import shutil

import pytest
import respx

from chat_helpers import run_lines, settings
from conftest import FIXTURES
from persona_assistant.chat import retrieve
from persona_assistant.chat.session import conversation_path
from persona_assistant.services.analysis import workspace_analysis
from persona_assistant.services.drafting import draft_icp
from persona_assistant.services.drafting import draft_personas
from persona_assistant.llm.settings import LLMSettings
from persona_assistant.schemas import PersonaSet
from persona_assistant.workspace import Workspace

QUOTE_LINE = re.compile(r'^    "(?P<text>.+)" \((?P<path>[^:]+):(?P<start>\d+)(?:-(?P<end>\d+))?; '
                        r"persona (?P<pid>\S+), (?P<field>\w+)\[(?P<index>\d+)\]\)$", re.M)
SEGMENT_LINE = re.compile(r"^- segment (?P<id>\S+): win rate (?P<rate>[\d.]+%) \(95% CI (?P<low>[\d.]+%)-"
                          r"(?P<high>[\d.]+%)\), (?P<won>\d+)/(?P<closed>\d+) won", re.M)


@pytest.fixture(scope="module")
def drafted(tmp_path_factory):
    """The sample workspace with personas and ICP drafted offline (once for the module)."""
    root = tmp_path_factory.mktemp("offline-chat") / "ws"
    shutil.copytree(FIXTURES / "sample-workspace", root)
    ws = Workspace(root)
    draft_personas(ws, LLMSettings(offline=True))
    draft_icp(ws, LLMSettings(offline=True))
    return root


@pytest.fixture
def ws(drafted, tmp_path) -> Workspace:
    shutil.copytree(drafted, tmp_path / "ws")
    return Workspace(tmp_path / "ws")


def ask(ws: Workspace, *questions: str) -> str:
    """Piped chat with no model; any HTTP request fails the test (respx mocks all, routes none)."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as mock:
        shown, chat = run_lines(ws, list(questions), settings_obj=settings(offline=True))
        assert mock.calls.call_count == 0
    assert not chat.failed
    return shown


def test_finance_pain_question_returns_verbatim_quotes_at_their_cited_lines(ws):
    shown = ask(ws, "what worries the finance buyers?")
    assert retrieve.HEADER in shown and retrieve.NO_EVIDENCE not in shown
    cited = list(QUOTE_LINE.finditer(shown))
    assert cited, shown
    personas = {p.id: p for p in ws.load_version("personas", PersonaSet).personas}
    for m in cited:
        lines = (ws.root / m["path"]).read_text(encoding="utf-8").splitlines()
        span = lines[int(m["start"]) - 1: int(m["end"] or m["start"])]
        assert m["text"] in " ".join(" ".join(span).split()), (m["path"], m["start"], m["text"])
        claim = getattr(personas[m["pid"]], m["field"])[int(m["index"])]  # the cited item holds that quote
        assert m["text"] in [" ".join(e.text.split()) for e in claim.evidence]
    first = cited[0]
    assert first["field"] in ("pains", "objections")
    assert personas[first["pid"]].function == "finance"


def test_segment_question_returns_segment_figures_equal_to_the_analysis(ws):
    shown = ask(ws, "which segments win most?")
    rows = list(SEGMENT_LINE.finditer(shown))
    assert rows, shown
    analysis = workspace_analysis(ws, keep=False)
    for m in rows:
        s = analysis.segment(m["id"])
        assert s is not None, m["id"]
        assert m["rate"] == f"{s.win_rate:.1%}" and m["low"] == f"{s.ci_low:.1%}" and m["high"] == f"{s.ci_high:.1%}"
        assert (int(m["won"]), int(m["closed"])) == (s.won, s.closed)
    assert rows[0]["id"] in {s.id for s in analysis.segments if s.verdict == "better"}


def test_unrelated_question_says_no_evidence(ws):
    shown = ask(ws, "what is the capital of France?")
    assert retrieve.NO_EVIDENCE in shown
    assert retrieve.HEADER not in shown and not QUOTE_LINE.search(shown) and not SEGMENT_LINE.search(shown)


def test_offline_answers_are_saved_as_retrieved_evidence_not_model_turns(ws):
    ask(ws, "what worries the finance buyers?", "what is the capital of France?")
    messages = json.loads(conversation_path(ws).read_text(encoding="utf-8"))["messages"]
    answers = [m for m in messages if m["role"] == "assistant"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert all(m.get("retrieved") is True and m["content"].startswith(retrieve.SAVED_MARK) for m in answers)
    assert retrieve.NO_EVIDENCE in answers[1]["content"]


def test_threshold_separates_related_from_unrelated_questions(ws):
    """The measured threshold (see chat/retrieve.py) holds on the sample workspace."""
    from persona_assistant.chat.tools import Context

    items = retrieve.persona_items(Context(ws))
    best = {q: retrieve.rank(q, items)[0].score for q in (
        "what worries the finance buyers?", "what do controllers measure?", "what slows the month-end close?",
        "what is the capital of France?", "recipe for pancakes", "how do I bake bread?")}
    related, unrelated = list(best.values())[:3], list(best.values())[3:]
    assert min(related) >= retrieve.THRESHOLD > max(unrelated), best


def test_segment_words_do_not_pull_in_persona_items(ws):
    """'win' in a segment question is about the CRM, not a persona item that happens to say 'win'."""
    shown = ask(ws, "which segments win most?")
    assert SEGMENT_LINE.search(shown) and not QUOTE_LINE.search(shown)


def test_evidence_is_shown_as_inert_text(tmp_path):
    """Claim text is untrusted: rich markup is shown literally, escape sequences are removed."""
    from chat_helpers import make_workspace

    ws = make_workspace(tmp_path / "ws")
    ps = ws.load_version("personas", PersonaSet)
    pain = ps.personas[0].pains[0]
    ps.personas[0].pains[0] = pain.model_copy(update={"text": "[bold red]Manual[/] reconciliation\x1b[31m takes days"})
    ws.save_version("personas", ps)
    shown = ask(ws, "what pains slow the reconciliation?")
    assert "[bold red]Manual[/] reconciliation takes days" in shown and "\x1b" not in shown
    assert '(notes/dana.md:7; persona cfo, pains[0])' in shown
