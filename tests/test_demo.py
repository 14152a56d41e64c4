"""`persona-assistant demo`, the README's first command: the whole pipeline, offline, on the bundled sample."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def run_demo(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "persona_assistant", "demo", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=120)


def item_stamps(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in (out / ".persona-assistant" / "campaign").rglob("*.json")}


def test_demo_runs_the_whole_pipeline_offline_and_a_rerun_reuses_finished_items(tmp_path):
    done = run_demo(cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "persona-assistant-demo"
    assert "Traceback" not in done.stderr
    assert f"Open the report: {(out / 'output' / 'report.html').resolve()}" in done.stdout
    for step in ("1/5 analyze", "2/5 draft icp", "3/5 draft personas", "4/5 campaign", "5/5 export"):
        assert step in done.stderr
    assert "offline engine" in done.stderr  # says why no model was used

    playbook = json.loads((out / "output" / "playbook.json").read_text())
    personas = playbook["personas"]["personas"]
    assert len(personas) >= 2
    # the ICP comes from the sample CRM's planted segment, with its figures as evidence
    assert "Software" in json.dumps(playbook["icp"])
    assert (out / "output" / "assets.csv").read_text().count("\n") > 20
    html = (out / "output" / "report.html").read_text()
    assert html.lstrip().lower().startswith("<!doctype html") and "<script" not in html.lower()
    stamps = item_stamps(out)
    assert len(stamps) > 20

    again = run_demo(cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert item_stamps(out) == stamps  # nothing generated twice
    for kind in ("icp", "personas", "campaign"):  # the same inputs: no byte-identical second version
        assert len(list((out / "drafts" / kind).glob("v*.json"))) == 1, kind
    assert "no new version saved" in again.stdout + again.stderr


def test_demo_refuses_a_folder_it_did_not_make(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    done = run_demo("--out", str(mine), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "--out" in done.stderr and "Traceback" not in done.stderr
    assert [p.name for p in mine.iterdir()] == ["notes.txt"] and (mine / "notes.txt").read_text() == "keep me"
