"""Personal data replaced by stable placeholders before a request, restored in the answer.

What is replaced: known values the caller registers (contact names, emails and phones from
CRM columns; interviewee names from note front matter, plus each capitalised part of a name),
and emails and phone numbers found by pattern in any text. `<PERSON_3>`, `<EMAIL_1>`,
`<PHONE_2>` stand for them.

Each placeholder stands for ONE exact spelling, so restoring gives back the original
characters and a restored quote still matches its source verbatim (draft/evidence.py checks
that). Models mangle placeholders; "person_3", "[PERSON_3]", "<Person_3>", "PERSON-3" are
restored too. A placeholder that stands for nothing is left as it is and reported.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)
KINDS = ("PERSON", "EMAIL", "PHONE")

EMAIL_RE = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
# Digits in groups with separators, optional +country and (area); checked for 9-15 digits below
# so dates (2024-03-12) and bare amounts (120000000) are not taken for phones.
PHONE_RE = re.compile(
    r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]\d{2,5}){1,4}(?![\w-]|[.,]\d)")
# At most one bracket each side is taken as part of a placeholder, so "Name <EMAIL_1>" in a
# "Name <email>" text gives back its own angle brackets.
PLACEHOLDER_RE = re.compile(
    r"(?:[<\[({]\s*)?\b(PERSON|EMAIL|PHONE)[_-](\d+)(?!\d)\b(?:\s*[>\])}])?", re.IGNORECASE)
_MIN_NAME_PART = 3


def _is_phone(text: str) -> bool:
    digits = sum(c.isdigit() for c in text)
    if not 9 <= digits <= 15:
        return False
    if re.fullmatch(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}", text):  # an ISO date with a stray digit group
        return False
    return bool(re.search(r"[\s().+-]", text))


class Redactor:
    """Stable two-way mapping between personal values and placeholders for one session."""

    def __init__(self, *, people: Iterable[str] = (), emails: Iterable[str] = (), phones: Iterable[str] = ()):
        self._by_value: dict[str, str] = {}  # exact spelling -> placeholder
        self._by_placeholder: dict[str, str] = {}  # "PERSON_3" -> exact spelling
        self._counts = {k: 0 for k in KINDS}
        self._known: re.Pattern[str] | None = None
        self._known_values: set[str] = set()
        for name in people:
            self.add_person(name)
        for email in emails:
            self._add_known(email, "EMAIL")
        for phone in phones:
            self._add_known(phone, "PHONE")

    # ------------------------------------------------------------------ registering
    def add_person(self, name: str) -> None:
        """A full name and each capitalised part of it (so "Smith said" is caught too)."""
        name = " ".join(str(name or "").split())
        if not name:
            return
        self._add_known(name, "PERSON")
        parts = name.split()
        if len(parts) > 1:
            for part in parts:
                part = part.strip(".,")
                if len(part) >= _MIN_NAME_PART and part[0].isupper():
                    self._add_known(part, "PERSON")

    def _add_known(self, value: str, kind: str) -> None:
        value = str(value or "").strip()
        if not value or value in self._known_values:
            return
        self._known_values.add(value)
        self._placeholder(value, kind)
        self._known = None  # rebuilt on next use

    def _placeholder(self, value: str, kind: str) -> str:
        found = self._by_value.get(value)
        if found is None:
            self._counts[kind] += 1
            found = f"{kind}_{self._counts[kind]}"
            self._by_value[value] = found
            self._by_placeholder[found] = value
        return found

    def _known_pattern(self) -> re.Pattern[str] | None:
        if self._known is None and self._known_values:
            # Longest first so "Ana Lopez" wins over "Ana"; exact spelling, whole words.
            alts = sorted(self._known_values, key=len, reverse=True)
            self._known = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(v) for v in alts) + r")(?!\w)")
        return self._known

    # ------------------------------------------------------------------ redact / restore
    def redact(self, text: str) -> str:
        known = self._known_pattern()
        if known is not None:
            text = known.sub(lambda m: f"<{self._by_value[m.group(0)]}>", text)
        text = EMAIL_RE.sub(lambda m: f"<{self._placeholder(m.group(0), 'EMAIL')}>", text)

        def phone(m: re.Match[str]) -> str:
            value = m.group(0)
            return f"<{self._placeholder(value, 'PHONE')}>" if _is_phone(value) else value

        return PHONE_RE.sub(phone, text)

    def redact_messages(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Copies of chat messages with every string content redacted."""
        out = []
        for message in messages:
            message = dict(message)
            content = message.get("content")
            if isinstance(content, str):
                message["content"] = self.redact(content)
            elif isinstance(content, list):
                message["content"] = [
                    {**part, "text": self.redact(part["text"])} if isinstance(part, dict)
                    and isinstance(part.get("text"), str) else part for part in content]
            out.append(message)
        return out

    def restore(self, text: str) -> tuple[str, list[str]]:
        """Text with placeholders restored, and the placeholders that stand for nothing."""
        unknown: list[str] = []

        def back(m: re.Match[str]) -> str:
            key = f"{m.group(1).upper()}_{int(m.group(2))}"
            value = self._by_placeholder.get(key)
            if value is None:
                unknown.append(m.group(0).strip())
                return m.group(0)
            return value

        return PLACEHOLDER_RE.sub(back, text), unknown

    def restore_data(self, obj: Any, path: str = "") -> tuple[Any, list[str]]:
        """Restore every string in parsed JSON; notes name placeholders that stand for nothing."""
        notes: list[str] = []

        def walk(obj: Any, path: str) -> Any:
            if isinstance(obj, str):
                restored, unknown = self.restore(obj)
                for u in unknown:
                    notes.append(f"{path or 'answer'}: placeholder {u} stands for no redacted value; left as is")
                return restored
            if isinstance(obj, list):
                return [walk(v, f"{path}[{i}]") for i, v in enumerate(obj)]
            if isinstance(obj, dict):
                return {k: walk(v, f"{path}.{k}" if path else str(k)) for k, v in obj.items()}
            return obj

        return walk(obj, path), notes

    def restore_model(self, value: M) -> tuple[M, list[str]]:
        """A validated model with every string restored (validated again)."""
        data, notes = self.restore_data(value.model_dump(mode="json"))
        return type(value).model_validate(data), notes

    @property
    def mapping(self) -> dict[str, str]:
        """placeholder -> value (for tests and debugging; never logged)."""
        return dict(self._by_placeholder)
