"""Personas by role family and need: which interviewees make one persona, and why.

1. Role family first: the function their role names (roles.parse_title: a Head of Demand
   Generation and a VP Marketing are both marketing; a RevOps manager and a sales-ops
   lead both revops). A vague function ("operations", or none) is refined by the whole
   sentence that gave the role ("the only ops person ..., so I run the CRM" is revops).
   Consumers (B2C sources) are families of their own.
2. Within a family, leaders (C-level, VP, head, director) and practitioners (managers,
   individual contributors) become separate personas only when each side has at least
   MIN_SPLIT interviewees: they buy differently (budget owner vs user), but a lone
   manager among marketing leaders joins them rather than becoming a one-interview persona.
3. An interviewee whose role the notes never state joins the family whose interviewees
   said the most similar things (cosine of mean statement vectors), and the reason says
   so; there is no "unknown role" persona unless nobody's role is known.
Every group carries a plain-language reason; draft/offline.py puts it in the draft's notes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from persona_assistant.roles import parse_title
from persona_assistant.synthesis.speakers import Person

MIN_SPLIT = 2
LEADERS = {"c_level", "vp", "director"}
VAGUE = {"operations", "unknown", "executive"}
FAMILY_NAMES = {
    "finance": "Finance", "revops": "Revenue operations", "engineering": "Engineering and platform",
    "it": "IT", "marketing": "Marketing", "sales": "Sales", "security": "Security", "data": "Data",
    "product": "Product", "operations": "Operations", "customer_success": "Customer success", "hr": "People",
    "legal": "Legal", "procurement": "Procurement", "executive": "Executive", "devrel": "Developer relations",
    "consumer": "Consumers", "unknown": "Interviewees",
}


@dataclass
class Group:
    id: str
    function: str
    band: str  # "leaders" | "practitioners" | "all"
    b2c: bool
    people: list[Person] = field(default_factory=list)
    reason: str = ""

    @property
    def label(self) -> str:
        """'Finance leaders', 'Marketing' (plural, for ids and summaries)."""
        return self.family if self.band == "all" else f"{self.family} {self.band}"

    @property
    def role_label(self) -> str:
        """'Finance leader', 'Marketing professional' (one person's role, for a persona's name)."""
        return f"{self.family} {'professional' if self.band == 'all' else self.band[:-1]}"

    @property
    def family(self) -> str:
        return FAMILY_NAMES.get(self.function, self.function.replace("_", " ").title())


_COMPANY_DESC = re.compile(r",? (?:at|for) [^,.;]+|,? an? [^,.;]*?(?:company|startup|firm|business|chain|studio|"
                           r"group|provider|district|retailer|agency)\b", re.I)


def role_family(p: Person) -> tuple[str, str]:
    """(function, seniority) of a person, a vague function refined by the sentence that gave
    the role, read without its company description ("a 40-person data startup" says what the
    company does, not the person)."""
    seniority, function = parse_title(p.role)
    if function in VAGUE and p.role_text:
        s2, f2 = parse_title(_COMPANY_DESC.sub(" ", p.role_text))
        if f2 not in VAGUE:
            function = f2
            seniority = seniority if seniority != "unknown" else s2
    return function, seniority


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "persona"


def group_people(people: list[Person], centroids: dict[str, np.ndarray], b2c: dict[str, bool]) -> list[Group]:
    """Personas' member lists (see the module docstring), largest first, deterministic."""
    fam: dict[tuple[bool, str], list[Person]] = {}
    unknown: list[Person] = []
    levels: dict[str, str] = {}
    for p in people:
        function, seniority = role_family(p)
        levels[p.key] = seniority
        if function == "unknown":
            unknown.append(p)
        else:
            fam.setdefault((b2c.get(p.key, False), function), []).append(p)
    attached: dict[str, str] = {}
    if fam:
        means = {k: np.mean([centroids[m.key] for m in v if m.key in centroids], axis=0)
                 for k, v in fam.items() if any(m.key in centroids for m in v)}
        for p in unknown:
            if p.key in centroids and means:
                best = max(sorted(means), key=lambda k: float(means[k] @ centroids[p.key]))
            else:
                best = max(sorted(fam), key=lambda k: len(fam[k]))
            fam[best].append(p)
            attached[p.key] = FAMILY_NAMES.get(best[1], best[1])
    elif unknown:
        fam[(False, "unknown")] = unknown
    groups: list[Group] = []
    for (is_b2c, function), members in fam.items():
        bands = {"leaders": [m for m in members if levels[m.key] in LEADERS],
                 "practitioners": [m for m in members if levels[m.key] not in LEADERS]}
        split = all(len(v) >= MIN_SPLIT for v in bands.values())
        parts = bands.items() if split else [("all", members)]
        for band, ms in parts:
            g = Group("", function, band, is_b2c, sorted(ms, key=lambda m: m.key))
            g.id = _slug(("b2c " if is_b2c else "") + g.label)
            titles = Counter(m.role for m in ms if m.role)
            why = f"role family {FAMILY_NAMES.get(function, function)}"
            if titles:
                why += f" ({', '.join(t for t, _ in titles.most_common(6))})"
            if split:
                why += f"; {band} split from {'practitioners' if band == 'leaders' else 'leaders'}: " \
                       f"each side has {MIN_SPLIT}+ interviewees"
            elif len([v for v in bands.values() if v]) > 1:
                why += "; leaders and practitioners kept together (too few on one side to split)"
            extra = [f"{m.name or m.key} (role not stated; closest by what they said)"
                     for m in ms if m.key in attached]
            if extra:
                why += "; " + "; ".join(extra)
            g.reason = why
            groups.append(g)
    return sorted(groups, key=lambda g: (g.b2c, -len(g.people), g.id))
