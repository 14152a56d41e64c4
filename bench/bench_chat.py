"""Chat latency in a real pseudo-terminal against the local stub server (tests/chat_stub_server.py).

Prints
- start-up: spawn of `persona-assistant chat` to its first prompt on screen (median of N);
- first token: the stub server's flush of the first streamed content chunk to that text on
  screen (median of N turns), i.e. the chat's own overhead (client, stream parsing, Markdown
  rendering, the pty). Target: under 30 ms. The stub pauses after the first chunk so that the
  rest of the answer cannot be mistaken for it. time.monotonic is one clock for both processes.

Run: /tmp/venv/bin/python bench/bench_chat.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import pexpect  # noqa: E402

from chat_helpers import make_workspace  # noqa: E402
from chat_stub_server import MARKER, StubServer  # noqa: E402


def spawn(ws_root: Path, base_url: str, xdg: Path):
    exe = shutil.which("persona-assistant", path=str(Path(sys.executable).parent))
    cmd = [exe] if exe else [sys.executable, "-m", "persona_assistant"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "PERSONA_ASSISTANT_"))}
    env.update(XDG_CONFIG_HOME=str(xdg), PROMPT_TOOLKIT_NO_CPR="1", TERM="xterm-256color")
    return pexpect.spawn(cmd[0], [*cmd[1:], "chat", "-w", str(ws_root), "--base-url", base_url,
                                  "--model", "stub-model"], env=env, dimensions=(30, 110),
                         encoding="utf-8", timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-chat-"))
    ws = make_workspace(tmp / "ws")
    server = StubServer(pause_after_first=0.25).start()
    startup, first = [], []
    try:
        for run in range(args.runs):
            t0 = time.monotonic()
            child = spawn(ws.root, server.base_url, tmp / "xdg")
            child.expect_exact("Ctrl-D to leave")
            child.expect_exact(">")
            startup.append(time.monotonic() - t0)
            for turn in range(3):
                sent = len(server.first_byte_times)
                child.sendline(f"question {run}-{turn}")
                child.expect_exact(MARKER)
                seen = time.monotonic()
                while len(server.first_byte_times) == sent:  # the server thread records right after flush
                    time.sleep(0.001)
                first.append(seen - server.first_byte_times[sent])
                child.expect_exact(f"You said: question {run}-{turn}")
                child.expect_exact(">")
            child.sendline("/exit")
            child.expect(pexpect.EOF)
            child.close()
    finally:
        server.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    def ms(values: list[float]) -> str:
        return (f"median {statistics.median(values) * 1000:.1f} ms, min {min(values) * 1000:.1f}, "
                f"max {max(values) * 1000:.1f} (n={len(values)})")

    print(f"chat start-up (spawn to first prompt): {ms(startup)}")
    print(f"first streamed byte to first character on screen: {ms(first)}; target < 30 ms")


if __name__ == "__main__":
    main()
