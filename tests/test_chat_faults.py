"""Model faults in chat and on the command line: a clear one-line error, no answer saved, no key
shown or stored. The real openai client runs; HTTP is mocked by respx."""

from __future__ import annotations

import json
import sqlite3
import sys

import httpx
import pytest
import respx

from chat_helpers import BASE_URL, chunk, make_workspace, run_lines, sse, sse_response, text_stream
from persona_assistant.llm.faults import SECRET_RUN

CANARY = "sk-CanaryR4t8Yu2Wq6Pl0Zx3Mn7Bv5Cd9"  # never a real key
HTML = "<!DOCTYPE html><html><head><title>Sign in - Corporate Proxy</title></head><body>" + "y" * 300


@pytest.fixture
def ws(tmp_path):
    return make_workspace(tmp_path / "ws")


def conversation(ws) -> list[dict]:
    return json.loads((ws.state_dir / "chat" / "conversation.json").read_text())["messages"]


def truncated(*parts: str) -> str:
    """Chunks with text and no finish reason, then the connection closes (no [DONE])."""
    body = sse([chunk({"role": "assistant", "content": ""})] + [chunk({"content": p}) for p in parts])
    return body.replace("data: [DONE]\n\n", "")


@respx.mock(base_url=BASE_URL, assert_all_called=True)
def test_html_page_with_status_200_is_a_clear_error_and_nothing_is_saved(respx_mock, ws):
    respx_mock.post("/chat/completions").mock(side_effect=[
        httpx.Response(200, text=HTML, headers={"content-type": "text/html; charset=utf-8"}),
        sse_response(text_stream("Second ", "try."))])
    shown, _ = run_lines(ws, ["What slows the close?", "And now?", "/exit"])
    errors = [ln for ln in shown.splitlines() if ln.startswith("error:")]
    assert errors == ["error: chat: model endpoint chat-stub.test answered text/html instead of an event stream: "
                      "'<!DOCTYPE html><html><head><title>Sign in - Corporate Proxy</title></head><body>...'"]
    assert [(m["role"], m["content"]) for m in conversation(ws)] == [("user", "And now?"),
                                                                      ("assistant", "Second try.")]


@respx.mock(base_url=BASE_URL, assert_all_called=True)
def test_truncated_stream_is_shown_interrupted_and_not_saved(respx_mock, ws):
    respx_mock.post("/chat/completions").mock(return_value=httpx.Response(
        200, text=truncated("Reconciliation ", "takes three ", "da"), headers={"content-type": "text/event-stream"}))
    shown, chat = run_lines(ws, ["What slows the close?", "/exit"])
    assert "Reconciliation takes three da (answer interrupted: the stream ended without a finish reason)" in shown
    errors = [ln for ln in shown.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "chat-stub.test" in errors[0] and "not kept" in errors[0]
    assert conversation(ws) == [] and chat.session.messages == []


@respx.mock(base_url=BASE_URL, assert_all_called=True)
def test_truncated_stream_on_a_terminal_shows_the_note(respx_mock, ws):
    respx_mock.post("/chat/completions").mock(return_value=httpx.Response(
        200, text=truncated("Half ", "an answer"), headers={"content-type": "text/event-stream"}))
    shown, _ = run_lines(ws, ["hi", "/exit"], terminal=True)
    assert "(answer interrupted: the stream ended without a finish reason)" in shown
    assert conversation(ws) == []


@respx.mock(base_url=BASE_URL, assert_all_called=True)
def test_a_fault_after_a_tool_round_keeps_the_complete_round_only(respx_mock, ws):
    from chat_helpers import tool_stream

    respx_mock.post("/chat/completions").mock(side_effect=[
        sse_response(tool_stream("get_persona", {"persona": "cfo"})),
        httpx.Response(502, headers={"retry-after": "0"}, json={"error": {"message": "bad gateway"}}),
        httpx.Response(502, headers={"retry-after": "0"}, json={"error": {"message": "bad gateway"}}),
        httpx.Response(502, headers={"retry-after": "0"}, json={"error": {"message": "bad gateway"}})])
    shown, _ = run_lines(ws, ["What is Maya's main pain?", "/exit"])
    assert [ln for ln in shown.splitlines() if ln.startswith("error:")] == [
        "error: chat: model endpoint chat-stub.test answered HTTP 502 after up to 3 attempts: bad gateway"]
    assert [m["role"] for m in conversation(ws)] == ["user", "assistant", "tool"]  # the reply itself: none


def no_run_of(secret: str, text: str) -> bool:
    return not any(secret[i:i + SECRET_RUN] in text for i in range(len(secret) - SECRET_RUN + 1))


def echo_key_401() -> httpx.Response:
    return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {CANARY[3:]}. You can "
                                                          "find your API key at https://platform.example/keys"}})


@respx.mock(base_url=BASE_URL, assert_all_called=True)
def test_key_echoed_in_a_chat_error_is_masked_on_screen_and_in_the_log(respx_mock, ws):
    from chat_helpers import settings

    from persona_assistant.llm.settings import SecretStr

    respx_mock.post("/chat/completions").mock(return_value=echo_key_401())
    shown, _ = run_lines(ws, ["hi", "/exit"], settings_obj=settings().model_copy(update={"api_key": SecretStr(CANARY)}))
    assert "Incorrect API key provided: ***" in shown and no_run_of(CANARY, shown)
    dump = "\n".join(sqlite3.connect(ws.state_dir / "log.sqlite").iterdump())
    assert "401" in dump and no_run_of(CANARY, dump)


def test_key_echoed_without_prefix_never_reaches_stdout_stderr_or_the_log(ws, monkeypatch, capsys):
    from persona_assistant.cli.main import run

    monkeypatch.setenv("PERSONA_ASSISTANT_BASE_URL", BASE_URL)
    monkeypatch.setenv("PERSONA_ASSISTANT_API_KEY", CANARY)
    monkeypatch.setattr(sys, "argv", ["persona-assistant", "draft", "personas", "-w", str(ws.root)])
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as mock:
        mock.post("/chat/completions").mock(return_value=echo_key_401())
        with pytest.raises(SystemExit) as code:
            run()
    out = capsys.readouterr()
    assert code.value.code == 1 and out.out == ""
    assert out.err.splitlines()[-1].startswith("error: extract_evidence: model endpoint chat-stub.test answered "
                                               "HTTP 401: Incorrect API key provided: ***.")
    dump = "\n".join(sqlite3.connect(ws.state_dir / "log.sqlite").iterdump())
    assert "Incorrect API key provided" in dump
    assert no_run_of(CANARY, out.out + out.err + dump)


def test_html_page_while_drafting_is_one_line_exit_1_and_no_version(ws, monkeypatch, capsys):
    from persona_assistant.cli.main import run

    monkeypatch.setenv("PERSONA_ASSISTANT_BASE_URL", BASE_URL)
    monkeypatch.setattr(sys, "argv", ["persona-assistant", "draft", "personas", "-w", str(ws.root)])
    before = [v.number for v in ws.versions("personas")]
    with respx.mock(base_url=BASE_URL, assert_all_called=True) as mock:
        route = mock.post("/chat/completions").mock(return_value=httpx.Response(
            200, text=HTML, headers={"content-type": "text/html"}))
        with pytest.raises(SystemExit) as code:
            run()
    err = capsys.readouterr().err
    assert code.value.code == 1 and route.call_count == 1 and "Traceback" not in err and "unexpected" not in err
    assert err.splitlines()[-1] == ("error: extract_evidence: model endpoint chat-stub.test answered text/html "
                                    "instead of a chat completion (JSON): '<!DOCTYPE html><html><head><title>Sign "
                                    "in - Corporate Proxy</title></head><body>...'")
    assert [v.number for v in ws.versions("personas")] == before


# --------------------------------------------------------------------------- exit status


def chat_cli(monkeypatch, capsys, ws, lines: list[str]) -> tuple[int, str]:
    """`persona-assistant chat` in process with piped stdin (not a terminal); (exit code, stdout)."""
    import io

    from test_storage_errors import run_main

    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    code, out, _ = run_main(monkeypatch, capsys, "chat", "-w", str(ws.root), "--base-url", BASE_URL,
                            "--model", "stub-model")
    return code, out


FAILED = httpx.Response(500, json={"error": {"message": "boom"}})


@respx.mock(base_url=BASE_URL)
def test_a_piped_chat_whose_question_failed_exits_1_after_answering_the_rest(respx_mock, ws, monkeypatch, capsys):
    respx_mock.post("/chat/completions").mock(side_effect=[sse_response(text_stream("Fine.")), FAILED, FAILED, FAILED])
    code, out = chat_cli(monkeypatch, capsys, ws, ["first?", "second?", "/personas"])
    assert code == 1
    assert "Fine." in out and "answered HTTP 500" in out and "Maya, the CFO" in out  # it went on after the error
    respx_mock.post("/chat/completions").mock(side_effect=[FAILED, FAILED, FAILED, sse_response(text_stream("Ok."))])
    code, out = chat_cli(monkeypatch, capsys, ws, ["first?", "second?"])  # an earlier failure counts too
    assert code == 1 and "Ok." in out


@respx.mock(base_url=BASE_URL)
def test_a_piped_chat_whose_questions_were_answered_exits_0(respx_mock, ws, monkeypatch, capsys):
    respx_mock.post("/chat/completions").mock(return_value=sse_response(text_stream("Fine.")))
    assert chat_cli(monkeypatch, capsys, ws, ["first?", "/personas", "/exit"])[0] == 0
    code, out = chat_cli(monkeypatch, capsys, ws, ["/show nobody", "first?"])  # a mistyped command asks nothing
    assert code == 0 and "error: /show: no persona 'nobody'" in out and "Fine." in out


@respx.mock(base_url=BASE_URL)
def test_the_terminal_chat_keeps_going_and_exits_0_after_a_model_error(respx_mock, ws):
    import io

    from chat_helpers import settings
    from persona_assistant.chat.render import make_console
    from persona_assistant.chat.repl import Chat

    respx_mock.post("/chat/completions").mock(side_effect=[sse_response(text_stream("Fine.")), FAILED, FAILED, FAILED])
    out = io.StringIO()
    chat = Chat(ws, settings(), out=out, stdin=io.StringIO("first?\nsecond?\n"), terminal=False)
    chat.terminal, chat.console = True, make_console(out, terminal=True)  # as at a terminal (see run_lines)
    chat.input.read = (lambda read: (lambda prompt="": read()))(chat.input.read)
    assert chat.run() == 0
    assert "Fine." in out.getvalue() and "answered HTTP 500" in out.getvalue()
