"""The synthesis evaluation set is what the issue asks for, and its labels are true to the notes."""

from __future__ import annotations

from pathlib import Path

import yaml

from persona_assistant.synthesis.evaluate import line_speakers, norm


def load(fixtures_dir: Path) -> tuple[Path, dict]:
    root = fixtures_dir / "synthesis-eval"
    return root / "notes", yaml.safe_load((root / "labels.yaml").read_text(encoding="utf-8"))


def test_eval_set_covers_styles_families_and_hosts(fixtures_dir):
    notes_dir, labels = load(fixtures_dir)
    notes = labels["notes"]
    assert sorted(notes) == sorted(p.name for p in notes_dir.iterdir())
    assert len(notes) >= 30
    styles = {spec["style"] for spec in notes.values()}
    assert {"qa", "turns", "third_person", "bullets", "captions", "long_transcript", "panel"} <= styles
    assert {p.suffix for p in notes_dir.iterdir()} >= {".md", ".txt", ".vtt", ".srt"}
    families = {f for spec in notes.values() for f in spec["interviewees"].values()}
    assert families <= set(labels["families"]) and len(families) >= 4
    assert any(len(spec["interviewees"]) >= 3 for spec in notes.values() if spec["style"] == "panel")


def test_every_label_is_verbatim_and_said_by_its_interviewee(fixtures_dir):
    notes_dir, labels = load(fixtures_dir)
    fields = {"goal", "pain", "objection", "trigger", "criterion", "channel", "metric", "motivation", "day"}
    for name, spec in labels["notes"].items():
        lines = (notes_dir / name).read_text(encoding="utf-8").splitlines()
        speakers = line_speakers(lines)
        hosts = {h.lower() for h in spec["hosts"]}
        for who, fld, snippet in spec["statements"]:
            assert fld in fields, (name, fld)
            assert who in spec["interviewees"], (name, who)
            at = [i for i, ln in enumerate(lines) if norm(snippet)[:40] in norm(ln)]
            assert at, (name, snippet)
            spoken = speakers[at[0]]
            assert spoken is None or spoken.lower() not in hosts, (name, snippet, spoken)
