"""Field-by-field diff of two draft versions, naming the sources behind each change.

A draft is flattened to fields ("personas.finance-controller.pains"): scalar fields compare
by value; lists of claims, quotes and strings compare as sets of items (by text), so a
re-ordered list is not a change. An item whose text stayed but whose evidence changed is
reported as "evidence". Each changed field lists the sources its new evidence cites (a note's
path, or "crm:<segment>" for a statistic), and which of them no earlier version cited.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from pydantic import BaseModel

from persona_assistant.schemas import ICP, Claim, PersonaSet, QuoteEvidence

Item = tuple[str, frozenset[str]]  # (text, sources of its evidence)


def _sources(evidence) -> frozenset[str]:
    return frozenset(e.path if isinstance(e, QuoteEvidence) else f"crm:{e.segment_id}" for e in evidence)


def _item(value) -> Item | None:
    if isinstance(value, Claim):
        return value.text, _sources(value.evidence)
    if isinstance(value, QuoteEvidence):
        return value.text, _sources([value])
    if hasattr(value, "criterion"):  # QualificationSignal / Disqualifier
        return value.criterion, _sources(value.evidence)
    if isinstance(value, (str, int, float, bool)) or value is None:
        return str(value), frozenset()
    return None


def flatten(model: BaseModel, prefix: str = "") -> dict[str, dict[str, frozenset[str]] | str]:
    """path -> scalar text, or path -> {item text: sources} for lists and claims."""
    out: dict = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        path = f"{prefix}{name}"
        if isinstance(model, PersonaSet) and name == "personas":
            for p in value:
                out.update(flatten(p, f"personas.{p.id}."))
            out["personas"] = {p.id: frozenset() for p in value}
        elif isinstance(model, PersonaSet) and name == "notes":
            continue  # drafting notes are not content
        elif isinstance(value, list):
            items = [_item(v) for v in value]
            out[path] = {t: s for t, s in (i for i in items if i is not None)}
        elif isinstance(value, Claim):
            out[path] = {value.text: _sources(value.evidence)}
        elif isinstance(value, BaseModel):
            out.update(flatten(value, f"{path}."))
        else:
            out[path] = str(value)
    return out


@dataclass
class FieldChange:
    field: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    evidence: list[str] = field(default_factory=list)  # same text, different sources
    before: str | None = None  # scalar fields
    after: str | None = None
    sources: list[str] = field(default_factory=list)  # sources behind the added/changed items
    new_sources: list[str] = field(default_factory=list)  # of those, not cited in the old version


@dataclass
class VersionDiff:
    kind: str
    old: str
    new: str
    changes: list[FieldChange]
    new_sources: list[str]  # cited by the new version, not by the old one

    def to_dict(self) -> dict:
        return asdict(self)


def all_sources(flat: dict) -> set[str]:
    return {s for v in flat.values() if isinstance(v, dict) for srcs in v.values() for s in srcs}


def diff_models(kind: str, old: BaseModel, new: BaseModel, old_label: str = "old",
                new_label: str = "new") -> VersionDiff:
    a, b = flatten(old), flatten(new)
    known = all_sources(a)
    changes = []
    for path in sorted(set(a) | set(b)):
        va, vb = a.get(path), b.get(path)
        if isinstance(va, dict) or isinstance(vb, dict):
            va, vb = va if isinstance(va, dict) else {}, vb if isinstance(vb, dict) else {}
            ch = FieldChange(path, added=[t for t in vb if t not in va], removed=[t for t in va if t not in vb],
                             evidence=[t for t in vb if t in va and vb[t] != va[t]])
            if not (ch.added or ch.removed or ch.evidence):
                continue
            srcs = {s for t in ch.added for s in vb[t]} | {s for t in ch.evidence for s in vb[t] - va[t]}
        else:
            if va == vb:
                continue
            ch = FieldChange(path, before=va, after=vb)
            srcs = set()
        ch.sources = sorted(srcs)
        ch.new_sources = sorted(srcs - known)
        changes.append(ch)
    return VersionDiff(kind, old_label, new_label, changes, sorted(all_sources(b) - known))


MODELS = {"icp": ICP, "personas": PersonaSet}


def diff_versions(ws, kind: str, old: int | None = None, new: int | None = None) -> VersionDiff:
    """Diff two saved versions of `kind` (default: the last two); UsageError when there are not two."""
    from persona_assistant.errors import UsageError

    if kind not in MODELS:
        raise UsageError(f"KIND: {kind!r} is not a draft kind (use icp or personas)")
    numbers = [v.number for v in ws.versions(kind)]
    if new is None:
        new = numbers[-1] if numbers else None
    if old is None:
        older = [n for n in numbers if new is not None and n < new]
        old = older[-1] if older else None
    if old is None or new is None:
        raise UsageError(f"need two versions of {kind} in {ws.drafts_dir / kind} to diff "
                         f"(found {len(numbers)}; run `persona-assistant draft {kind}` again)")
    model = MODELS[kind]
    a, b = ws.load_version(kind, model, old), ws.load_version(kind, model, new)
    return diff_models(kind, a, b, f"v{old:04d}", f"v{new:04d}")


def version_summary(kind: str, model: BaseModel) -> dict:
    """Counts shown by `history`: personas, claims, quotes, sources cited."""
    flat = flatten(model)
    claims = sum(len(v) for k, v in flat.items() if isinstance(v, dict) and k != "personas")
    out = {"claims_and_items": claims, "sources_cited": len(all_sources(flat))}
    if isinstance(model, PersonaSet):
        out["personas"] = len(model.personas)
        out["quotes"] = sum(len(p.quotes) for p in model.personas)
    return out
