"""The chat through the real openai client, with the endpoint mocked by respx at the HTTP layer."""

from __future__ import annotations

import json
import re

import httpx
import pytest
import respx

from chat_helpers import (
    BASE_URL, make_workspace, run_lines, sse_response, text_stream, tool_stream,
)
from persona_assistant.schemas import PersonaSet


@pytest.fixture
def ws(tmp_path):
    return make_workspace(tmp_path / "ws")


def saved(ws):
    return json.loads((ws.state_dir / "chat" / "conversation.json").read_text())


def bodies(route):
    return [json.loads(call.request.content) for call in route.calls]


@respx.mock(base_url=BASE_URL, assert_all_called=True)
def test_streamed_answer_is_shown_in_order_and_saved(respx_mock, ws):
    route = respx_mock.post("/chat/completions").mock(return_value=sse_response(
        text_stream("First", " part, ", "then the **second**.", usage={"prompt_tokens": 120, "completion_tokens": 9,
                                                                        "total_tokens": 129})))
    shown, chat = run_lines(ws, ["What do CFOs worry about?", "/exit"])
    assert "First part, then the **second**." in shown
    request = bodies(route)[0]
    assert request["stream"] is True and request["model"] == "stub-model"
    assert request["messages"][0]["role"] == "system" and "Maya, the CFO" in request["messages"][0]["content"]
    assert request["messages"][-1] == {"role": "user", "content": "What do CFOs worry about?"}
    assert {t["function"]["name"] for t in request["tools"]} >= {"lookup_segments", "propose_edit"}
    conv = saved(ws)
    assert [(m["role"], m["content"]) for m in conv["messages"]] == [
        ("user", "What do CFOs worry about?"), ("assistant", "First part, then the **second**.")]
    assert conv["usage"] == {"prompt_tokens": 120, "completion_tokens": 9}


@respx.mock(base_url=BASE_URL)
def test_terminal_rendering_is_markdown_and_keeps_order(respx_mock, ws):
    respx_mock.post("/chat/completions").mock(return_value=sse_response(
        text_stream("alpha ", "**beta**", "\n\n", "- gamma\n", "- delta")))
    shown, _ = run_lines(ws, ["hi", "/exit"], terminal=True)
    assert "**" not in shown  # rendered, not echoed
    order = [shown.rfind(w) for w in ("alpha", "beta", "gamma", "delta")]
    assert all(i >= 0 for i in order) and order == sorted(order)
    assert "stub-model" in shown  # the status line


@respx.mock(base_url=BASE_URL)
def test_tool_call_round_trip_lookup_then_answer(respx_mock, ws):
    route = respx_mock.post("/chat/completions").mock(side_effect=[
        sse_response(tool_stream("get_persona", {"persona": "cfo"})),
        sse_response(text_stream("Maya's main pain is manual reconciliation (notes/dana.md:7).")),
    ])
    shown, _ = run_lines(ws, ["What is Maya's main pain?", "/exit"])
    assert route.call_count == 2
    second = bodies(route)[1]["messages"]
    call_msg, tool_msg = second[-2], second[-1]
    assert call_msg["role"] == "assistant" and call_msg["tool_calls"][0]["function"]["name"] == "get_persona"
    assert json.loads(call_msg["tool_calls"][0]["function"]["arguments"]) == {"persona": "cfo"}
    assert tool_msg["role"] == "tool" and tool_msg["tool_call_id"] == "call_1"
    result = json.loads(tool_msg["content"])
    assert result["id"] == "cfo" and result["pains"][0]["evidence"][0]["line_start"] == 7
    assert "manual reconciliation (notes/dana.md:7)" in shown
    assert [m["role"] for m in saved(ws)["messages"]] == ["user", "assistant", "tool", "assistant"]


@respx.mock(base_url=BASE_URL)
def test_search_evidence_tool_returns_interviewee_sentences_only(respx_mock, ws):
    route = respx_mock.post("/chat/completions").mock(side_effect=[
        sse_response(tool_stream("search_evidence", {"query": "month close"})),
        sse_response(text_stream("done")),
    ])
    run_lines(ws, ["find quotes about the close", "/exit"])
    result = json.loads(bodies(route)[1]["messages"][-1]["content"])
    texts = [r["text"] for r in result["results"]]
    assert any("three full days every month" in t for t in texts)
    assert not any("What slows" in t for t in texts)  # the interviewer's question is not evidence
    # notes/dana.md: a file named after the interviewee is sent with the name redacted (llm/redact.py)
    assert all(re.fullmatch(r"notes/<PERSON_\d+>\.md", r["path"]) for r in result["results"])


@pytest.mark.parametrize("args, reason", [
    ({"persona_id": "cfo", "path": "quotes[1]",
      "value": {"source_id": "dana", "path": "notes/dana.md", "line_start": 9, "line_end": 9,
                "text": "We will never pay for software again, ever."}}, "quote not found"),
    ({"persona_id": "cfo", "path": "buying_role", "value": "wizard"}, "buying_role"),
    ({"persona_id": "cfo", "path": "id", "value": "boss"}, "fixed"),
    ({"persona_id": "nobody", "path": "role", "value": "CEO"}, "no persona"),
    ({"persona_id": "cfo", "path": "goals[0].status", "value": "supported"}, "evidence"),
])
@respx.mock(base_url=BASE_URL)
def test_invalid_edit_proposal_is_not_applied(respx_mock, ws, args, reason):
    route = respx_mock.post("/chat/completions").mock(side_effect=[
        sse_response(tool_stream("propose_edit", args)),
        sse_response(text_stream("Sorry, that edit was rejected.")),
    ])
    before = ws.versions("personas")
    shown, _ = run_lines(ws, ["change it", "y", "/exit"])  # a "y" must not apply a rejected edit
    assert ws.versions("personas") == before
    result = json.loads(bodies(route)[1]["messages"][-1]["content"])
    assert result["status"] == "rejected" and reason in result["reason"]
    assert "proposed edit" not in shown


@respx.mock(base_url=BASE_URL)
def test_accepted_edit_makes_a_new_version_and_undo_restores(respx_mock, ws):
    new_quote = {"source_id": "dana", "path": "notes/dana.md", "line_start": 1, "line_end": 1,
                 "text": "Our auditors keep asking for evidence we cannot pull quickly."}
    respx_mock.post("/chat/completions").mock(side_effect=[
        sse_response(tool_stream("propose_edit", {"persona_id": "cfo", "path": "quotes[1]", "value": new_quote,
                                                  "reason": "add the audit quote"})),
        sse_response(text_stream("Added.")),
    ])
    original = ws.load_version("personas", PersonaSet)
    shown, chat = run_lines(ws, ["add the audit quote", "yes", "/undo", "/history", "/exit"])
    assert "+      \"text\": \"Our auditors keep asking" in shown  # the diff was shown before asking
    assert [v.number for v in ws.versions("personas")] == [1, 2, 3]
    edited = ws.load_version("personas", PersonaSet, 2)
    quote = edited.personas[0].quotes[1]
    assert quote.line_start == 10 and quote.line_end == 10  # corrected to where the quote really is
    assert ws.load_version("personas", PersonaSet, 3) == original
    assert "undid cfo quotes[1]: personas v0003 restores v0001" in shown
    assert "edit: cfo quotes[1] -> personas v0002, undone by v0003" in shown
    assert "user: add the audit quote" in shown and "assistant: Added." in shown
    assert saved(ws)["edits"][0]["undone_by"] == 3


@respx.mock(base_url=BASE_URL)
def test_declined_edit_changes_nothing_and_the_model_is_told(respx_mock, ws):
    route = respx_mock.post("/chat/completions").mock(side_effect=[
        sse_response(tool_stream("propose_edit", {"persona_id": "cfo", "path": "archetype", "value": "Audit hawk"})),
        sse_response(text_stream("Left as is.")),
    ])
    run_lines(ws, ["rename the archetype", "n", "/exit"])
    assert len(ws.versions("personas")) == 1
    assert "declined" in json.loads(bodies(route)[1]["messages"][-1]["content"])["status"]


class _InterruptedStream(httpx.AsyncByteStream):
    """Two SSE chunks, then the user presses Ctrl-C."""

    def __init__(self, first: str):
        self.first = first

    async def __aiter__(self):
        yield self.first.encode()
        raise KeyboardInterrupt

    async def aclose(self):
        pass


@respx.mock(base_url=BASE_URL)
def test_ctrl_c_mid_stream_keeps_the_session(respx_mock, ws):
    partial = text_stream("Half an answer").split("data: [DONE]")[0].rsplit("data:", 1)[0]  # no stop chunk
    respx_mock.post("/chat/completions").mock(side_effect=[
        httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=_InterruptedStream(partial)),
        sse_response(text_stream("Second answer.")),
    ])
    shown, chat = run_lines(ws, ["tell me everything", "/personas", "and now?", "/exit"])
    # The LLM layer holds a delta back until a space (redaction placeholders are never split).
    assert "Half an [interrupted]" in shown
    assert "cfo: Maya, the CFO" in shown  # the next command still ran
    assert "Second answer." in shown
    msgs = saved(ws)["messages"]
    assert msgs[1] == {"role": "assistant", "content": "Half an ", "interrupted": True, "model": "stub-model"}
    assert msgs[-1]["content"] == "Second answer."


@respx.mock(base_url=BASE_URL)
def test_endpoint_failure_ends_the_turn_not_the_session(respx_mock, ws):
    respx_mock.post("/chat/completions").mock(return_value=httpx.Response(500, json={"error": {"message": "boom"}}))
    shown, _ = run_lines(ws, ["hello", "/personas", "/exit"])
    assert "error: chat: model endpoint chat-stub.test answered HTTP 500" in shown
    assert "cfo: Maya, the CFO" in shown


AZURE_OLD = {"error": {"message": "Unrecognized request argument supplied: stream_options", "type": "invalid_request_error",
                       "param": None, "code": None}}


@respx.mock(base_url=BASE_URL)
def test_server_refusing_stream_options_is_asked_again_without_them_once(respx_mock, ws):
    def server(request):
        if "stream_options" in json.loads(request.content):
            return httpx.Response(400, json=AZURE_OLD)
        return sse_response(text_stream("Plain ", "answer."))

    route = respx_mock.post("/chat/completions").mock(side_effect=server)
    shown, _ = run_lines(ws, ["first", "second", "/exit"])
    assert shown.count("Plain answer.") == 2 and "error" not in shown
    sent = bodies(route)
    assert len(sent) == 3  # one refusal, then both turns without stream_options
    assert "stream_options" in sent[0] and "stream_options" not in sent[1] and "stream_options" not in sent[2]
    assert sent[1]["messages"] == sent[0]["messages"] and sent[1]["tools"] == sent[0]["tools"]
    # unknown, not invented: two answers without counts
    assert saved(ws)["usage"] == {"prompt_tokens": 0, "completion_tokens": 0, "unknown_answers": 2}


@respx.mock(base_url=BASE_URL)
def test_other_bad_request_is_not_asked_again(respx_mock, ws):
    route = respx_mock.post("/chat/completions").mock(return_value=httpx.Response(
        400, json={"error": {"message": "messages: too many tokens", "param": "messages"}}))
    shown, _ = run_lines(ws, ["hello", "/exit"])
    assert route.call_count == 1 and "answered HTTP 400: messages: too many tokens" in shown


@respx.mock(base_url=BASE_URL)
def test_resume_sends_the_earlier_conversation(respx_mock, ws):
    route = respx_mock.post("/chat/completions").mock(side_effect=[
        sse_response(text_stream("One.")), sse_response(text_stream("Two."))])
    run_lines(ws, ["first question", "/exit"])
    run_lines(ws, ["second question", "/exit"], resume=True)
    contents = [m.get("content") for m in bodies(route)[1]["messages"][1:]]
    assert contents == ["first question", "One.", "second question"]
    run_lines(ws, ["/exit"])  # without --resume a new conversation starts (and is saved)
    assert saved(ws)["messages"] == []


@respx.mock(base_url=BASE_URL)
def test_model_output_cannot_inject_escapes_or_markup(respx_mock, ws):
    evil = ["\x1b[2J\x1b]0;pwned\x07Hi ", "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07 ",
            "[link=http://evil.example]x[/link] [bold red]y[/] ", "\x1b", "[31mred?"]
    respx_mock.post("/chat/completions").mock(side_effect=[
        sse_response(text_stream(*evil)), sse_response(text_stream(*evil))])
    plain, _ = run_lines(ws, ["hi", "/exit"])
    term, _ = run_lines(ws, ["hi", "/exit"], terminal=True)
    for shown in (plain, term):
        assert "\x1b[2J" not in shown and "\x1b]" not in shown and "\x07" not in shown
        assert "\x1b[31m" not in shown and "pwned" not in shown
        assert "[link=http://evil.example]x[/link]" in shown and "[bold red]y[/]" in shown
    # An escape split across two deltas is still removed whole.
    assert "Hi click [link=" in plain and "/] red?" in plain and "[31m" not in plain
