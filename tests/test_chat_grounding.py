"""Grounded chat answers (chat/grounding.py): citations checked by code, uncited sentences marked.

Chat-level tests run the real openai client with the endpoint mocked by respx (chat_helpers)."""

from __future__ import annotations

import json

import pytest
import respx
from chat_helpers import (
    BASE_URL, make_analysis, make_workspace, run_lines, sse_response, text_stream, tool_stream,
)

from persona_assistant.chat.context import Context
from persona_assistant.chat.grounding import LEGEND, OWN_WORDS, Grounder, ground, sentence_end
from persona_assistant.chat.tool_schemas import TOOL_NAMES
from persona_assistant.chat.tools import HANDLERS, run_tool

REAL = "We reconcile bank feeds by hand and it takes three full days every month."  # notes/dana.md:7
LATER = "I want the close done in five days without overtime for my team."  # notes/dana.md:9
ASKED = "What slows your month-end close?"  # the interviewer, notes/dana.md:6


@pytest.fixture
def ws(tmp_path):
    return make_workspace(tmp_path / "ws")


def answer_lines(shown: str) -> list[str]:
    return [line for line in shown.splitlines() if line.strip()]


@respx.mock(base_url=BASE_URL)
def test_a_cited_sentence_shows_its_citation_and_no_mark(respx_mock, ws):
    respx_mock.post("/chat/completions").mock(return_value=sse_response(text_stream(
        "Manual bank reconciliation takes the CFO three days [cfo.pains[0]]. ",
        f'Dana put it plainly: "{REAL}" (notes/dana.md:7)\n')))
    shown, _ = run_lines(ws, ["What slows the close?"])
    lines = answer_lines(shown)
    assert lines[0] == ("Manual bank reconciliation takes the CFO three days [cfo.pains[0]]. "
                        f'Dana put it plainly: "{REAL}" (notes/dana.md:7)')
    assert OWN_WORDS not in shown and "unverified" not in shown and LEGEND not in shown


@respx.mock(base_url=BASE_URL)
def test_a_fabricated_quote_is_flagged(respx_mock, ws):
    respx_mock.post("/chat/completions").mock(return_value=sse_response(text_stream(
        'The CFO said "Our auditors hate every spreadsheet we send them." (notes/dana.md:10)\n')))
    shown, chat = run_lines(ws, ["What do auditors say?"])
    assert answer_lines(shown)[0] == ('The CFO said "Our auditors hate every spreadsheet we send them." '
                                      "(notes/dana.md:10) [unverified: quote not in notes/dana.md]")
    assert LEGEND in shown
    saved = [m for m in chat.session.messages if m["role"] == "assistant"][-1]
    assert "unverified" not in saved["content"]  # the marks are the tool's, not the model's words


@respx.mock(base_url=BASE_URL)
def test_an_uncited_sentence_is_marked_as_the_models_own_words(respx_mock, ws):
    respx_mock.post("/chat/completions").mock(return_value=sse_response(text_stream(
        "The main pains of the CFO include overloading and overcomplicating. ",
        "Bank reconciliation is manual [cfo.pains[0]].")))
    shown, _ = run_lines(ws, ["Main pains?"])
    assert answer_lines(shown)[:2] == [
        f"The main pains of the CFO include overloading and overcomplicating. {OWN_WORDS} "
        "Bank reconciliation is manual [cfo.pains[0]].",
        LEGEND]


@respx.mock(base_url=BASE_URL)
def test_the_model_cites_what_a_tool_gave_it_and_the_check_accepts_it(respx_mock, ws):
    """search_evidence hands out `cite`; an answer built from it passes the check."""
    route = respx_mock.post("/chat/completions").mock(side_effect=[
        sse_response(tool_stream("search_evidence", {"query": "close five days"})),
        sse_response(text_stream(f'The CFO wants a faster close: "{LATER}" (notes/dana.md:9)')),
    ])
    shown, _ = run_lines(ws, ["What does the CFO want?"])
    tool_result = json.loads(json.loads(route.calls[1].request.content)["messages"][-1]["content"])
    found = tool_result["results"][0]
    assert found["text"] == LATER and found["cite"] == f"({found['path']}:9)"  # (the name in the path is redacted)
    assert f'"{LATER}" (notes/dana.md:9)' in shown and "unverified" not in shown and OWN_WORDS not in shown


@respx.mock(base_url=BASE_URL)
def test_the_system_prompt_asks_for_citations_in_the_checked_forms(respx_mock, ws):
    route = respx_mock.post("/chat/completions").mock(return_value=sse_response(text_stream("Fine.")))
    run_lines(ws, ["hi"])
    system = json.loads(route.calls[0].request.content)["messages"][0]["content"]
    assert "Manual bank reconciliation takes three days [cfo.pains[0]]" in system
    assert "[segment:ID]" in system and "your own words" in system


def test_quotes_are_checked_as_in_drafts(ws):
    ctx = Context(ws)
    out, judged = ground(
        f'Off by two lines: "{REAL}" (notes/dana.md:9). '
        f'Uncited but real: "{LATER}" says Dana. '
        f'The interviewer asked "{ASKED}" (notes/dana.md:6). '
        'Scare quotes like "pain point" are no quote at all.\n', ctx)
    assert [j.status for j in judged] == ["cited", "cited", "flagged", "own"]
    assert f'"{REAL}" (notes/dana.md:9). [quote verified at notes/dana.md:7]' in out
    assert f'"{LATER}" says Dana. [quote verified at notes/dana.md:9]' in out
    assert "[unverified: notes/dana.md:6 is not the interviewee's words]" in out


def test_item_segment_and_line_references_must_exist(ws):
    ctx = Context(ws)
    ctx._analysis = make_analysis()
    out, judged = ground(
        "Software wins more often than the baseline [segment:industry=Software].\n"
        "Retail deals close at a great rate [segment:industry=Toys].\n"
        "Maya wants a faster close [cfo.goals[0]] and fears audits [cfo.objections[0]].\n"
        "Someone else worries about payroll [ceo.pains[0]].\n"
        "Dana talks about overtime (notes/dana.md:99).\n", ctx)
    assert [j.status for j in judged] == ["cited", "flagged", "flagged", "flagged", "flagged"]
    assert "[unverified: no segment 'industry=Toys' in the analysis]" in out
    assert "[cfo.objections[0]]. [unverified: cfo has no objections[0]]" in out
    assert "[unverified: no persona 'ceo']" in out
    assert "[unverified: notes/dana.md has no line 99]" in out


def test_a_percentage_next_to_a_segment_must_be_its_figure(ws):
    ctx = Context(ws)
    ctx._analysis = make_analysis()  # Software: 45/70 won, 64.3%, CI 53%-75%; baseline 40%
    out, judged = ground(
        "Software wins 64% of its deals (95% CI 53%-75%) against 40% overall [segment:industry=Software].\n"
        "Software wins 64.3% of deals [segment:industry=Software].\n"
        "Software wins 82% of deals [segment:industry=Software].\n", ctx)
    assert [j.status for j in judged] == ["cited", "cited", "flagged"]
    assert "[unverified: 82% is no figure of the cited segment]" in out


def test_what_is_not_a_claim_is_not_judged(ws):
    out, judged = ground("## Pains\nIn short:\nSure.\n```\ncode that says nothing of the workspace\n```\n"
                         "(answer cut at the output limit)\n", Context(ws))
    assert judged == [] and OWN_WORDS not in out


@pytest.mark.parametrize("size", [1, 3, 11])
def test_a_streamed_answer_is_marked_as_the_whole_answer_would_be(ws, size):
    answer = (f'Sure, here is what I found. Dana said "{REAL}" (notes/dana.md:7) and more.\n'
              "- Costs 3.5 days, e.g. for most teams.\n| pain | manual reconciliation of bank feeds |\n")
    whole, _ = ground(answer, Context(ws))
    g = Grounder(Context(ws))
    streamed = "".join(g.feed(answer[i:i + size]) for i in range(0, len(answer), size)) + g.flush()
    assert streamed == whole
    assert "Sure, here is what I found. [own words] Dana said" in whole
    assert "e.g. for most teams. [own words]" in whole  # an abbreviation does not end the sentence
    assert "| pain | manual reconciliation of bank feeds [own words] |" in whole  # the mark stays in the row


def test_sentences_end_after_the_citation_that_follows_them():
    text = "Close takes days [cfo.pains[0]]. Next one."
    assert text[: sentence_end(text, final=False)] == "Close takes days [cfo.pains[0]]. "
    quoted = 'She said "It hurts." (notes/a.md:3) Then more.'
    assert quoted[: sentence_end(quoted, final=False)] == 'She said "It hurts." (notes/a.md:3) '
    assert sentence_end("Still going [cfo.pains", final=False) is None


def test_every_tool_offered_to_the_model_has_a_handler(ws):
    assert set(HANDLERS) == set(TOOL_NAMES)
    assert json.loads(run_tool(Context(ws), "drop_tables", {}))["error"] == "unknown tool 'drop_tables'"
    persona = json.loads(run_tool(Context(ws), "get_persona", {"persona": "cfo"}))
    assert persona["pains"][0]["cite"] == "[cfo.pains[0]]"


@respx.mock(base_url=BASE_URL)
def test_a_recorded_small_model_answer_is_shown_as_its_own_words_sentence_by_sentence(respx_mock, ws):
    """SmolLM2-135M's real answer (fixtures/recorded) invents figures and a segment and cites nothing."""
    from recorded_kit import load

    recorded = load("smollm2-chat-segment-answer")
    text = recorded["content"]
    respx_mock.post("/chat/completions").mock(return_value=sse_response(
        text_stream(*[text[i:i + 7] for i in range(0, len(text), 7)])))  # streamed in small pieces
    shown, chat = run_lines(ws, ["Which segment wins most often?"])
    lines = answer_lines(shown)
    assert lines[0] == ("Based on the data, there is an overall lower scoring segment (15%) compared to the other "
                        f"segments. {OWN_WORDS} This can be understood by looking at the distribution of each "
                        "segment within a persona:")
    assert shown.count(OWN_WORDS) == 5 + 1  # every sentence but the one ending in ":", and the legend
    assert lines[-1] == LEGEND and "unverified" not in shown.replace(LEGEND, "")
    assert chat.session.messages[-1]["content"] == text  # saved as the model said it
