"""Personal data replaced by stable placeholders before a request, restored in the answer.

What is replaced (llm/pii.py finds the spans):
- known names the caller registers (note front matter and speaker labels, CRM contact and owner
  columns; see llm/known_people.py), each also by its capitalised parts ("Smith said"), matched
  in any case ("ask jane smith" in chat) unless a part is a common word in that case;
- names found in the text itself (runs of capitalised words, a word after a title or beside a
  speech verb); once found, a name is known for the rest of the session, so a name redacted in
  a draft request or an earlier chat turn is redacted when it comes back alone or in lower case;
- emails (also obfuscated: `jane [at] acme [dot] example`), phone numbers (international, UK,
  US, unseparated, with extensions), IBANs and card numbers.
`<PERSON_3>`, `<EMAIL_1>`, `<PHONE_2>`, `<ACCOUNT_1>` stand for them.

Each placeholder stands for ONE exact spelling, so restoring gives back the original
characters and a restored quote still matches its source verbatim (draft/evidence.py checks
that). Models mangle placeholders; "person_3", "[PERSON_3]", "<Person_3>", "PERSON-3" are
restored too. A placeholder that stands for nothing is left as it is and reported. A text that
already holds placeholder-like words ("PERSON_3") is not guaranteed to round-trip.

`redact(text, used)` adds the placeholders it put in to `used`: the LLM logs how many values
each request carried redacted (llm/store.py, column `redacted`).
"""

from __future__ import annotations

import bisect
import re
from typing import Any, Iterable, TypeVar

from pydantic import BaseModel

from persona_assistant.llm.pii import (
    WORD_RE, Lexicon, Span, find_accounts, find_emails, find_names, find_phones, lower_words, name_words,
)

M = TypeVar("M", bound=BaseModel)
KINDS = ("PERSON", "EMAIL", "PHONE", "ACCOUNT")

# At most one bracket each side is taken as part of a placeholder, so "Name <EMAIL_1>" in a
# "Name <email>" text gives back its own angle brackets.
PLACEHOLDER_RE = re.compile(
    r"(?:[<\[({]\s*)?\b(PERSON|EMAIL|PHONE|ACCOUNT)[_-](\d+)(?!\d)\b(?:\s*[>\])}])?", re.IGNORECASE)
_MIN_NAME_PART = 3
_MAX_NAME_WORDS = 6
_SEEN_TEXTS = 512  # texts remembered per Redactor (then forgotten at once)


class Redactor:
    """Stable two-way mapping between personal values and placeholders for one session.

    people/emails/phones: known values. vocabulary: text whose lower-case words are common
    words, not names (the workspace's notes and brief). not_names: terms that are never names
    (product, company, region and country names)."""

    def __init__(self, *, people: Iterable[str] = (), emails: Iterable[str] = (), phones: Iterable[str] = (),
                 vocabulary: Iterable[str] = (), not_names: Iterable[str] = ()):
        self._by_value: dict[str, str] = {}  # exact spelling -> placeholder
        self._by_placeholder: dict[str, str] = {}  # "PERSON_3" -> exact spelling
        self._counts = {k: 0 for k in KINDS}
        self._people: set[str] = set()  # lower-cased known names and name parts
        self._longest = 1  # words in the longest known name
        self._starts: set[str] = set()  # lower-cased first words of known names (a quick filter)
        self._other: set[str] = set()  # known emails/phones the patterns would not find
        self._other_re: re.Pattern[str] | None = None
        # What was learnt from and redacted of a text while the known values stayed the same (keyed
        # by their count): a campaign sends the same persona and brief text with every asset.
        self._seen: dict[tuple[str, int], tuple[str, tuple[str, ...]] | None] = {}
        text = "\n".join(str(t) for t in vocabulary)
        words = {w.lower() for term in not_names for w in name_words(str(term))}
        self.lexicon = Lexicon(common=frozenset(lower_words(text)), not_names=frozenset(words))
        # A known name in another casing is still redacted unless the workspace writes that word in
        # lower case repeatedly ("will" beside a "Will Hunter"): 3 times and more than capitalised.
        self._known_lexicon = Lexicon(common=frozenset(lower_words(text, min_count=3)), not_names=frozenset(words))
        for name in people:
            self.add_person(name)
        for email in emails:
            self._add_other(email, "EMAIL")
        for phone in phones:
            self._add_other(phone, "PHONE")

    # ------------------------------------------------------------------ registering
    def add_person(self, name: str) -> None:
        """A full name and each capitalised part of it (so "Smith said" is caught too)."""
        name = " ".join(str(name or "").split())
        if not name or not any(c.isalpha() for c in name):
            return
        self._add_name(name)
        parts = name.split()
        if len(parts) > 1:
            for part in parts:
                part = part.strip(".,")
                if len(part) >= _MIN_NAME_PART and part[0].isupper() and not self._known_lexicon.is_common(part):
                    self._add_name(part)

    def _add_name(self, value: str) -> None:
        self._placeholder(value, "PERSON")
        self._people.add(value.lower())
        words = WORD_RE.findall(value)
        if words:
            self._starts.add(words[0].lower())
        self._longest = max(self._longest, min(_MAX_NAME_WORDS, len(WORD_RE.findall(value)) or 1))

    def _add_other(self, value: str, kind: str) -> None:
        value = str(value or "").strip()
        if not value:
            return
        self._placeholder(value, kind)
        finder = find_emails if kind == "EMAIL" else find_phones
        if not any(s == 0 and e == len(value) for s, e, _k, _v in finder(value)):
            self._other.add(value)
            self._other_re = None

    def _placeholder(self, value: str, kind: str) -> str:
        found = self._by_value.get(value)
        if found is None:
            self._counts[kind] += 1
            found = f"{kind}_{self._counts[kind]}"
            self._by_value[value] = found
            self._by_placeholder[found] = value
        return found

    def learn(self, text: str) -> None:
        """Register the names `text` holds (before redacting a conversation, so a name written
        in full in a later message is known in an earlier one too)."""
        key = (text, len(self._by_value))
        if key in self._seen:
            return  # learnt from already, and nothing became known since
        for value in find_names(text, self.lexicon, is_known=self._is_known_name):
            self.add_person(value)
        self._remember((text, len(self._by_value)), None)

    def _remember(self, key: tuple[str, int], value: tuple[str, tuple[str, ...]] | None) -> None:
        if len(self._seen) >= _SEEN_TEXTS:
            self._seen.clear()
        if value is not None or key not in self._seen:
            self._seen[key] = value

    def _is_known_name(self, word: str) -> bool:
        return self._by_value.get(word, "").startswith("PERSON_")

    # ------------------------------------------------------------------ finding spans
    def _known_people(self, text: str) -> Iterable[Span]:
        """Known names by word n-grams: exact spellings, and other casings of names that are not
        common words in that casing (so "will" is not taken for a known "Will")."""
        if not self._people:
            return
        tokens = list(WORD_RE.finditer(text))
        i = 0
        while i < len(tokens):
            if tokens[i].group(0).lower() not in self._starts:
                i += 1
                continue
            for n in range(min(self._longest, len(tokens) - i), 0, -1):
                start, end = tokens[i].start(), tokens[i + n - 1].end()
                value = text[start:end]
                if value not in self._by_value:
                    if value.lower() not in self._people:
                        continue
                    if n == 1 and (self._known_lexicon.is_common(value) or value.isupper()
                                   or value.islower() and len(value) < 4):
                        continue  # "will", "SIG" (an acronym), "bo": not the known "Will", "Sig", "Bo"
                elif not self._by_value[value].startswith("PERSON_"):
                    continue
                yield start, end, "PERSON", value
                i += n - 1
                break
            i += 1

    def _known_other(self, text: str) -> Iterable[Span]:
        if not self._other:
            return
        if self._other_re is None:
            alts = sorted(self._other, key=len, reverse=True)
            self._other_re = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(v) for v in alts) + r")(?!\w)")
        for m in self._other_re.finditer(text):
            yield m.start(), m.end(), self._by_value[m.group(0)].split("_")[0], m.group(0)

    # ------------------------------------------------------------------ redact / restore
    def redact(self, text: str, used: set[str] | None = None) -> str:
        """`text` with every personal value replaced; the placeholders put in are added to `used`."""
        self.learn(text)
        return self._redact(text, used)

    def _redact(self, text: str, used: set[str] | None) -> str:
        if not text:
            return text
        key = (text, len(self._by_value))
        done = self._seen.get(key)
        if done is None:
            done = self._redact_spans(text)
            self._remember(key, done)
        if used is not None:
            used.update(done[1])
        return done[0]

    def _redact_spans(self, text: str) -> tuple[str, tuple[str, ...]]:
        """(redacted text, placeholders put in)."""
        taken: list[Span] = []  # kept sorted by start; spans never overlap
        # Priority: known values, account numbers, emails, phones, then names (so the name in
        # "jane.doe@acme.example" goes with its email, and digits inside an IBAN are not a phone).
        for spans in (self._known_other(text), find_accounts(text), find_emails(text), find_phones(text),
                      self._known_people(text)):
            for span in sorted(spans, key=lambda s: (s[0], -s[1])):
                i = bisect.bisect_left(taken, span[0], key=lambda t: t[0])
                if (i > 0 and taken[i - 1][1] > span[0]) or (i < len(taken) and taken[i][0] < span[1]):
                    continue  # overlaps a span already taken
                taken.insert(i, span)
        out: list[str] = []
        placeholders: list[str] = []
        pos = 0
        for start, end, kind, value in taken:
            placeholder = self._placeholder(value, kind)
            placeholders.append(placeholder)
            out += [text[pos:start], f"<{placeholder}>"]
            pos = end
        out.append(text[pos:])
        return "".join(out), tuple(placeholders)

    def redact_messages(self, messages: list[dict[str, Any]], used: set[str] | None = None) -> list[dict[str, Any]]:
        """Copies of chat messages with every string content and tool-call argument redacted.

        Names are learnt from all messages first, so one written in full in a later message
        is redacted in an earlier one too."""
        for message in messages:
            for text in _texts(message):
                self.learn(text)
        out = []
        for message in messages:
            message = dict(message)
            content = message.get("content")
            if isinstance(content, str):
                message["content"] = self._redact(content, used)
            elif isinstance(content, list):
                message["content"] = [
                    {**part, "text": self._redact(part["text"], used)} if isinstance(part, dict)
                    and isinstance(part.get("text"), str) else part for part in content]
            if isinstance(message.get("tool_calls"), list):
                message["tool_calls"] = [self._redact_call(call, used) for call in message["tool_calls"]]
            out.append(message)
        return out

    def _redact_call(self, call: Any, used: set[str] | None) -> Any:
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(function.get("arguments"), str):
            return call
        return {**call, "function": {**function, "arguments": self._redact(function["arguments"], used)}}

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


def _texts(message: dict[str, Any]) -> Iterable[str]:
    content = message.get("content")
    if isinstance(content, str):
        yield content
    elif isinstance(content, list):
        yield from (p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict) and isinstance(function.get("arguments"), str):
            yield function["arguments"]
