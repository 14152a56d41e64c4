"""Unsupported-claim detection: figures and names in copy that no source backs.

Copy may only use numbers and names the brief, the personas or their evidence
contain. Rules:
- a figure (digits, with an optional currency sign, decimals, %, x, k/m/bn) is
  supported when the same digits occur in a figure of the known text ("40%" is
  backed by "40 percent", "$40,000" by "40,000");
- a proper noun is a run of capitalised words ("Acme Corp"), unless it is a single word
  that starts a sentence (a sentence-initial single word cannot be told from an ordinary one),
  or a single capitalised word inside a sentence. It is supported when it occurs
  (case-insensitive, as a whole word) in the known text, or is a common business
  acronym, a day or a month;
- {{merge_fields}} are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from persona_assistant.schemas import ICP, Brief, Persona

_MERGE = re.compile(r"\{\{\s*\w+\s*\}\}")
_FIGURE = re.compile(
    r"(?<![\w.])[$€£]?\d[\d,]*(?:\.\d+)?\s?(?:%|percent\b|x\b|k\b|m\b|bn\b|million\b|billion\b)?",
    re.I,
)
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9&'’.-]*[A-Za-z0-9]|[A-Za-z]")
_SENTENCE_END = re.compile(r"[.!?:;\n\"“”()\[\]]\s*$")

ALLOWED_NAMES = {
    "i", "ai", "api", "b2b", "b2c", "ceo", "cfo", "cio", "cto", "coo", "cmo", "cro", "erp", "crm",
    "faq", "gaap", "ifrs", "it", "kpi", "kpis", "okr", "okrs", "pdf", "q1", "q2", "q3", "q4", "roi",
    "saas", "sox", "sql", "usd", "vp", "fp&a", "hr", "ok", "p.s", "ps", "re",
    "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "linkedin", "google", "email",
}


# Ordinary words that start a sentence before a name ("How Ledgerly helps", "Ask Globex").
STARTERS = {
    "a", "an", "the", "how", "what", "why", "when", "where", "who", "which", "ask", "see", "get", "book",
    "try", "meet", "join", "our", "your", "my", "we", "you", "they", "if", "this", "that", "these", "at",
    "in", "for", "with", "and", "but", "so", "hi", "hello", "dear", "also", "another", "thanks", "like",
    "unlike", "from", "since", "after", "before", "every", "teams", "customers", "read", "watch", "download",
}


def _digits(figure: str) -> str:
    """The digits of a figure with trailing decimal zeros dropped: '$40,000.00' -> '40000'."""
    m = re.search(r"\d[\d,]*(?:\.\d+)?", figure)
    if not m:
        return ""
    number = m.group(0).replace(",", "")
    if "." in number:
        number = number.rstrip("0").rstrip(".")
    return number


@lru_cache(maxsize=4)
def known_figures(known: str) -> frozenset[str]:
    """Digits of every figure in `known`; a rate such as 0.42 also backs "42%". Built once per
    known text (a campaign lints every asset against the same one)."""
    out = {_digits(m.group(0)) for m in _FIGURE.finditer(known)} - {""}
    for d in list(out):
        if d.startswith("0.") and len(d) <= 6:
            out.add(_digits(f"{float(d) * 100:.1f}"))
    return frozenset(out)


def _proper_nouns(text: str) -> list[str]:
    """Runs of capitalised words, skipping a lone capitalised word that starts a sentence."""
    found: list[str] = []
    for line in text.splitlines():
        words = list(_WORD.finditer(line))
        run: list[re.Match[str]] = []
        run_starts_sentence = False

        def flush() -> None:
            if not run:
                return
            if run_starts_sentence and len(run) == 1:
                return
            names = run[1:] if run_starts_sentence and run[0].group(0).lower() in STARTERS else run
            found.append(line[names[0].start():names[-1].end()])

        for m in words:
            before = line[:m.start()]
            sentence_start = not before.strip() or bool(_SENTENCE_END.search(before))
            capital = m.group(0)[0].isupper()
            # A run breaks at punctuation between words.
            contiguous = bool(run) and not re.search(r"[^\s]", line[run[-1].end():m.start()])
            if capital and contiguous and not sentence_start:
                run.append(m)
                continue
            flush()
            run = [m] if capital else []
            run_starts_sentence = sentence_start
        flush()
    return found


def _name_supported(name: str, known_lower: str) -> bool:
    if name.endswith("s") and len(name) > 3 and _name_supported(name[:-1], known_lower):
        return True  # a plural: "Controllers"
    words = name.split()
    if all(w.lower().strip(".") in ALLOWED_NAMES for w in words):
        return True
    if re.search(r"(?<![\w])" + re.escape(name.lower()) + r"(?![\w])", known_lower):
        return True
    # A run such as "Closewise Finance" is fine when every word is known on its own.
    return all(w.lower() in ALLOWED_NAMES
               or re.search(r"(?<![\w])" + re.escape(w.lower()) + r"(?![\w])", known_lower)
               for w in words)


def unsupported_claims(text: str, known: str) -> list[str]:
    """Figures and proper nouns in `text` that `known` does not contain, in order, once each."""
    text = _MERGE.sub(" ", text)
    figures = known_figures(known)
    known_lower = known.lower()
    out: list[str] = []
    for m in _FIGURE.finditer(text):
        fig = m.group(0).strip()
        if _digits(fig) and _digits(fig) not in figures and fig not in out:
            out.append(fig)
    for name in _proper_nouns(text):
        if not _name_supported(name, known_lower) and name not in out:
            out.append(name)
    return out


def _strings(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        yield repr(value)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def known_text(brief: Brief, personas: Iterable[Persona] = (), icp: ICP | None = None) -> str:
    """Everything copy may draw figures and names from: the brief, the personas with their
    evidence, and the ICP (its text and statistics), one value per line."""
    parts = list(_strings(brief.model_dump()))
    for p in personas:
        parts += _strings(p.model_dump())
    if icp is not None:
        parts += _strings(icp.model_dump())
    return "\n".join(parts)
