"""Scoring a persona draft against hand labels (fixtures/synthesis-eval/labels.yaml).

Shared by bench/bench_synthesis.py (which prints the figures) and the tests (which hold
them at their targets). It reads the label file and the notes itself and decides who
speaks on each line with its own small parser, independent of ingest/notes.py, so
the engine cannot grade its own speaker detection.

Figures
- recall: labelled statements cited (a quote containing the label's snippet, or
  contained in it) under their labelled field in some persona.
- precision: cited quotes (one per field, file and text) that match a labelled
  statement of the same field.
- off_topic: cited quotes matching no labelled statement and not said by a host.
- host_share: cited quotes whose line a host said.
- purity: interviewees (a person: a file's sole interviewee, or a named panel guest)
  in their persona's majority role family, over all interviewees cited.
- personas: how many personas; families: how many role families were labelled.
- theme_precision / theme_recall (pairwise): two labelled statements are "joined" when one
  persona claim cites both under their labelled field (a claim is one theme: its evidence is
  the theme's members); the label file's `themes:` groups say which pairs mean the same
  thing. Precision: joined pairs that are labelled the same theme, over joined pairs;
  recall: labelled same-theme pairs joined, over all labelled same-theme pairs (day in the
  life is one claim per persona, not a theme, and is left out).
- shared_themes: claims (list fields) citing two or more labelled interviewees.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

FIELD_OF = {"pains": "pain", "goals": "goal", "objections": "objection", "triggers": "trigger",
            "decision_criteria": "criterion", "channels": "channel", "success_metrics": "metric",
            "motivations": "motivation", "day_in_life": "day"}
_LABEL = re.compile(r"^\s*(?:<v\s+(?P<v>[^>]+)>|\*\*(?P<b>[^*]{1,40}?)(?::\*\*|\*\*\s*:)|"
                    r"(?P<p>[A-Z][\w.'’ -]{0,40}?)\s*:\s)")
_TABLE = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})


def norm(text: str) -> str:
    return " ".join(text.translate(_TABLE).replace("**", "").split()).lower()


@dataclass
class Cited:
    field: str
    path: str
    line_start: int
    text: str
    persona: str
    label: tuple | None = None  # (who, field, snippet) matched
    speaker: str | None = None


@dataclass
class Report:
    recall: float
    precision: float
    off_topic: float
    host_share: float
    purity: float
    personas: int
    families: int
    statements: int
    cited: int
    theme_precision: float = 1.0
    theme_recall: float = 0.0
    theme_pairs: int = 0  # labelled same-theme pairs
    joined_pairs: int = 0
    shared_themes: int = 0
    missed: list[tuple] = field(default_factory=list)
    wrong: list[Cited] = field(default_factory=list)
    persona_families: dict[str, Counter] = field(default_factory=dict)


def line_speakers(lines: list[str]) -> list[str | None]:
    """The speaker label in force at each line (None before the first label)."""
    out, cur = [], None
    for ln in lines:
        m = _LABEL.match(ln)
        if m:
            cur = (m.group("v") or m.group("b") or m.group("p")).strip()
        out.append(cur)
    return out


def _first(name: str) -> str:
    return name.split()[0].lower() if name.split() else ""


def evaluate(pset, labels: dict, notes_dir: Path) -> Report:
    """Score a PersonaSet (persona objects with claims citing QuoteEvidence)."""
    notes = labels["notes"]
    files = {name: (notes_dir / name).read_text(encoding="utf-8-sig").splitlines() for name in notes}
    speakers = {name: line_speakers(lines) for name, lines in files.items()}
    cited: dict[tuple, Cited] = {}
    claim_keys: list[list[tuple]] = []  # per list-field claim, the cited keys
    for p in pset.personas:
        for fname, short in FIELD_OF.items():
            claims = getattr(p, fname)
            for claim in claims if isinstance(claims, list) else [claims]:
                keys = []
                for ev in claim.evidence:
                    if getattr(ev, "kind", "") != "quote":
                        continue
                    base = Path(ev.path).name
                    key = (short, base, norm(ev.text))
                    cited.setdefault(key, Cited(short, base, ev.line_start, ev.text, p.id))
                    keys.append(key)
                if short != "day":
                    claim_keys.append(keys)
    for c in cited.values():
        spec = notes.get(c.path)
        if spec is None:
            continue
        c.speaker = speakers[c.path][c.line_start - 1] if c.line_start <= len(speakers[c.path]) else None
        q = norm(c.text)
        matches = [tuple(s) for s in spec["statements"] if norm(s[2]) in q or (len(q.split()) >= 4 and q in norm(s[2]))]
        same = [m for m in matches if m[1] == c.field]
        c.label = (same or matches or [None])[0]
    hosts = {name: {h.lower() for h in spec.get("hosts", [])} for name, spec in notes.items()}
    unlabelled_host = {name for name, spec in notes.items() if spec.get("unlabelled") == "host"}

    def is_host(c: Cited) -> bool:
        if c.path not in notes or c.label is not None:
            return False
        if c.speaker is None:
            return c.path in unlabelled_host
        return c.speaker.lower() in hosts[c.path] or _first(c.speaker) in {_first(h) for h in hosts[c.path]}

    total = len(cited) or 1
    good = [c for c in cited.values() if c.label and c.label[1] == c.field]
    host = [c for c in cited.values() if is_host(c)]
    off = [c for c in cited.values() if c.label is None and not is_host(c)]
    found = {(c.path, c.label) for c in good}
    all_statements = [(name, tuple(s)) for name, spec in notes.items() for s in spec["statements"]]
    missed = [(name, s) for name, s in all_statements if (name, s) not in found]
    # purity over people
    fam: dict[str, Counter] = defaultdict(Counter)
    people_seen: dict[tuple, set] = defaultdict(set)
    for c in cited.values():
        if c.label is None or c.path not in notes:
            continue
        who = c.label[0]
        family = notes[c.path]["interviewees"].get(who)
        if family is None:
            continue
        person = (c.path, who)
        if c.persona not in people_seen[person]:
            people_seen[person].add(c.persona)
            fam[c.persona][family] += 1
    people = sum(sum(f.values()) for f in fam.values()) or 1
    purity = sum(max(f.values()) for f in fam.values()) / people
    families = {f for spec in notes.values() for f in spec["interviewees"].values()}
    themes = _theme_figures(labels, cited, claim_keys)
    return Report(**themes,
        recall=len(found) / max(1, len(all_statements)), precision=len(good) / total,
        off_topic=len(off) / total, host_share=len(host) / total, purity=purity,
        personas=len(pset.personas), families=len(families), statements=len(all_statements),
        cited=len(cited), missed=missed, wrong=[c for c in cited.values() if c not in good],
        persona_families={k: v for k, v in fam.items()})


def _theme_figures(labels: dict, cited: dict[tuple, Cited], claim_keys: list[list[tuple]]) -> dict:
    """Pairwise theme precision and recall (see the module docstring)."""
    def statement(c: Cited) -> tuple | None:
        return (c.path, c.label[2]) if c.label and c.label[1] == c.field else None

    group_of = {(f, snippet): i for i, g in enumerate(labels.get("themes") or []) for f, snippet in g}
    sizes = Counter(group_of.values())
    labelled_pairs = sum(n * (n - 1) // 2 for n in sizes.values())
    joined: set[frozenset] = set()
    shared = 0
    for keys in claim_keys:
        members = list(dict.fromkeys(s for s in (statement(cited[k]) for k in keys) if s))
        people = {(m[0], next(lab[0] for lab in labels["notes"][m[0]]["statements"] if lab[2] == m[1]))
                  for m in members}
        shared += len(people) >= 2
        joined.update(frozenset((a, b)) for i, a in enumerate(members) for b in members[i + 1:])
    right = sum(1 for pair in joined if len({group_of.get(m, ("none", m)) for m in pair}) == 1)
    return {"theme_precision": right / len(joined) if joined else 1.0,
            "theme_recall": right / labelled_pairs if labelled_pairs else 0.0,
            "theme_pairs": labelled_pairs, "joined_pairs": len(joined), "shared_themes": shared}
