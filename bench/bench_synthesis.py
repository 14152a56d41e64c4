"""Benchmark: interview synthesis on the hand-labelled evaluation set.

    python bench/bench_synthesis.py [--notes DIR --labels FILE] [--verbose]

Runs the offline persona engine (what `draft personas` does without a model) on
fixtures/synthesis-eval/notes and prints recall, precision, grouping purity, persona
count, the share of host speech in the evidence and the share of off-topic items
(definitions in persona_assistant/synthesis/evaluate.py), plus wall time and peak RSS.
--verbose lists missed statements and wrong citations. --themes measures the theme
threshold: for every pair of labelled statements of one field, whether the labels' `themes:`
groups say they mean the same thing, against the similarity of the engine's statements,
for WordLlama vectors and for content-word overlap (Jaccard of stems, no model), printing
pairwise precision and recall per threshold. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from persona_assistant.draft.offline_personas import offline_personas  # noqa: E402
from persona_assistant.ingest.notes import load_sources  # noqa: E402
from persona_assistant.synthesis.evaluate import evaluate  # noqa: E402

TARGETS = {"recall": 0.85, "precision": 0.90, "purity": 1.0, "host_share": 0.0, "off_topic": 0.05}


def theme_thresholds(labels: dict, notes_dir: Path, sources: list) -> None:
    import numpy as np

    from persona_assistant.draft.offline import content_stems
    from persona_assistant.synthesis.embed import default_embedder
    from persona_assistant.synthesis.evaluate import norm
    from persona_assistant.synthesis.pipeline import synthesize

    syn = synthesize(sources)
    by_label = {}
    for name, spec in labels["notes"].items():
        for who, fld, snippet in spec["statements"]:
            hit = next((s for s in syn.statements if Path(s.person.source.path).name == name
                        and norm(snippet) in norm(s.text)), None)
            if hit is not None:
                by_label[(name, snippet)] = (fld, hit.text)
    group_of = {(f, s): i for i, g in enumerate(labels.get("themes", [])) for f, s in g}
    keys = sorted(by_label)
    texts = [by_label[k][1] for k in keys]
    vec = default_embedder().embed(texts)
    stems = [content_stems(t) for t in texts]
    pairs = []
    for i in range(len(keys)):
        for j in range(i + 1, len(keys)):
            if by_label[keys[i]][0] != by_label[keys[j]][0]:
                continue
            same = keys[i] in group_of and group_of.get(keys[i]) == group_of.get(keys[j])
            jac = len(stems[i] & stems[j]) / max(1, len(stems[i] | stems[j]))
            pairs.append((same, float(vec[i] @ vec[j]), jac))
    pos = sum(p[0] for p in pairs)
    print(f"labelled statements found {len(keys)}, same-field pairs {len(pairs)}, same-theme pairs {pos}")
    print("threshold  wordllama P / R      overlap P / R")
    for th in np.arange(0.30, 0.91, 0.05):
        row = []
        for k in (1, 2):
            joined = [p for p in pairs if p[k] >= th]
            tp = sum(p[0] for p in joined)
            row.append(f"{tp / len(joined) if joined else 1:.2f} / {tp / max(1, pos):.2f} ({len(joined):4d})")
        print(f"  {th:.2f}     {row[0]}   {row[1]}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=Path, default=ROOT / "fixtures/synthesis-eval/notes")
    ap.add_argument("--labels", type=Path, default=ROOT / "fixtures/synthesis-eval/labels.yaml")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--themes", action="store_true")
    args = ap.parse_args()
    labels = yaml.safe_load(args.labels.read_text(encoding="utf-8"))
    if args.themes:
        theme_thresholds(labels, args.notes, load_sources(sorted(args.notes.iterdir()), root=args.notes))
        return
    t0 = time.perf_counter()
    sources = load_sources(sorted(args.notes.iterdir()), root=args.notes)
    pset = offline_personas(sources, icp_id=None)
    took = time.perf_counter() - t0
    r = evaluate(pset, labels, args.notes)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"notes {len(sources)}, labelled statements {r.statements}, cited quotes {r.cited}")
    for name in ("recall", "precision", "purity", "host_share", "off_topic"):
        value, target = getattr(r, name), TARGETS[name]
        ok = value <= target if name in ("host_share", "off_topic") else value >= target
        print(f"{name:11s} {value:6.3f}   target {'<=' if name in ('host_share', 'off_topic') else '>='} "
              f"{target:.2f}  {'ok' if ok else 'MISS'}")
    print(f"personas    {r.personas:6d}   role families labelled {r.families}")
    for pid, fam in sorted(r.persona_families.items()):
        print(f"  {pid}: {dict(fam)}")
    print(f"time {took:.2f} s, peak RSS {rss:.0f} MB")
    if args.verbose:
        for name, s in r.missed:
            print(f"MISSED {name}: {s[1]}: {s[2]}")
        for c in r.wrong:
            got = c.label[1] if c.label else "off-topic"
            print(f"WRONG {c.path}:{c.line_start} cited as {c.field}, labelled {got} ({c.speaker}): {c.text[:90]}")


if __name__ == "__main__":
    main()
