"""`--json` is strict JSON (RFC 8259) everywhere: NaN and infinity never reach stdout or a JSON export."""

from __future__ import annotations

import json
from pathlib import Path

from persona_assistant.cli.common import json_text

SRC = Path(__file__).resolve().parents[1] / "src" / "persona_assistant"


def strict_json(text: str):
    """json.loads that refuses NaN/Infinity, as every JSON parser but Python's does."""
    def refuse(token):
        raise ValueError(f"not JSON: {token}")
    return json.loads(text, parse_constant=refuse)


def test_json_text_writes_non_finite_numbers_as_null_and_says_where(capsys):
    data = {"a": [1.5, float("nan")], "b": {"c": float("inf"), "d": -float("inf")}, "ok": "NaN"}
    text = json_text(data)
    assert strict_json(text) == {"a": [1.5, None], "b": {"c": None, "d": None}, "ok": "NaN"}
    err = capsys.readouterr().err
    assert err.strip() == ("JSON output: 3 number(s) that were not finite (NaN or infinity) written as null "
                           "(first at $.a[1])")
    assert json_text({"x": 1.0}) == '{"x": 1.0}' and capsys.readouterr().err == ""


def test_every_cli_json_writer_goes_through_json_text():
    """One emitter: a command module that calls json.dumps itself could write bare NaN again."""
    offenders = [p.name for p in (SRC / "cli").glob("cmd_*.py") if "json.dumps(" in p.read_text(encoding="utf-8")]
    assert offenders == []


# DEL, C1 controls (CSI, OSC, NEL, ST), the line separators and a bidi override: json.dumps with
# ensure_ascii=False leaves them raw, and some terminals act on them.
HOSTILE = "a\x7fb\x9b31mred\x9d0;title\x9c\x85next\u2028line\u202eevil\u2066x"
RAW = set("\x7f\x9b\x9d\x9c\x85\u2028\u202e\u2066")


def test_json_text_escapes_c1_and_other_terminal_controls_and_parses_back_unchanged():
    data = {HOSTILE: [HOSTILE, {"k": "é ü 漢字 \t\n\x01"}]}
    for indent in (None, 2):
        text = json_text(data, indent=indent)
        assert not RAW & set(text) and "\\u009b31mred" in text and "\\u202eevil" in text
        assert "é ü 漢字" in text  # other non-ASCII stays readable
        assert strict_json(text) == data


def test_log_json_writes_no_raw_c1_controls(tmp_path):
    import os
    import subprocess
    import sys

    from persona_assistant.llm.store import Store

    ws = tmp_path / "ws"
    store = Store(ws / ".persona-assistant" / "log.sqlite")
    store.record(task="chat", model=HOSTILE, endpoint="h", status="error", error=HOSTILE)
    store.close()
    run = subprocess.run([sys.executable, "-m", "persona_assistant", "log", "--json", "-w", str(ws)],
                         capture_output=True, timeout=60, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    assert run.returncode == 0, run.stderr
    out = run.stdout.decode("utf-8")
    assert not RAW & set(out)
    (row,) = strict_json(out)
    assert row["model"] == HOSTILE and row["error"] == HOSTILE
