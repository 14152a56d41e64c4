"""Themes: statements of one field that say the same thing, across interviewees.

A statement joins a theme only when its similarity to EVERY member is at least
THRESHOLD (complete linkage: a theme never drifts through a chain of loosely related
quotes); it joins the theme it is most similar to on average, otherwise it starts one.
Statements are taken in a fixed order (source id, line), so the same notes always give the
same themes. Similarity is the cosine of WordLlama sentence vectors (embed.py).

THRESHOLD was measured on the hand-labelled pairs of fixtures/synthesis-eval (the
`themes:` groups of labels.yaml; `python bench/bench_synthesis.py --themes` prints
precision and recall of "same theme" per threshold): 0.55 is the lowest threshold at which
no labelled pair of different statements is joined (pairwise precision 1.00, recall 0.08:
static vectors join near-restatements, not paraphrases in other words; at 0.45 precision
falls to 0.56). So most themes have one interviewee, and a shared theme is a real one.

Each theme has a representative: the member most similar on average to the others (the
earliest on a tie), quoted verbatim; `people` counts distinct interviewees, which is
what a theme's confidence rests on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from persona_assistant.synthesis.statements import Statement

THRESHOLD = 0.55
BLOCK = 512  # rows of similarities computed at once


@dataclass
class Theme:
    field: str
    members: list[Statement] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # rows of the similarity matrix
    representative: Statement | None = None

    @property
    def people(self) -> list[str]:
        return list(dict.fromkeys(m.person.key for m in self.members))


def order_key(s: Statement) -> tuple:
    return (s.person.source.id, s.line_start, s.text)


def build_themes(statements: list[Statement], vectors: np.ndarray, threshold: float = THRESHOLD) -> list[Theme]:
    """Themes of `statements` (rows of `vectors` in the same order), most interviewees first.

    Per field, similarities are computed BLOCK rows at a time against the field's statements
    (never the whole matrix at once); a statement is compared only with the themes of its
    earlier neighbours above the threshold, so the cost is one matrix product per field."""
    order = sorted(range(len(statements)), key=lambda i: order_key(statements[i]))
    themes: list[Theme] = []
    for fld in dict.fromkeys(statements[i].field for i in order):
        idx = [i for i in order if statements[i].field == fld]
        vec = vectors[idx]
        groups: list[list[int]] = []  # positions in idx
        theme_of = np.full(len(idx), -1)
        for start in range(0, len(idx), BLOCK):
            sims = vec[start:start + BLOCK] @ vec.T
            for r in range(sims.shape[0]):
                p, row = start + r, sims[r]
                best, best_mean = -1, -1.0
                for g in sorted(set(theme_of[np.nonzero(row[:p] >= threshold)[0]].tolist())):
                    vals = row[groups[g]]
                    if vals.min() >= threshold:
                        mean = float(vals.mean())
                        if mean > best_mean:
                            best, best_mean = g, mean
                if best < 0:
                    groups.append([])
                    best = len(groups) - 1
                groups[best].append(p)
                theme_of[p] = best
        for members in groups:
            th = Theme(fld, [statements[idx[q]] for q in members], [idx[q] for q in members])
            if len(members) == 1:
                th.representative = th.members[0]
            else:
                block = vec[members] @ vec[members].T
                means = (block.sum(axis=1) - 1.0) / (len(members) - 1)
                th.representative = th.members[int(np.argmax(means))]
            themes.append(th)
    first = {id(th): min(order_key(m) for m in th.members) for th in themes}
    return sorted(themes, key=lambda th: (-len(th.people), first[id(th)]))
