"""Benchmark: interview synthesis on the hand-labelled evaluation set.

    python bench/bench_synthesis.py [--notes DIR --labels FILE] [--verbose]

Runs the offline persona engine (what `draft personas` does without a model) on
fixtures/synthesis-eval/notes and prints recall, precision, grouping purity, persona
count, the share of host speech in the evidence and the share of off-topic items
(definitions in persona_assistant/synthesis/evaluate.py), plus wall time and peak RSS.
--verbose lists missed statements and wrong citations. Prints figures; asserts nothing.
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

from persona_assistant.draft.offline import offline_personas  # noqa: E402
from persona_assistant.ingest.notes import load_sources  # noqa: E402
from persona_assistant.synthesis.evaluate import evaluate  # noqa: E402

TARGETS = {"recall": 0.85, "precision": 0.90, "purity": 1.0, "host_share": 0.0, "off_topic": 0.05}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=Path, default=ROOT / "fixtures/synthesis-eval/notes")
    ap.add_argument("--labels", type=Path, default=ROOT / "fixtures/synthesis-eval/labels.yaml")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    labels = yaml.safe_load(args.labels.read_text(encoding="utf-8"))
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
