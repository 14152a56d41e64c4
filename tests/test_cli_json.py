"""`--json` is strict JSON (RFC 8259) everywhere: NaN and infinity never reach stdout or a JSON export."""

from __future__ import annotations

import json
from pathlib import Path

from persona_assistant.cli.app import json_text

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
