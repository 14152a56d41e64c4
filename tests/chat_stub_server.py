"""A local OpenAI-compatible chat-completions server for the pty test and the chat benchmark.

http.server on 127.0.0.1 with an ephemeral port. POST /v1/chat/completions answers
with SSE chunks (always streamed): "<marker> You said: <last user message>", a word
(and its trailing space) a chunk. A user message containing "slow" streams one word every
`slow_delay` seconds (for Ctrl-C tests). `first_byte_times` records, per request,
the monotonic time just after the first content chunk was flushed (the benchmark
compares it with when the text appears on screen); `pause_after_first` holds the
rest of the answer back so that the two are not confused.

Run alone: `python tests/chat_stub_server.py` prints its base URL and serves until killed.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MARKER = "STUB-REPLY-7"


def _chunk(delta: dict, finish: str | None = None) -> bytes:
    data = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": int(time.time()),
            "model": "stub-model", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    return f"data: {json.dumps(data)}\n\n".encode()


class StubServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, slow_delay: float = 0.2, pause_after_first: float = 0.0):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.slow_delay = slow_delay
        self.pause_after_first = pause_after_first
        self.requests: list[dict] = []
        self.first_byte_times: list[float] = []
        self.thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> "StubServer":
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: StubServer

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length") or 0)) or b"{}")
        self.server.requests.append(body)
        if not self.path.endswith("/chat/completions"):
            self.send_error(404)
            return
        last = next((m.get("content") or "" for m in reversed(body.get("messages", []))
                     if m.get("role") == "user"), "")
        words = f"{MARKER} You said: {last}".split(" ")
        delay = self.server.slow_delay if "slow" in last else 0.0
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("connection", "close")
        self.end_headers()
        try:
            self.wfile.write(_chunk({"role": "assistant", "content": ""}))
            for i, word in enumerate(words):
                self.wfile.write(_chunk({"content": word + (" " if i < len(words) - 1 else "")}))
                self.wfile.flush()
                if i == 0:
                    self.server.first_byte_times.append(time.monotonic())
                    if self.server.pause_after_first:
                        time.sleep(self.server.pause_after_first)
                if delay:
                    time.sleep(delay)
            self.wfile.write(_chunk({}, "stop"))
            usage = {"prompt_tokens": 50, "completion_tokens": len(words), "total_tokens": 50 + len(words)}
            self.wfile.write(f"data: {json.dumps({'id': 'chatcmpl-stub', 'object': 'chat.completion.chunk', 'created': 0, 'model': 'stub-model', 'choices': [], 'usage': usage})}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the client stopped reading (Ctrl-C)
            pass
        self.close_connection = True


if __name__ == "__main__":
    server = StubServer()
    print(server.base_url, flush=True)
    server.serve_forever()
