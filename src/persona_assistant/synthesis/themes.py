"""Themes: statements of one field that say the same thing, across interviewees.

A statement joins a theme only when its similarity to EVERY member is at least
THRESHOLD (complete linkage: a theme never drifts through a chain of loosely related
quotes); it joins the theme it is most similar to on average, otherwise it starts one.
Statements are taken in a fixed order (source id, line), so the same notes always give the
same themes. Similarity is the cosine of WordLlama sentence vectors (embed.py).

THRESHOLD was measured on the hand-labelled pairs of fixtures/synthesis-eval (the
`themes:` groups of labels.yaml: 26 groups, 74 same-theme pairs among 2,441 same-field
pairs, 58 of them within one role family, which is where the engine compares statements
since themes are built per persona). `python bench/bench_synthesis.py --themes` prints
pairwise precision and recall per threshold: 0.55 is the lowest threshold at which no
labelled pair of different statements is joined (precision 1.00; at 0.525 0.67 over all
pairs, at 0.50 0.75 within a family, at 0.45 0.67). Recall is low (0.02-0.03): static
vectors join near-restatements ("work with HubSpot out of the box"; "pipeline per euro
spent on events" / "marketing-sourced pipeline and cost per opportunity"), not paraphrases
in other words, and centring, IDF weighting, word alignment or word overlap rank no
better (none reaches precision 0.9 above recall 0.03). So most themes have one
interviewee, and a shared theme is a real one; `bench_synthesis.py` prints the engine's
own pairwise theme precision and recall.

Themes are ranked by how many interviewees said them, then by their strongest member's
weight (statements.py: how surely it speaks to its field), then by where they first occur:
a persona shows its best-supported items first, not the ones said earliest in the files.

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
    """Themes of `statements` (rows of `vectors` in the same order), most interviewees first."""
    order = sorted(range(len(statements)), key=lambda i: order_key(statements[i]))
    themes: list[Theme] = []
    for fld in dict.fromkeys(statements[i].field for i in order):
        idx = [i for i in order if statements[i].field == fld]
        vec = vectors[idx]
        for members in _complete_linkage(vec, threshold):
            th = Theme(fld, [statements[idx[q]] for q in members], [idx[q] for q in members])
            if len(members) == 1:
                th.representative = th.members[0]
            else:
                # Mean similarity of each member to the others, without the members x members matrix.
                sub = vec[members]
                means = (sub @ sub.sum(axis=0) - (sub * sub).sum(axis=1)) / (len(members) - 1)
                th.representative = th.members[int(np.argmax(means))]
            themes.append(th)
    first = {id(th): min(order_key(m) for m in th.members) for th in themes}
    strength = {id(th): max(m.weight for m in th.members) for th in themes}
    return sorted(themes, key=lambda th: (-len(th.people), -strength[id(th)], first[id(th)]))


def _complete_linkage(vec: np.ndarray, threshold: float) -> list[list[int]]:
    """Rows of `vec` (in order) grouped: each row joins the group whose every member it is at
    least `threshold` similar to, the one with the highest mean similarity (the earliest on a
    tie), else starts a group.

    Rows are taken BLOCK at a time: the block's similarities to every row, then per group the
    minimum and the sum over its members (one reduceat for the groups formed before the
    block), kept up to date as rows of the block join; so each row costs a few vector
    operations however large the groups grow."""
    groups: list[list[int]] = []
    n = len(vec)
    for start in range(0, n, BLOCK):
        end = min(n, start + BLOCK)
        sims = vec[start:end] @ vec.T  # block x n
        size = end - start
        known = len(groups)
        mins = np.full((size, known + size), -np.inf, dtype=np.float32)
        sums = np.zeros((size, known + size), dtype=np.float32)
        counts = np.zeros(known + size, dtype=np.float32)
        if known:
            cols = [q for g in groups for q in g]
            offsets = np.cumsum([0] + [len(g) for g in groups[:-1]])
            picked = sims[:, cols]
            mins[:, :known] = np.minimum.reduceat(picked, offsets, axis=1)
            sums[:, :known] = np.add.reduceat(picked, offsets, axis=1)
            counts[:known] = [len(g) for g in groups]
        for r in range(size):
            p = start + r
            live = len(groups)
            cand = np.nonzero(mins[r, :live] >= threshold)[0]
            if len(cand):
                best = int(cand[np.argmax(sums[r, cand] / counts[cand])])
            else:
                groups.append([])
                best = live
            groups[best].append(p)
            counts[best] += 1
            later = sims[r + 1:, p]
            mins[r + 1:, best] = np.minimum(mins[r + 1:, best], later) if counts[best] > 1 else later
            sums[r + 1:, best] += later
    return groups
