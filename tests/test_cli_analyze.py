"""`analyze` on the command line: JSON purity, the readable report, defaults and errors."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "persona_assistant", *args], capture_output=True,
                          text=True, cwd=cwd)


@pytest.fixture
def sample_ws(tmp_path, fixtures_dir) -> Path:
    pytest.importorskip("persona_assistant.ingest.crm")
    root = tmp_path / "ws"
    shutil.copytree(fixtures_dir / "sample-workspace" / "crm", root / "crm")
    return root


def test_no_files_is_a_usage_error_naming_the_folder(tmp_path):
    (tmp_path / "crm").mkdir()
    out = run_cli("analyze", "-w", str(tmp_path), "--json")
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert lines[-1].startswith("error: no CRM files in ") and str(tmp_path / "crm") in lines[-1]
    assert "Traceback" not in out.stderr


def test_missing_file_and_missing_map_are_usage_errors(tmp_path):
    out = run_cli("analyze", str(tmp_path / "nope.csv"), "-w", str(tmp_path))
    assert out.returncode == 2 and "error: FILES:" in out.stderr and "nope.csv" in out.stderr
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "deals.csv").write_text("a,b\n1,2\n")
    out = run_cli("analyze", "-w", str(tmp_path), "--map", str(tmp_path / "map.toml"))
    assert out.returncode == 2 and "error: --map:" in out.stderr


def test_bad_min_support_setting_names_the_config_file(tmp_path):
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "deals.csv").write_text("a,b\n1,2\n")
    (tmp_path / "persona-assistant.toml").write_text('[analysis]\nmin_support = "lots"\n')
    out = run_cli("analyze", "-w", str(tmp_path))
    assert out.returncode == 1
    assert "persona-assistant.toml" in out.stderr and "min_support" in out.stderr


def test_bad_min_support_option_is_refused_before_any_file_is_read(tmp_path):
    (tmp_path / "crm").mkdir()
    # a file that would fail to load: the option error must come first
    (tmp_path / "crm" / "deals.csv").write_bytes(b"\x00\xff\xfe garbage")
    out = run_cli("analyze", "-w", str(tmp_path), "--min-support", "0")
    assert out.returncode == 2 and out.stderr.strip().splitlines()[-1] == "error: --min-support: must be at least 1, got 0"


def test_json_is_pure_and_complete(sample_ws):
    out = run_cli("analyze", "-w", str(sample_ws), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)  # stdout holds nothing but the JSON document
    from persona_assistant.schemas import Analysis

    analysis = Analysis.model_validate(data)
    assert analysis.min_support == 30
    assert analysis.ingest is not None and analysis.ingest.files
    assert analysis.icp_candidates and "industry=Healthcare" in analysis.anti_icp


def test_options_reach_the_analysis(sample_ws):
    (sample_ws / "persona-assistant.toml").write_text("[analysis]\nmin_support = 45\n")
    data = json.loads(run_cli("analyze", "-w", str(sample_ws), "--json").stdout)
    assert data["min_support"] == 45
    out = run_cli("analyze", "-w", str(sample_ws), "--json", "--min-support", "20", "--no-pairs",
                  "--dimension", "industry")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["min_support"] == 20 and data["dimensions"] == ["industry"]
    assert all(list(s["dimensions"]) == ["industry"] for s in data["segments"])


def test_readable_report(sample_ws):
    out = run_cli("analyze", "-w", str(sample_ws))
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for heading in ("Files read", "Column mapping", "Baseline", "Segments", "ICP candidates", "Anti-ICP",
                    "Data sufficiency", "Verdict"):
        assert heading in text
    assert "deals.csv" in text and "companies.csv" in text
    assert "industry=Healthcare" in text and "worse" in text and "better" in text
    assert "\x1b" not in text  # not a terminal: no colour codes


def test_untrusted_cell_text_is_shown_not_interpreted(tmp_path, fixtures_dir):
    """A CRM value holding rich markup or an escape sequence prints as inert text."""
    from persona_assistant.analysis.render import print_analysis
    from persona_assistant.schemas import Analysis, DataSufficiency, Segment, SegmentStats
    from rich.console import Console

    nasty = "[bold red]Evil[/] \x1b]0;pwned\x07Corp"
    seg = Segment(id=f"industry={nasty}", dimensions={"industry": nasty}, closed=40, won=30, lost=10,
                  win_rate=0.75, ci_low=0.6, ci_high=0.86, lift=1.5, verdict="better", deal_ids=["D1"])
    a = Analysis(baseline=SegmentStats(closed=100, won=50, lost=50, win_rate=0.5, ci_low=0.4, ci_high=0.6),
                 dimensions=["industry"], min_support=30, correction="Bonferroni", segments=[seg],
                 icp_candidates=[seg.id], sufficiency=DataSufficiency(won=50, lost=50, verdict="sufficient"),
                 verdict=f"best: {seg.id}")
    console = Console(record=True, width=200, force_terminal=True)
    print_analysis(a, console)
    text = console.export_text()
    assert "[bold red]Evil[/]" in text
    assert "\x1b]0;" not in text and "\x07" not in text


def test_unknown_dimension_is_a_usage_error(sample_ws):
    out = run_cli("analyze", "-w", str(sample_ws), "--dimension", "nope", "--json")
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().splitlines()[-1].startswith("error: ") and "nope" in out.stderr


def test_analyze_on_workspace_saves_a_version_once(tmp_path):
    import shutil
    import subprocess
    import sys

    from persona_assistant.schemas import Analysis
    from persona_assistant.workspace import Workspace

    ws = tmp_path / "ws"
    shutil.copytree(Path(__file__).resolve().parents[1] / "fixtures" / "sample-workspace", ws)
    for _ in range(2):
        out = subprocess.run([sys.executable, "-m", "persona_assistant", "analyze", "-w", str(ws), "--json"],
                             capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
    versions = Workspace(ws).versions("analysis")
    assert len(versions) == 1  # unchanged data is not saved twice
    saved = Workspace(ws).load_version("analysis", Analysis)
    assert saved.model_dump() == Analysis.model_validate_json(out.stdout).model_dump()
