"""Copy quality of the offline campaign, scored asset by asset, on two workspaces and a held-out one.

    python bench/bench_copy.py [--variants N] [--keep DIR] [--sample FILE [--same-as EARLIER]]
                               [--sample-from demo|second|held-out]

--sample writes 20 assets of one workspace (the second by default; every channel, stages in turn,
picked with a fixed seed) to FILE as markdown, for a cold read by a marketer.

Runs `draft icp`, `draft personas` and `campaign --allow-lint-failures` (offline, through the CLI,
in a temporary copy) on the demo workspace (fixtures/sample-workspace), on the second sample
workspace (fixtures/second-workspace: another product, buyer and voice) and, when ../shared is
beside the project, on a held-out workspace nothing in the copy code was written against: the public
OpenTelemetry end-user interviews and the Maven CRM sample from ../shared/datasets with a brief of
ours (bench/briefs/pipewell.yaml, a telemetry-pipeline product); then checks every saved asset
again, independently of the lint findings saved with it:

  fragments         headline/subject ending on a weak word, a cut clause, an open quote
  misattributions   quotes or reported speech without a verified public quote; interview text
                    from a note without `consent: public` (12+ consecutive words)
  repeated sets     assets of one channel sharing a headline set; a subject or headline shared by a
                    persona's assets of one stage or one variant (quality.repetition_findings); apart,
                    those a persona reuses in another variant at another stage (no reader sees both)
  connected         written assets with a sentence that carries one of its persona items (in the
                    company's voice, as a statement or a question) and the product's answer to it, in
                    that sentence or the next
  answered by meaning  map entries whose value proposition shares a concept with the item (match > 0)
  limits            assets breaking a channel limit (characters, words, counts, hook)
  one CTA           assets of channels with a CTA field holding exactly one call to action
  map-only          assets the engine left as message-map entries (no good copy)
  lint errors       assets saved with any lint error (all rules, as `campaign` reports them)
  headline carried  assets whose subject/headline the copy under it says (quality.carried)
  doubt headlines   subjects/headlines that put an objection to the reader (quality.raises_doubt)
  distinct openings distinct first sentences (after the greeting) among written assets with prose
  top proof share   share of written assets showing the campaign's most used proof point
  pairing accuracy  map entries whose value proposition (or none) is one a reader chose for the item in
                    tests/data/pairing_labels.json (none: no proposition answers it); wrong answers
                    (a proposition the reader did not choose) counted apart from honest gaps
  answer strength   mean similarity (by meaning, message_map.similarity, computed now, so runs of
                    older code compare) between the map items the written assets use and the value
                    propositions the map answers them with; the share at or above message_map.ANSWERS

Targets: 0 fragments, 0 misattributions, 0 repeated headline sets, 0 doubt headlines.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
from collections import Counter
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from persona_assistant.messaging.attribution import attribution_findings, public_sources, quote_policy  # noqa: E402
from persona_assistant.messaging.channels import lint_config, load_channels  # noqa: E402
from persona_assistant.messaging.lint import count_ctas, lint_fields  # noqa: E402
from persona_assistant.messaging.phrasing import insight  # noqa: E402
from persona_assistant.messaging.message_map import ANSWERS, similarity  # noqa: E402
from persona_assistant.messaging.quality import (  # noqa: E402
    carried, fragment_problem, headline_fields, is_headline_field, opening, prose, raises_doubt, repetition_findings,
)
from persona_assistant.schemas import Campaign, PersonaSet  # noqa: E402
from persona_assistant.workspace import Workspace, load_brief  # noqa: E402

CLI = str(Path(sys.executable).parent / "persona-assistant")
LABELS = ROOT / "tests" / "data" / "pairing_labels.json"
WORKSPACES = {"demo": ROOT / "fixtures" / "sample-workspace", "second": ROOT / "fixtures" / "second-workspace"}
SHARED = ROOT.parent / "shared" / "datasets"


def held_out(dest: Path) -> Path | None:
    """The held-out workspace's inputs in `dest` (see module doc), or None without ../shared."""
    otel, maven = SHARED / "otel-interviews", SHARED / "maven-crm"
    if not (otel.is_dir() and maven.is_dir()):
        return None
    (dest / "notes").mkdir(parents=True)
    (dest / "crm").mkdir()
    for note in sorted((otel / "transcripts").glob("*.md")) + sorted(otel.glob("*.md")):
        if note.name.lower() != "readme.md":
            shutil.copy(note, dest / "notes" / note.name)
    for table in ("accounts.csv", "sales_pipeline.csv"):
        shutil.copy(maven / table, dest / "crm" / table)
    shutil.copy(ROOT / "bench" / "briefs" / "pipewell.yaml", dest / "brief.yaml")
    return dest
LIMIT_RULE = re.compile(r"_(?:max_chars|min_words|max_words|min_count|max_count|hook_max_chars)$|^missing_field$")


def run(*args: str) -> None:
    r = subprocess.run([CLI, *args], capture_output=True, text=True)
    if r.returncode not in (0,):
        raise SystemExit(f"{' '.join(args)} failed ({r.returncode}): {r.stderr.strip()[-400:]}")


def generate(src: Path, dest: Path, variants: int) -> Workspace:
    shutil.copytree(src, dest)
    for step in (["draft", "icp"], ["draft", "personas"],
                 ["campaign", "--variants", str(variants), "--allow-lint-failures"]):
        run(*step, "-w", str(dest))
    return Workspace(dest)


def texts(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def pairing(camp: Campaign, vps: list[str], labels: dict[str, dict]) -> dict:
    """How many labelled map entries the map pairs as the reader did; wrong = answered with another proposition."""
    right = wrong = missed = 0
    for e in (e for m in camp.message_maps for e in m.entries if e.item.text in labels):
        ok = [vps[i] for i in labels[e.item.text]["answers"]]
        if (e.value_proposition in ok) if e.value_proposition else not ok:
            right += 1
        elif e.value_proposition:
            wrong += 1
        else:
            missed += 1
    return {"right": right, "wrong": wrong, "missed": missed, "labelled": right + wrong + missed}


def score(ws: Workspace, labels: dict[str, dict]) -> dict:
    camp = ws.load_version("campaign", Campaign)
    personas = {p.id: p for p in ws.load_version("personas", PersonaSet).personas}
    brief = load_brief(ws)
    policy = quote_policy(personas.values(), brief, public_sources(ws))
    channels = load_channels(ws.config())
    config = lint_config(ws.config())
    written = [a for a in camp.assets if not a.map_only]
    fragments = [(a.id, name, t) for a in written for name, v in a.fields.items() for t in texts(v)
                 if fragment_problem(t, headline=is_headline_field(name) or (isinstance(v, list) and
                                                                             name not in ("questions", "responses")))]
    misattributed = [(a.id, f.message) for a in written for f in attribution_findings(a.fields, policy)]
    repeated = [(aid, f.message) for aid, found in repetition_findings(written).items() for f in found]
    repeated_sets = [r for r in repeated if "headline set" in r[1]]
    by_persona = Counter((a.persona_id, a.channel, h.lower()) for a in written for h in headline_fields(a))
    reused = sum(n - 1 for n in by_persona.values() if n > 1)  # in another A/B arm and another stage
    limits, cta_ok, cta_total, connected = [], 0, 0, 0
    for a in written:
        ch = channels[a.channel]
        found = lint_fields(a.fields, ch, brief=brief, config=config, persona=personas[a.persona_id])
        if any(LIMIT_RULE.search(f.rule) for f in found):
            limits.append(a.id)
        if ch.cta_field and isinstance(a.fields.get(ch.cta_field), str):
            cta_total += 1
            cta_ok += count_ctas(a.fields[ch.cta_field], brief) == 1
        sentences = [s for v in a.fields.values() for t in texts(v) for s in re.split(r"(?<=[.?!])\s+|\n+", t)]
        said = [i for r in a.addresses if (i := insight(r.text))]
        forms = [f for i in said for f in (i.clause, i.question(), i.headline_question()) if f]
        pairs = [(x, x) for x in sentences] + list(zip(sentences, sentences[1:]))  # one sentence, or two in a row
        if any(f in x and brief.product in y for x, y in pairs for f in forms):
            connected += 1
    heads = [(a, h) for a in written for h in headline_fields(a)]
    carried_n = sum(1 for a in written if headline_fields(a) and all(carried(h, prose(a)) for h in headline_fields(a)))
    doubts = [(a.id, h) for a, h in heads if raises_doubt(h)]
    openings = [o for a in written if (o := opening(a))]
    proof_use = Counter(p for a in written for p in a.proof_points)
    maps = {m.persona_id: m for m in camp.message_maps}
    used = {(a.persona_id, e) for a in written for e in a.map_entries}
    strengths = [similarity(entry.item.text, entry.value_proposition) for pid, eid in used
                 if (entry := maps[pid].entry(eid)) is not None and entry.value_proposition]
    entries = [e for m in camp.message_maps for e in m.entries]
    failing = sorted({f.rule for a in camp.assets for f in a.lint if f.severity == "error"})
    return {"assets": len(camp.assets), "written": len(written), "map_only": len(camp.assets) - len(written),
            "fragments": fragments, "misattributed": misattributed, "repeated": repeated,
            "repeated_sets": repeated_sets, "reused": reused, "limits": limits, "cta_ok": cta_ok, "cta_total": cta_total,
            "connected": connected, "entries": len(entries),
            "answered": sum(1 for e in entries if e.match > 0),
            "lint_failing": sum(1 for a in camp.assets if any(f.severity == "error" for f in a.lint)),
            "lint_rules": failing, "with_headline": sum(1 for a in written if headline_fields(a)),
            "carried": carried_n, "doubts": doubts, "openings": len(openings), "distinct_openings": len(set(openings)),
            "top_proof": proof_use.most_common(1)[0] if proof_use else ("", 0),
            "strength": sum(strengths) / len(strengths) if strengths else 0.0,
            "strong": sum(1 for x in strengths if x >= ANSWERS), "addressed": len(strengths),
            "pairing": pairing(camp, brief.value_propositions, labels)}


def report(name: str, s: dict) -> None:
    w = max(1, s["written"])
    print(f"{name}: {s['assets']} assets, {s['written']} written, {s['map_only']} map-only")
    print(f"  fragments            {len(s['fragments'])}")
    print(f"  misattributions      {len(s['misattributed'])}")
    print(f"  repeated headline sets {len(s['repeated_sets'])} (all repeated subjects/headlines: {len(s['repeated'])}; "
          f"reused by a persona in another arm and stage: {s['reused']})")
    print(f"  pain->answer connected {s['connected']}/{s['written']} ({100 * s['connected'] / w:.0f}%)")
    print(f"  answered by meaning  {s['answered']}/{s['entries']} map entries (match > 0)")
    print(f"  over channel limits  {len(s['limits'])}")
    print(f"  exactly one CTA      {s['cta_ok']}/{s['cta_total']}")
    print(f"  saved with lint errors {s['lint_failing']} {s['lint_rules'] or ''}")
    print(f"  headline carried     {s['carried']}/{s['with_headline']} ({100 * s['carried'] / max(1, s['with_headline']):.0f}%)")
    print(f"  doubt headlines      {len(s['doubts'])}")
    print(f"  distinct openings    {s['distinct_openings']}/{s['openings']} "
          f"({100 * s['distinct_openings'] / max(1, s['openings']):.0f}%)")
    claim, n = s["top_proof"]
    print(f"  top proof share      {100 * n / w:.0f}% ({n}/{s['written']}: {claim[:50]!r})")
    print(f"  answer strength      mean {s['strength']:.2f}; {s['strong']}/{s['addressed']} items addressed "
          f"at or above {ANSWERS}")
    p = s["pairing"]
    print(f"  pairing accuracy     {p['right']}/{p['labelled']} ({100 * p['right'] / max(1, p['labelled']):.0f}%); "
          f"wrong answers {p['wrong']}, answer missed {p['missed']}")
    for kind in ("fragments", "misattributed", "repeated", "doubts"):
        for item in s[kind][:5]:
            print(f"    {kind}: {item}")


def sample(ws: Workspace, path: Path, n: int = 20, seed: int = 14, same_as: Path | None = None) -> None:
    """`n` assets of `ws`'s campaign across channels and stages, as markdown (see module doc); with
    `same_as` (an earlier sample), the same asset ids, in the same order, where they still exist."""
    assets = ws.load_version("campaign", Campaign).assets
    if same_as is not None:
        by_id = {a.id: a for a in assets}
        ids = re.findall(r"^## \d+\. `([^`]+)`", same_as.read_text(encoding="utf-8"), re.M)
        missing = [i for i in ids if i not in by_id]
        if missing:
            print(f"not in this campaign any more: {', '.join(missing)}")
        assets = [by_id[i] for i in ids if i in by_id]
        n = len(assets)
    personas = {p.id: p for p in ws.load_version("personas", PersonaSet).personas}
    rng, stages = random.Random(seed), ("awareness", "consideration", "decision")
    channels = sorted({a.channel for a in assets})
    picked: list = assets if same_as is not None else []
    for k in range(0 if same_as is not None else n):
        channel, stage = channels[k % len(channels)], stages[(k // len(channels) + k) % 3]
        pool = [a for a in assets if a.channel == channel and a.stage == stage and a not in picked]
        if pool:
            picked.append(rng.choice(pool))
    out = [f"# {len(picked)} offline assets from the {ws.root.name} workspace ({load_brief(ws).product})", ""]
    for i, a in enumerate(picked, 1):
        p = personas[a.persona_id]
        out += [f"## {i}. `{a.id}`", "", f"- channel: {a.channel}; stage: {a.stage}; angle: {a.angle}; "
                f"persona: {p.id} ({p.role})", ""]
        if a.map_only:
            out += [f"(map-only) {a.note}", ""]
        for name, value in a.fields.items():
            if isinstance(value, list):
                out += [f"**{name}**", ""] + [f"- {v}" for v in value] + [""]
            else:
                out += [f"**{name}**", "", "> " + value.replace("\n", "\n> "), ""]
    path.write_text("\n".join(out), encoding="utf-8")
    print(f"wrote {len(picked)} assets to {path}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--variants", type=int, default=3)
    ap.add_argument("--keep", type=Path, help="generate the workspaces here and keep them")
    ap.add_argument("--sample", type=Path, help="write 20 assets of one workspace here (markdown; see --sample-from)")
    ap.add_argument("--same-as", type=Path, help="with --sample: the asset ids of this earlier sample")
    ap.add_argument("--sample-from", default="second", choices=[*WORKSPACES, "held-out"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = args.keep or Path(tmp)
        total = {"fragments": 0, "misattributed": 0, "repeated_sets": 0, "doubts": 0}
        sources = dict(WORKSPACES)
        inputs = held_out(Path(tmp) / "held-out-inputs")
        if inputs is None:
            print("held-out: skipped (../shared/datasets is not beside the project)")
        else:
            sources["held-out"] = inputs
        for name, src in sources.items():
            ws = generate(src, base / name, args.variants)
            s = score(ws, json.loads(LABELS.read_text(encoding="utf-8"))["labels"].get(name, {}))
            if name == args.sample_from and args.sample:
                sample(ws, args.sample, same_as=args.same_as)
            report(name, s)
            for k in total:
                total[k] += len(s[k])
        ok = all(v == 0 for v in total.values())
        print(f"targets (0 fragments, 0 misattributions, 0 repeated headline sets, 0 doubt headlines): "
              f"{'met' if ok else 'NOT met'}")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
