"""On the public OTel transcripts (../shared, skipped when absent): hosts are never evidence.

tests/data/otel_hosts.yaml names each transcript's host(s) and interviewees (names only). A
quote's speaker is decided here by the evaluation's own line parser, not by the engine.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from persona_assistant.draft.offline_personas import offline_personas
from persona_assistant.ingest.notes import load_sources
from persona_assistant.synthesis.evaluate import line_speakers

TRUTH = Path(__file__).resolve().parent / "data" / "otel_hosts.yaml"


def all_quotes(persona):
    for name in ("pains", "goals", "objections", "motivations", "triggers", "decision_criteria", "channels",
                 "success_metrics"):
        for claim in getattr(persona, name):
            yield name, claim.text, claim.evidence
    yield "day_in_life", persona.day_in_life.text, persona.day_in_life.evidence


def test_no_persona_evidence_comes_from_a_host(shared_dir):
    folder = shared_dir / "datasets" / "otel-interviews" / "transcripts"
    truth = yaml.safe_load(TRUTH.read_text(encoding="utf-8"))
    assert sorted(truth) == sorted(p.name for p in folder.iterdir())
    sources = load_sources(sorted(folder.iterdir()), root=folder)
    ps = offline_personas(sources, icp_id=None)
    speakers = {name: line_speakers((folder / name).read_text(encoding="utf-8").splitlines()) for name in truth}
    checked = 0
    for p in ps.personas:
        for field, text, evidence in all_quotes(p):
            assert evidence or text == "unknown"
            for e in evidence:
                spec = truth[Path(e.path).name]
                who = speakers[Path(e.path).name][e.line_start - 1]
                hosts = {h.lower() for h in spec["hosts"]}
                assert who is not None or spec.get("unlabelled") != "host", (e.path, e.line_start, field)
                assert who is None or who.lower() not in hosts, (e.path, e.line_start, who, field)
                first = who.split()[0].lower() if who else ""
                assert any(first == i.split()[0].lower() for i in spec["interviewees"]), (e.path, e.line_start, who)
                checked += 1
    assert checked >= 50
    # the notes name the host of every transcript that has a labelled one
    for name, spec in truth.items():
        note = next(n for n in ps.notes if n.startswith(Path(name).stem + ":"))
        if spec["hosts"] and spec["hosts"] != ["Audience Member"]:
            assert "host " in note and any(h in note for h in spec["hosts"]), note


def test_personas_are_not_one_catch_all(shared_dir):
    folder = shared_dir / "datasets" / "otel-interviews" / "transcripts"
    truth = yaml.safe_load(TRUTH.read_text(encoding="utf-8"))
    ps = offline_personas(load_sources(sorted(folder.iterdir()), root=folder), icp_id=None)
    assert len(ps.personas) >= 2
    assert not any("unknown" in p.id for p in ps.personas)
    hosts = {h for spec in truth.values() for h in spec["hosts"]}
    for p in ps.personas:
        listed = [c.text for c in p.demographics]
        assert not any(h in " ".join(listed) for h in hosts - {"Host", "Dan", "Audience Member"})
        # a persona's role is one title only when most of its interviewees hold it
        titles = [t for t in p.title_patterns]
        assert p.role in titles or p.role.endswith(("professional", "leader", "practitioner"))
