"""Campaign throughput against a local server, and adapting to one that queues.

    python bench/bench_concurrency.py [--latency 0.3] [--variants 3]

Drafts the demo workspace (fixtures/sample-workspace) offline once, then runs `campaign` (the
model path, through run_campaign) against stub servers on 127.0.0.1 (a real HTTP server, in its
own process as a real server would be, so its work does not share the client's interpreter; each
run on a fresh copy of the drafted workspace, so no cache and nothing learnt is shared between
runs). The client's own CPU time per request is printed too: on a busy machine it, not the
server, can bound the speed-up. The stub streams the smallest answer the request's JSON Schema allows
(tests/schema_stub.py) after LATENCY seconds.

  fast stub      any number of requests at once, each LATENCY s:
                 default concurrency vs --concurrency 1 (target: >= 6x)
  two-slot stub  serves 2 requests at a time and queues the rest (llama.cpp --parallel 2), with
                 [llm] timeout = 2.5 s for the first token: the run starts at 2 (a local
                 endpoint), learns the server's capacity and finishes without timeouts (target:
                 0 failed items); prints the concurrency it settled on. For contrast, the same
                 with the concurrency pinned at the default (as if learnt earlier) and nothing
                 to learn from: items fail with "the server was queueing them".

Loopback only; every loop is bounded (items x answer budget).
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing
import shutil
import sys
import tempfile
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))

from schema_stub import minimal_instance  # noqa: E402  (the one schema-driven answer, shared with the tests)

from persona_assistant.llm import DEFAULT_CONCURRENCY  # noqa: E402
from persona_assistant.llm.endpoints import Endpoints  # noqa: E402
from persona_assistant.workspace import Workspace  # noqa: E402

CHANNELS = ["cold_email", "linkedin_post"]
TIMEOUT_S = 2.5


class Stub(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, latency: float, slots: int | None):
        super().__init__(("127.0.0.1", 0), Handler)
        self.latency = latency
        self.slots = threading.Semaphore(slots) if slots else None
        self.lock = threading.Lock()
        self.requests = 0
        self.now = 0
        self.most = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    server: Stub
    protocol_version = "HTTP/1.1"  # keep-alive: a connection per request would cost both sides

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        """/stats: requests since the last reset and the most at once; ?reset clears them."""
        stub = self.server
        with stub.lock:
            payload = json.dumps({"requests": stub.requests, "most": stub.most}).encode()
            if "reset" in self.path:
                stub.requests = stub.most = 0
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        fmt = body.get("response_format") or {}
        schema = fmt.get("json_schema", {}).get("schema") or fmt.get("schema") or {}
        content = json.dumps(minimal_instance(schema))
        stub = self.server
        with stub.lock:
            stub.requests += 1
            stub.now += 1
            stub.most = max(stub.most, stub.now)
        try:
            if stub.slots is not None:
                with stub.slots:
                    time.sleep(stub.latency)
                    self._answer(body, content)
            else:
                time.sleep(stub.latency)
                self._answer(body, content)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up on it and closed the connection
        finally:
            with stub.lock:
                stub.now -= 1

    def _answer(self, body: dict, content: str) -> None:
        """The whole answer at once after the latency (prompt processing, then a fast model): a
        JSON completion, or for a streamed request the same as an event stream."""
        usage = {"prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}
        if not body.get("stream"):
            self._send("application/json", json.dumps({
                "id": "stub", "object": "chat.completion", "created": 0, "model": "stub",
                "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
                "usage": usage}).encode())
            return

        def event(choices: list, extra: dict | None = None) -> bytes:
            data = {"id": "stub", "object": "chat.completion.chunk", "created": 0, "model": "stub",
                    "choices": choices, **(extra or {})}
            return f"data: {json.dumps(data)}\n\n".encode()

        self._send("text/event-stream", event([{"index": 0, "delta": {"role": "assistant", "content": content},
                                                "finish_reason": None}])
                   + event([{"index": 0, "delta": {}, "finish_reason": "stop"}])
                   + event([], {"usage": usage}) + b"data: [DONE]\n\n")

    def _send(self, content_type: str, payload: bytes) -> None:
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        self.wfile.flush()


def serve(latency: float, slots: int | None, ports) -> None:
    stub = Stub(latency, slots)
    ports.put(stub.server_address[1])
    stub.serve_forever()


class StubProcess:
    """A stub server in a child process, bound to 127.0.0.1 (the OS picks the port)."""

    def __init__(self, latency: float, slots: int | None):
        ports = multiprocessing.Queue()
        self.process = multiprocessing.Process(target=serve, args=(latency, slots, ports), daemon=True)
        self.process.start()
        self.base_url = f"http://127.0.0.1:{ports.get(timeout=30)}/v1"

    def stats(self, reset: bool = False) -> dict:
        url = self.base_url.removesuffix("/v1") + "/stats" + ("?reset" if reset else "")
        with urllib.request.urlopen(url, timeout=10) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(timeout=10)


def drafted(tmp: Path) -> Path:
    """The demo workspace with an offline ICP and personas (once)."""
    from persona_assistant.llm.settings import resolve_settings
    from persona_assistant.services.drafting import draft_icp, draft_personas

    dest = tmp / "drafted"
    shutil.copytree(ROOT / "fixtures" / "sample-workspace", dest)
    ws = Workspace(dest)
    draft_icp(ws, resolve_settings(ws, offline=True))
    draft_personas(ws, resolve_settings(ws, offline=True))
    return dest


def campaign(base: Path, tmp: Path, name: str, stub: StubProcess, concurrency: int, variants: int,
             pinned: int | None = None) -> dict:
    """One campaign run on a fresh copy of the drafted workspace against `stub`."""
    import os

    from persona_assistant.services.campaign import run_campaign

    root = tmp / name
    shutil.copytree(base, root)
    (root / "persona-assistant.toml").write_text(f"[llm]\ntimeout = {TIMEOUT_S}\nmax_retries = 0\n",
                                                 encoding="utf-8")
    ws = Workspace(root)
    if pinned:  # as if an earlier run had learnt this concurrency
        Endpoints(ws).learn(stub.base_url, "stub", "concurrency", str(pinned))
    os.environ.update(PERSONA_ASSISTANT_BASE_URL=stub.base_url, PERSONA_ASSISTANT_MODEL="stub")
    stub.stats(reset=True)
    started, cpu = time.perf_counter(), time.process_time()
    outcome = run_campaign(ws, channels=CHANNELS, variants=variants, concurrency=concurrency)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    served = stub.stats()
    learnt = Endpoints(ws)
    settled = learnt.get(stub.base_url, "stub", "concurrency")
    why = learnt.get(stub.base_url, "stub", "concurrency_why")
    result = outcome.result
    timeouts = sum(1 for r in result.failed.values() if "first token" in r or "did not answer" in r)
    return {"items": result.total, "done": len(result.done), "failed": len(result.failed), "timeouts": timeouts,
            "seconds": seconds, "requests": served["requests"], "most_at_server": served["most"], "settled": settled, "why": why,
            "cpu_ms": 1000 * cpu / max(1, served["requests"]),
            "first_failure": next(iter(result.failed.values()), None)}


def line(label: str, r: dict) -> str:
    return (f"  {label:<34} {r['seconds']:6.2f} s  items {r['done']}/{r['items']} done, {r['failed']} failed "
            f"({r['timeouts']} timeouts), {r['requests']} requests, at most {r['most_at_server']} at the server, "
            f"client CPU {r['cpu_ms']:.0f} ms a request")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.3)
    parser.add_argument("--variants", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    fast, slots = StubProcess(args.latency, None), StubProcess(args.latency, 2)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        try:
            base = drafted(tmp)
            print(f"fast stub ({args.latency:g} s a request, any number at once):")
            many = campaign(base, tmp, "fast-default", fast, DEFAULT_CONCURRENCY, args.variants)
            one = campaign(base, tmp, "fast-one", fast, 1, args.variants)
            print(line(f"--concurrency {DEFAULT_CONCURRENCY} (default)", many))
            print(line("--concurrency 1", one))
            print(f"  speed-up: {one['seconds'] / many['seconds']:.1f}x (target >= 6x; {many['items']} items; "
                  f"lowered to {many['settled'] or 'never lowered'}{' at ' + many['why'] if many['why'] else ''})")
            print(f"two-slot stub (2 at a time, the rest queued; first-token timeout {TIMEOUT_S:g} s):")
            adapted = campaign(base, tmp, "slots-adapt", slots, DEFAULT_CONCURRENCY, args.variants)
            print(line("default, learning", adapted))
            print(f"  settled on concurrency {adapted['settled'] or 'not lowered'} "
                  f"(target: 0 timeouts, every item done); lowered at {adapted['why']}")
            pinned = campaign(base, tmp, "slots-pinned", slots, DEFAULT_CONCURRENCY, args.variants,
                              pinned=DEFAULT_CONCURRENCY)
            print(line(f"pinned at {DEFAULT_CONCURRENCY} (no learning)", pinned))
            if pinned["first_failure"]:
                print(f"  e.g. {pinned['first_failure'][:200]}")
        finally:
            for stub in (fast, slots):
                stub.stop()


if __name__ == "__main__":
    main()
