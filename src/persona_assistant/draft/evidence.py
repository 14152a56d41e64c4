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
from typing import Callable, Mapping, TypeVar

from pydantic import BaseModel

from persona_assistant.safe_text import shorten
from persona_assistant.schemas import ICP, Analysis, Claim, Persona, PersonaSet, QuoteEvidence, StatEvidence

M = TypeVar("M", bound=BaseModel)
N = TypeVar("N")

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


EvidenceItem = QuoteEvidence | StatEvidence
# item(ev, where) -> the evidence to keep in its place, or None to drop it
ItemFn = Callable[[EvidenceItem, str], "EvidenceItem | None"]
# holder(before, after, where) -> the holder to keep, given its evidence before and after `item`
HolderFn = Callable[[BaseModel, BaseModel, str], BaseModel]


def map_evidence(node: N, item: ItemFn, holder: HolderFn | None = None, where: str = "") -> N:
    """The one walk over evidence: `node` (any contract, or a list of them) with `item` applied to
    every QuoteEvidence and StatEvidence inside it, in field order; an item mapped to None is dropped.

    `where` names each item for messages: an item in a claim's (or signal's) `evidence` is named by
    its holder ("personas[0].pains[2]"), an item in a bare list by its index ("quotes[1]"). After a
    holder's evidence is mapped, `holder(before, after, where)` may adjust the rest of it (status,
    confidence). Unchanged parts are returned as the same objects, so a walk that changes nothing
    copies nothing."""
    if isinstance(node, (QuoteEvidence, StatEvidence)):
        return item(node, where)  # type: ignore[return-value]
    if isinstance(node, list):
        out = [map_evidence(x, item, holder, f"{where}[{i}]") for i, x in enumerate(node)]
        kept = [x for x in out if x is not None]
        return node if len(kept) == len(node) and all(a is b for a, b in zip(kept, node)) else kept
    if not isinstance(node, BaseModel):
        return node
    update = {}
    for name in type(node).model_fields:
        value = getattr(node, name)
        if isinstance(value, (list, BaseModel)):
            if name == "evidence":  # items are named by their holder
                new = [x for i, e in enumerate(value) if (x := item(e, where)) is not None]
                new = value if len(new) == len(value) and all(a is b for a, b in zip(new, value)) else new
            else:
                new = map_evidence(value, item, holder, f"{where}.{name}" if where else name)
            if new is not value:
                update[name] = new
    after = node.model_copy(update=update) if update else node
    if holder is not None and "evidence" in type(node).model_fields:
        return holder(node, after, where)  # type: ignore[return-value]
    return after


def evidence_items(node) -> list[tuple[str, EvidenceItem]]:
    """Every evidence item inside `node` with its name (see `map_evidence`), in field order."""
    found: list[tuple[str, EvidenceItem]] = []

    def keep(ev, where):
        found.append((where, ev))
        return ev

    map_evidence(node, keep)
    return found


def interviewees(claim) -> int:
    """How many distinct interviewees (sources) a claim's quotes come from."""
    return len({e.source_id for e in claim.evidence if isinstance(e, QuoteEvidence)})


def fabricated_quotes(model, sources_by_id) -> list[str]:
    """Normalised texts of every quote in `model` that is not in its cited source."""
    return [t for _, ev in evidence_items(model) if isinstance(ev, QuoteEvidence)
            and verify_quote(ev, sources_by_id) is None and (t := normalise(ev.text))]


class _Checker:
    """What verification does to each item (`item`) and to the claim or signal holding it (`holder`)."""

    def __init__(self, sources_by_id, analysis):
        self.sources = sources_by_id
        self.analysis = analysis
        self.failures: list[str] = []

    def item(self, ev, where: str):
        if isinstance(ev, QuoteEvidence):
            ok = verify_quote(ev, self.sources)
            if ok is None:
                self.failures.append(f"{where}: quote not found in {ev.path}: '{shorten(ev.text, 80)}'")
            return ok
        problem = _stat_problem(ev, self.analysis)
        if problem:
            self.failures.append(f"{where}: {problem}")
            return None
        return ev

    @staticmethod
    def holder(before, after, where: str):
        """Losing some evidence drops one confidence step; losing all of it makes a supported
        claim 'inferred' (never shown as fact) with low/unknown confidence."""
        if len(after.evidence) == len(before.evidence):
            return after
        if after.evidence:
            return after.model_copy(update={"confidence": _CONF_DOWN[before.confidence]})
        update = {"confidence": "low" if before.confidence in ("high", "medium") else "unknown"}
        if isinstance(before, Claim) and before.status == "supported":
            update["status"] = "inferred"
        return after.model_copy(update=update)


def verify_claims(model: M, sources_by_id: Mapping[str, object],
                  analysis: Analysis | None = None) -> tuple[M, list[str]]:
    """A copy of an ICP, Persona or PersonaSet with only evidence that code could find.

    Claims that lose all evidence become 'inferred' with low/unknown confidence; claims
    that lose some drop one confidence step. `failures` says what was dropped and why,
    one line each, for a re-ask or the draft's notes."""
    if not isinstance(model, (PersonaSet, Persona, ICP, Claim)):
        raise TypeError(f"verify_claims: cannot check a {type(model).__name__}")
    check = _Checker(sources_by_id, analysis)
    out = map_evidence(model, check.item, check.holder, "claim" if isinstance(model, Claim) else "")
    return out, check.failures
