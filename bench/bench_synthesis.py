"""Benchmark: interview synthesis on the hand-labelled evaluation set.

    python bench/bench_synthesis.py [--notes DIR --labels FILE] [--verbose]

Runs the offline persona engine (what `draft personas` does without a model) on
fixtures/synthesis-eval/notes and prints recall, precision, grouping purity, persona
count, the share of host speech in the evidence and the share of off-topic items
(definitions in persona_assistant/synthesis/evaluate.py), plus wall time and peak RSS.
--verbose lists missed statements and wrong citations. --scale N writes N generated
transcripts of about 10,000 words each (a host asking, a guest answering in long turns; by
default 15% of the guest's sentences state a need or are small talk, the rest is narrative,
as in real interviews; --need-share 1.0 is the worst case) to a temporary folder and times reading and synthesising
them offline (target: 100 in under 30 s and 1 GB peak RSS on two cores). --themes measures the theme
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
    family = {(name, snippet): spec["interviewees"].get(who)
              for name, spec in labels["notes"].items() for who, _, snippet in spec["statements"]}
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
            kin = family[keys[i]] == family[keys[j]]
            pairs.append((same, float(vec[i] @ vec[j]), jac, kin))
    pos = sum(p[0] for p in pairs)
    kin_pos = sum(p[0] for p in pairs if p[3])
    print(f"labelled statements found {len(keys)}, same-field pairs {len(pairs)}, same-theme pairs {pos} "
          f"({kin_pos} within one role family, where the engine compares them: themes are built per persona)")
    print("threshold  wordllama P / R (pairs)  same family P / R (pairs)  overlap P / R (pairs)")
    for th in np.arange(0.30, 0.91, 0.025):
        row = []
        for k, only_kin in ((1, False), (1, True), (2, False)):
            joined = [p for p in pairs if p[k] >= th and (p[3] or not only_kin)]
            tp = sum(p[0] for p in joined)
            row.append(f"{tp / len(joined) if joined else 1:.2f} / {tp / max(1, kin_pos if only_kin else pos):.2f} "
                       f"({len(joined):4d})")
        print(f"  {th:.3f}    {row[0]}     {row[1]}      {row[2]}")


QUESTIONS = ["What frustrates you most about {topic}?", "What are you trying to achieve with {topic} this year?",
             "What would stop you from buying a tool for {topic}?", "How would you choose a vendor for {topic}?",
             "What made you start looking at {topic}?", "Where do you hear about tools for {topic}?",
             "How are you measured on {topic}?", "What does a normal day with {topic} look like?",
             "How was your weekend, by the way?", "Before we go on, a reminder that the session is recorded."]
OPENERS = ["Honestly", "Right now", "For us", "In my team", "Every month", "Most weeks", "Last quarter", "Today"]
CLAUSES = ["the {topic} reports are rebuilt by hand from {n} exports", "nobody trusts the {topic} numbers by Friday",
           "we want the {topic} work done without adding headcount", "it has to integrate with our {tool} setup",
           "I worry about a long implementation for {topic}", "our auditors asked about {topic} in {month}",
           "I read a newsletter and ask peers in a {tool} community", "we track hours spent on {topic} every week",
           "I spend the first {n} hours of the day on {topic} checks", "the {tool} migration broke our {topic} flow",
           "we went hiking and the weather was lovely", "the kids had a school play"]
TOPICS = ["reconciliation", "forecasting", "lead routing", "attribution", "deployments", "alerting", "billing",
          "territory planning", "cash reporting", "incident review"]
TOOLS = ["NetSuite", "HubSpot", "Salesforce", "Kubernetes", "Terraform", "Snowflake", "SAP", "Stripe"]
# Narrative talk without a need in it (most of a real interview: on the public OTel transcripts
# about one sentence in ten becomes a statement): subject x verb x object, few repeats.
SUBJECTS = ["the {topic} service", "our {tool} instance", "the data team", "that first prototype", "the old {topic} job",
            "a colleague in the Berlin office", "the second region", "our {topic} pipeline", "the staging copy",
            "the {tool} connector", "one of the squads", "the nightly batch", "the review board", "the mobile app"]
VERBS = ["sends records to", "was rewritten around", "talks to", "was moved next to", "grew out of", "depends on",
         "was paired with", "reads from", "was split away from", "sits behind", "was renamed after", "feeds"]
OBJECTS = ["the {tool} export", "a small adapter", "the {topic} schema", "two message queues", "the billing ledger",
           "a shared library", "the reporting layer", "an internal wiki page", "the {topic} dashboard",
           "a cron schedule", "the identity provider", "three regional databases", "a spreadsheet template"]


def generate(folder: Path, count: int, words: int = 10_000, seed: int = 7, need_share: float = 0.15) -> int:
    """Write `count` transcripts of about `words` words, `need_share` of the guest's sentences
    built from CLAUSES (needs, small talk), the rest narrative; returns the total word count."""
    import random

    rng = random.Random(seed)
    total = 0
    for k in range(count):
        tag = chr(65 + k % 26) + chr(97 + k // 26 % 26)  # speaker names are letters only
        host, guest = f"Rita {tag}", f"Sam {tag}"
        lines = [f"Welcome everyone, thanks for joining! Today we have {guest} with us.", "",
                 f"**{guest}:** Thanks. I'm the {rng.choice(['CFO', 'RevOps manager', 'platform engineer', 'VP Marketing'])}"
                 f" at Company{k}, a {rng.randint(40, 900)}-person software company.", ""]
        n = 0
        while n < words:
            topic = rng.choice(TOPICS)
            q = rng.choice(QUESTIONS).format(topic=topic)
            lines += [f"**{host}:** {q}", ""]
            answer = []
            for _ in range(rng.randint(4, 14)):
                if rng.random() < need_share:
                    c = rng.choice(CLAUSES)
                else:
                    c = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
                c = c.format(topic=rng.choice(TOPICS), tool=rng.choice(TOOLS), n=rng.randint(2, 9),
                             month=rng.choice(["March", "June", "October"]))
                answer.append(f"{rng.choice(OPENERS)}, {c}.")
            text = " ".join(answer)
            lines += [f"**{guest}:** {text}", ""]
            n += len(text.split()) + len(q.split())
        (folder / f"t{k:03d}.md").write_text("\n".join(lines), encoding="utf-8")
        total += n
    return total


def scale(count: int, need_share: float) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        words = generate(folder, count, need_share=need_share)
        t0, c0 = time.perf_counter(), time.process_time()
        sources = load_sources(sorted(folder.iterdir()), root=folder)
        t1 = time.perf_counter()
        pset = offline_personas(sources, icp_id=None)
        t2, c2 = time.perf_counter(), time.process_time()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    quotes = sum(len(c.evidence) for p in pset.personas for f in ("pains", "goals", "objections")
                 for c in getattr(p, f))
    print(f"{count} transcripts, {words:,} words, {need_share:.0%} need sentences: read {t1 - t0:.1f} s, synthesise {t2 - t1:.1f} s, "
          f"total {t2 - t0:.1f} s wall, {c2 - c0:.1f} s CPU (target < 30 s); peak RSS {rss:.0f} MB (target < 1024 MB); "
          f"{len(pset.personas)} personas, {quotes} pain/goal/objection quotes")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--notes", type=Path, default=ROOT / "fixtures/synthesis-eval/notes")
    ap.add_argument("--labels", type=Path, default=ROOT / "fixtures/synthesis-eval/labels.yaml")
    ap.add_argument("--verbose", action="store_true")
    ap.add_argument("--themes", action="store_true")
    ap.add_argument("--scale", type=int, default=0, metavar="N")
    ap.add_argument("--need-share", type=float, default=0.15,
                    help="share of the generated guest sentences that state a need (1.0: the worst case)")
    args = ap.parse_args()
    if args.scale:
        scale(args.scale, args.need_share)
        return
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
    print(f"themes      pairwise precision {r.theme_precision:.3f}, recall {r.theme_recall:.3f} "
          f"({r.joined_pairs} labelled pairs joined, {r.theme_pairs} labelled same-theme pairs); "
          f"{r.shared_themes} item(s) cite two or more labelled interviewees")
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
