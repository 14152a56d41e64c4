"""`json_text`: the one strict JSON writer (every --json output and every JSON file the tool writes)."""

from __future__ import annotations

import json
import re
from typing import Any

from persona_assistant.safe_text import write_notice


def json_text(data: Any, *, indent: int | None = None) -> str:
    """Strict JSON (RFC 8259) of `data`, what every `--json` and JSON file the CLI writes goes through.

    json.dumps would write NaN and +-inf as the bare tokens NaN/Infinity, which JSON parsers refuse.
    Ingestion keeps them out of the data (`ingest.numbers`); any that still arrive are written as null,
    with a notice naming the first place.

    Untrusted strings are data, never terminal control: json.dumps escapes C0 controls but, with
    ensure_ascii=False, writes DEL, the C1 controls (U+0080-U+009F, which some terminals obey like
    ESC sequences), the line/paragraph separators and the bidirectional overrides raw. They are
    written as \\uXXXX escapes instead, so they reach no terminal raw and parse back unchanged.
    """
    if hasattr(data, "model_dump"):
        data = data.model_dump(mode="json")
    try:
        text = json.dumps(data, indent=indent, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError:
        found: list[str] = []
        data = _finite(data, "$", found)
        if found:
            write_notice(f"JSON output: {len(found)} number(s) that were not finite (NaN or infinity) written as null "
                         f"(first at {found[0]})")
        text = json.dumps(data, indent=indent, ensure_ascii=False, default=str, allow_nan=False)
    return _RAW_CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


# What json.dumps(ensure_ascii=False) leaves raw that a terminal may act on (only ever inside strings).
_RAW_CONTROLS = re.compile("[\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _finite(value: Any, path: str, found: list[str]) -> Any:
    """`value` with every non-finite float replaced by None; the JSON paths of the replaced go to `found`."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            found.append(path)
            return None
        return value
    if isinstance(value, dict):
        return {(str(k) if isinstance(k, float) else k): _finite(v, f"{path}.{k}", found) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value
