"""Judging one model answer: keep what is valid, normalise what is cosmetic, re-ask to a purpose.

Small local models (and servers that enforce only part of a schema) answer lists with a few
bad items: an empty quote, line 0, an id written "Marketing Leaders". One bad item must not
reject the whole answer. The policy, decided here and nowhere else:

- **Normalise** (`normalise`) before validating, by walking the answer beside the JSON Schema of
  the answer model: surrounding whitespace is stripped; an enum value matching but for case,
  spaces, dashes or underscores becomes the enum value ("Economic Buyer" -> economic_buyer); a
  value outside an enum that offers "unknown" becomes "unknown"; a string failing a slug pattern
  (ids) is slugged ("Marketing Leaders" -> marketing-leaders); a top-level string whose enum has
  one value (the source id asked about) is that value; a missing top-level field is
  filled with [] (a list) or "unknown" (a string or an enum offering it) or the only value of
  a one-value enum. Each change that alters meaning (unknown, filled) is noted.
- **Salvage** (`salvage`) validates with the Pydantic model (always the final judge) and drops
  each list item an error points into (the innermost list item along the error's path), with
  one note per dropped item, then validates again. An answer whose errors lie outside any list
  item is not salvageable: its errors go back to the model in a re-ask.
- **Truncated answers** (finish_reason=length): `close_truncated` cuts the text after its last
  complete list item or field and closes the open brackets, so the complete items are salvaged.

- **Re-ask messages** (`reask_messages`) quote only the latest failed answer and its errors,
  both bounded. When a re-ask happens, and how many answers a call gets, is llm/loop.py's
  policy, stated there and nowhere else.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from persona_assistant.errors import ModelError
from persona_assistant.llm.structured import model_schema
from persona_assistant.prompts import CHARS_PER_TOKEN, estimate_tokens

REASK_ANSWER_TOKENS = 1000  # ~4,000 characters of the failed answer echoed in a re-ask
REASK_PROBLEM_TOKENS = 100  # per error line; at most REASK_PROBLEMS lines
REASK_PROBLEMS = 12
_SALVAGE_ROUNDS = 4


class NoValidAnswer(ModelError):
    """The endpoint answered, but nothing usable came back after the re-asks (or the answer was
    cut with nothing complete): a draft goes on with its other parts; endpoint faults do not."""


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def slug(text: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9]+", "-", text.casefold())).strip("-")


# --------------------------------------------------------------------------- normalise


class _Walker:
    def __init__(self, schema: dict, notes: list[str]):
        self.defs = schema.get("$defs", {})
        self.notes = notes

    def resolve(self, node: dict) -> dict:
        while isinstance(node, dict) and "$ref" in node:
            node = self.defs.get(node["$ref"].rsplit("/", 1)[-1], {})
        if isinstance(node, dict) and "const" in node:  # a one-value Literal
            node = {**node, "enum": [node["const"]]}
        return node if isinstance(node, dict) else {}

    def fix(self, data: Any, node: dict, path: str, top: bool = False) -> Any:
        node = self.resolve(node)
        if "anyOf" in node:
            return self.fix(data, self._branch(data, node["anyOf"]), path)
        if isinstance(data, str):
            return self._string(data, node, path)
        if isinstance(data, list) and isinstance(node.get("items"), dict):
            return [self.fix(x, node["items"], f"{path}.{i}") for i, x in enumerate(data)]
        if isinstance(data, dict) and isinstance(node.get("properties"), dict):
            props = node["properties"]
            out = {k: (self.fix(v, props[k], f"{path}.{k}".lstrip(".")) if k in props else v)
                   for k, v in data.items()}
            if top:  # a top-level one-value enum (the source id asked about) can only mean that value
                for name, sub in props.items():
                    enum = self.resolve(sub).get("enum", [])
                    if len(enum) == 1 and isinstance(out.get(name), str):
                        out[name] = enum[0]
                for name in node.get("required", []):
                    if name not in out:
                        filled = self._fill(self.resolve(props.get(name, {})))
                        if filled is not None:
                            out[name] = filled[0]
                            self.notes.append(f"{name}: missing in the answer, set to {filled[0]!r}")
            return out
        return data

    def _branch(self, data: Any, options: list) -> dict:
        """The anyOf branch whose one-value enums (discriminators) match `data`, else the first that fits its type."""
        options = [self.resolve(o) for o in options]
        if isinstance(data, dict):
            for o in options:
                props = o.get("properties", {})
                tags = {k: self.resolve(v)["enum"][0] for k, v in props.items()
                        if len(self.resolve(v).get("enum", [])) == 1}
                if tags and all(isinstance(data.get(k), str) and _key(data[k]) == _key(str(v))
                                for k, v in tags.items()):
                    return o
            return {}  # no branch's tags match: left as it is, for validation to judge
        kind = {str: "string", dict: "object", list: "array"}.get(type(data))
        return next((o for o in options if o.get("type") == kind), {})

    def _string(self, text: str, node: dict, path: str) -> str:
        value = text.strip()
        enum = node.get("enum")
        if enum and value not in enum:
            match = [e for e in enum if isinstance(e, str) and _key(e) == _key(value)]
            if match:
                return match[0]
            if "unknown" in enum:
                self.notes.append(f"{path}: {value[:40]!r} is not one of its values, set to 'unknown'")
                return "unknown"
        pattern = node.get("pattern")
        if pattern and not re.search(pattern, value) and re.search(pattern, slug(value)):
            return slug(value)
        return value

    @staticmethod
    def _fill(node: dict) -> tuple[Any] | None:
        if node.get("type") == "array":
            return ([],)
        enum = node.get("enum")
        if enum:
            return ("unknown",) if "unknown" in enum else ((enum[0],) if len(enum) == 1 else None)
        if node.get("type") == "string" and not node.get("pattern"):
            return ("unknown",)
        return None


def normalise(data: Any, model: type[BaseModel], notes: list[str]) -> Any:
    """`data` with cosmetic faults fixed against `model`'s JSON Schema (see the module docstring)."""
    schema = model_schema(model)
    return _Walker(schema, notes).fix(copy.deepcopy(data), schema, "", top=True)


# --------------------------------------------------------------------------- salvage


def _innermost_item(data: Any, loc: tuple) -> tuple[tuple, int] | None:
    """(path of the list, index) of the innermost list item that `loc` runs through in `data`."""
    found = None
    node = data
    for depth, step in enumerate(loc):
        if isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):
            found = (tuple(loc[:depth]), step)
            node = node[step]
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            break  # a union branch tag or a missing key: the error is about `node` itself
    return found


def _get(data: Any, path: tuple) -> Any:
    for step in path:
        data = data[step]
    return data


def error_line(err: dict) -> str:
    return f"{'.'.join(str(x) for x in err['loc']) or '(root)'}: {err['msg']}"


def salvage(model: type[BaseModel], data: Any) -> tuple[BaseModel | None, list[str], list[str]]:
    """(value, dropped, problems): the answer with every invalid list item dropped (one line per
    item in `dropped`); value None and `problems` when an error lies outside any list item."""
    data = copy.deepcopy(data)
    dropped: list[str] = []
    for _ in range(_SALVAGE_ROUNDS):
        try:
            return model.model_validate(data), dropped, []
        except ValidationError as exc:
            errors = exc.errors()
        targets: dict[tuple, dict[int, str]] = {}
        for err in errors:
            hit = _innermost_item(data, tuple(err["loc"]))
            if hit is None:
                return None, dropped, validation_errors(errors)
            targets.setdefault(hit[0], {}).setdefault(hit[1], error_line(err))
        for path, indices in sorted(targets.items(), key=lambda kv: -len(kv[0])):
            items = _get(data, path)
            for index in sorted(indices, reverse=True):
                del items[index]
            dropped.extend(f"dropped {'.'.join(map(str, path))}.{i}: {indices[i]}" for i in sorted(indices))
    try:
        return model.model_validate(data), dropped, []
    except ValidationError as exc:
        return None, dropped, validation_errors(exc.errors())


def validation_errors(errors: list[dict], limit: int = 12) -> list[str]:
    """Pydantic errors as short lines the model can act on: 'field.path: message'."""
    lines = [error_line(e) for e in errors[:limit]]
    if len(errors) > limit:
        lines.append(f"... and {len(errors) - limit} more errors")
    return lines


# --------------------------------------------------------------------------- truncated answers


def close_truncated(text: str) -> str | None:
    """A cut JSON text ended after its last complete value inside an object or array, with the
    open brackets closed; None when nothing complete is there."""
    start = text.find("{")
    if start < 0:
        return None
    stack: list[str] = []
    in_string = escaped = False
    best: tuple[int, list[str]] | None = None
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
            continue
        if ch == '"':
            in_string = True
        elif ch in "{[":
            stack.append("}" if ch == "{" else "]")
        elif ch in "}]":
            if not stack:
                break
            stack.pop()
            if not stack:
                return text[start:i + 1]
            best = (i + 1, list(stack))
        elif ch == ",":
            best = (i, list(stack))
    if best is None:
        return None
    cut, open_ = best
    return text[start:cut] + "".join(reversed(open_))


# --------------------------------------------------------------------------- re-asks


def clip(text: str, tokens: int, what: str) -> str:
    """`text` within about `tokens` tokens, with a marker when cut: re-asks must stay in budget."""
    if estimate_tokens(text) <= tokens:
        return text
    keep = tokens * CHARS_PER_TOKEN
    return f"{text[:keep]}\n[... {what} cut: first {keep} of {len(text)} characters shown]"


def reask_messages(messages: list[dict], answer: str, problems: list[str], *, partial: bool = False) -> list[dict]:
    """The original messages plus only the latest failed answer and its errors, both bounded."""
    lines = [clip(p, REASK_PROBLEM_TOKENS, "error") for p in problems[:REASK_PROBLEMS]]
    if len(problems) > REASK_PROBLEMS:
        lines.append(f"... and {len(problems) - REASK_PROBLEMS} more")
    head = ("Some items of your answer were invalid and were dropped:" if partial
            else "Your answer was not usable:")
    tail = ("\nAnswer again with the whole JSON object, every item valid." if partial
            else "\nAnswer again with the corrected JSON object only.")
    return list(messages) + [
        {"role": "assistant", "content": clip(answer, REASK_ANSWER_TOKENS, "answer")},
        {"role": "user", "content": head + "\n- " + "\n- ".join(lines) + tail},
    ]
