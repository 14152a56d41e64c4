"""Code-checked evidence: every quote must be in its source, every figure in the analysis.

Used by both drafting paths (LLM and offline), so nothing reaches a draft as fact
unless code found it.

What "verbatim" means here: the quote's characters must appear in the cited
source in the same order, after normalising only
- whitespace (any run, including line breaks, is one space),
- quote characters (curly, prime and low-9 variants become ' or "),
- dashes (hyphen, en/em dash, minus and friends become -), and the ellipsis
  character (becomes ...).
Case is NOT folded and words are not stemmed: "we close in 12 days" does not
match "We close in 12 days". A quote shorter than two words is not evidence (a front-matter line such as
"industry: Software" is two).
A quote never matches inside an excluded section (an AI-written summary, a
description) nor across one, and never outside its own interview in a
multi-interview file.

Statistics: a StatEvidence is kept only when its segment exists in the analysis
and closed, won, win rate and interval agree to 1e-6, and its deal ids are a
subset of the segment's. Without an analysis no figure can be checked, so none is kept.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Mapping, TypeVar

from pydantic import BaseModel

from persona_assistant.schemas import (
    ICP, Analysis, Claim, Disqualifier, Persona, PersonaSet, QualificationSignal, QuoteEvidence,
    StatEvidence,
)

M = TypeVar("M", bound=BaseModel)

_TRANS = str.maketrans({
    "‘": "'", "’": "'", "‚": "'", "‛": "'", "′": "'", "`": "'", "´": "'",
    "“": '"', "”": '"', "„": '"', "‟": '"', "″": '"', "«": '"', "»": '"',
    "‐": "-", "‑": "-", "‒": "-", "–": "-", "—": "-", "―": "-", "−": "-",
    "…": "...", "\u00a0": " ", "\u202f": " ", "\u2009": " ",
})
_BREAK = "\x00"  # stands for an excluded section: no quote can contain it
TOL = 1e-6
MIN_QUOTE_WORDS = 2
_CONF_DOWN = {"high": "medium", "medium": "low", "low": "low", "unknown": "unknown"}


def normalise(text: str) -> str:
    """The comparison form of a text: see the module docstring for what is folded."""
    return " ".join(text.translate(_TRANS).split())


@dataclass
class _Index:
    text: str
    starts: list[int]  # char offset where each indexed line starts in `text`
    numbers: list[int]  # its file line number

    def line_at(self, offset: int) -> int:
        return self.numbers[bisect_right(self.starts, offset) - 1]


def _index(source) -> _Index:
    """Normalised text of one interview with line offsets; built once per source (`Source.derived`)."""
    return source.derived(_build_index)


def _build_index(source) -> _Index:
    parts: list[str] = []
    starts: list[int] = []
    numbers: list[int] = []
    pos = 0
    broken = False
    for n in range(source.first_line, source.last_line + 1):
        if source.is_excluded(n):
            if not broken:
                parts.append(_BREAK)
                pos += 1
                broken = True
            continue
        if n in source.non_text:
            continue
        norm = normalise(source.lines[n - 1])
        if not norm:
            continue
        broken = False
        if parts and parts[-1] != _BREAK:
            parts.append(" ")
            pos += 1
        starts.append(pos)
        numbers.append(n)
        parts.append(norm)
        pos += len(norm)
    return _Index("".join(parts), starts, numbers)


def find_quote(text: str, source, near: int | None = None) -> tuple[int, int] | None:
    """(line_start, line_end) of `text` in `source` (nearest to line `near`), or None."""
    q = normalise(text)
    if len(q.split()) < MIN_QUOTE_WORDS:
        return None
    idx = _index(source)
    best: tuple[int, int] | None = None
    at = idx.text.find(q)
    while at >= 0:
        span = (idx.line_at(at), idx.line_at(at + len(q) - 1))
        if near is None:
            return span
        if best is None or abs(span[0] - near) < abs(best[0] - near):
            best = span
        at = idx.text.find(q, at + 1)
    return best


def verify_quote(q: QuoteEvidence, sources_by_id: Mapping[str, object]) -> QuoteEvidence | None:
    """The quote with path and lines corrected to where it really is; None if not in its source.

    An unknown source id falls back to the source(s) with the cited path."""
    candidates = [sources_by_id[q.source_id]] if q.source_id in sources_by_id else [
        s for s in sources_by_id.values() if getattr(s, "path", None) == q.path]
    for src in candidates:
        span = find_quote(q.text, src, near=q.line_start)
        if span:
            return q.model_copy(update={"source_id": src.id, "path": src.path,
                                        "line_start": span[0], "line_end": span[1]})
    return None


def _stat_problem(ev: StatEvidence, analysis: Analysis | None) -> str | None:
    if analysis is None:
        return f"statistic for {ev.segment_id}: no analysis to check it against"
    seg = analysis.segment(ev.segment_id)
    if seg is None:
        return f"statistic for {ev.segment_id}: no such segment in the analysis"
    if ev.closed != seg.closed or ev.won != seg.won:
        return (f"statistic for {ev.segment_id}: closed/won {ev.closed}/{ev.won} "
                f"!= analysis {seg.closed}/{seg.won}")
    for name in ("win_rate", "ci_low", "ci_high"):
        if abs(getattr(ev, name) - getattr(seg, name)) > TOL:
            return f"statistic for {ev.segment_id}: {name} {getattr(ev, name)} != analysis {getattr(seg, name)}"
    extra = set(ev.deal_ids) - set(seg.deal_ids)
    if extra:
        return f"statistic for {ev.segment_id}: deal ids not in the segment: {', '.join(sorted(extra)[:5])}"
    return None


def _short(text: str, n: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


class _Checker:
    def __init__(self, sources_by_id, analysis):
        self.sources = sources_by_id
        self.analysis = analysis
        self.failures: list[str] = []

    def evidence(self, items: list, where: str, *, indexed: bool = False) -> list:
        """The items that check out; `indexed` names each item (for a bare list of quotes)."""
        kept = []
        for i, ev in enumerate(items):
            here = f"{where}[{i}]" if indexed else where
            if isinstance(ev, QuoteEvidence):
                ok = verify_quote(ev, self.sources)
                if ok is None:
                    self.failures.append(f"{here}: quote not found in {ev.path}: '{_short(ev.text)}'")
                else:
                    kept.append(ok)
            else:
                problem = _stat_problem(ev, self.analysis)
                if problem:
                    self.failures.append(f"{here}: {problem}")
                else:
                    kept.append(ev)
        return kept

    def claim(self, c: Claim, where: str) -> Claim:
        if not c.evidence:
            return c
        kept = self.evidence(c.evidence, where)
        if len(kept) == len(c.evidence):
            return c.model_copy(update={"evidence": kept})
        if kept:
            return c.model_copy(update={"evidence": kept, "confidence": _CONF_DOWN[c.confidence]})
        # Nothing behind it any more: never shown as fact.
        status = "inferred" if c.status == "supported" else c.status
        conf = "low" if c.confidence in ("high", "medium") else "unknown"
        return c.model_copy(update={"evidence": [], "status": status, "confidence": conf})

    def claims(self, items: list[Claim], where: str) -> list[Claim]:
        return [self.claim(c, f"{where}[{i}]") for i, c in enumerate(items)]

    def weighted(self, item: QualificationSignal | Disqualifier, where: str):
        if not item.evidence:
            return item
        kept = self.evidence(item.evidence, where)
        if len(kept) == len(item.evidence):
            return item.model_copy(update={"evidence": kept})
        conf = _CONF_DOWN[item.confidence] if kept else (
            "low" if item.confidence in ("high", "medium") else "unknown")
        return item.model_copy(update={"evidence": kept, "confidence": conf})

    def persona(self, p: Persona, prefix: str = "") -> Persona:
        from persona_assistant.schemas import PERSONA_ITEM_FIELDS

        update = {f: self.claims(getattr(p, f), prefix + f) for f in ("demographics", *PERSONA_ITEM_FIELDS)}
        update["day_in_life"] = self.claim(p.day_in_life, prefix + "day_in_life")
        update["quotes"] = self.evidence(p.quotes, prefix + "quotes", indexed=True)
        return p.model_copy(update=update)

    def icp(self, icp: ICP) -> ICP:
        f = icp.firmographics
        firmo = f.model_copy(update={
            name: self.claims(getattr(f, name), f"firmographics.{name}")
            for name in ("industries", "employee_bands", "revenue_bands", "regions", "technographics", "other")})
        return icp.model_copy(update={
            "firmographics": firmo,
            "challenges": self.claims(icp.challenges, "challenges"),
            "goals": self.claims(icp.goals, "goals"),
            "traits": self.claims(icp.traits, "traits"),
            "long_term_value": self.claim(icp.long_term_value, "long_term_value"),
            "advocacy_potential": self.claim(icp.advocacy_potential, "advocacy_potential"),
            "qualification_signals": [self.weighted(s, f"qualification_signals[{i}]")
                                      for i, s in enumerate(icp.qualification_signals)],
            "disqualifiers": [self.weighted(d, f"disqualifiers[{i}]") for i, d in enumerate(icp.disqualifiers)],
        })


def verify_claims(model: M, sources_by_id: Mapping[str, object],
                  analysis: Analysis | None = None) -> tuple[M, list[str]]:
    """A copy of an ICP, Persona or PersonaSet with only evidence that code could find.

    Claims that lose all evidence become 'inferred' with low/unknown confidence; claims
    that lose some drop one confidence step. `failures` says what was dropped and why,
    one line each, for a re-ask or the draft's notes."""
    check = _Checker(sources_by_id, analysis)
    if isinstance(model, PersonaSet):
        personas = [check.persona(p, f"personas[{i}].") for i, p in enumerate(model.personas)]
        out = model.model_copy(update={"personas": personas})
    elif isinstance(model, Persona):
        out = check.persona(model)
    elif isinstance(model, ICP):
        out = check.icp(model)
    elif isinstance(model, Claim):
        out = check.claim(model, "claim")
    else:
        raise TypeError(f"verify_claims: cannot check a {type(model).__name__}")
    return out, check.failures
