"""`score` and `backtest` end to end, through the real CRM ingestion, in a subprocess."""

import csv
import datetime as dt
import json
import math
import random
import shutil
import subprocess
import sys

import pytest

pytest.importorskip("persona_assistant.ingest.crm")

from persona_assistant.schemas import ICP, DataSufficiency, Disqualifier, Persona, PersonaSet  # noqa: E402
from persona_assistant.workspace import Workspace  # noqa: E402


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "persona_assistant", *args], capture_output=True, text=True)


@pytest.fixture
def ws(tmp_path, fixtures_dir):
    root = tmp_path / "ws"
    (root / "crm").mkdir(parents=True)
    for name in ("deals.csv", "accounts.csv"):
        shutil.copy(fixtures_dir / "scoring" / "planted" / name, root / "crm" / name)
    w = Workspace(root)
    w.save_version("icp", ICP(
        id="icp-1", name="Planted", summary="x", crm_singles_out_segment=True,
        data_sufficiency=DataSufficiency(won=1, lost=1, verdict="sufficient"),
        disqualifiers=[Disqualifier(criterion="Retail", dimension="industry", value="Retail",
                                    reason="Retail wins rarely")]))
    w.save_version("personas", PersonaSet(personas=[
        Persona(id="fin", name="Fiona Finance", archetype="a", role="r", title_patterns=["VP Finance"],
                seniority="vp", function="finance"),
        Persona(id="plat", name="Pat Platform", archetype="a", role="r", title_patterns=["Head of Platform*"],
                seniority="vp", function="engineering")]))
    return root


@pytest.fixture
def leads(fixtures_dir):
    return fixtures_dir / "scoring" / "planted" / "leads.csv"


def test_score_json_is_pure_every_row_adds_up_and_reproduces_from_the_model(ws, leads):
    out = run_cli("score", str(leads), "-w", str(ws), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)  # nothing but JSON on stdout
    assert "scored 300 rows" in out.stderr and data["signal"] is True
    model = data["model"]
    coef = {c["feature"]: c["coef"] for c in model["coefficients"]}
    assert len(data["rows"]) == 300 and len(data["fits"]) < 300  # rows sharing values share a fit
    for row in data["rows"]:
        fit = data["fits"][row["fit"]]
        assert (fit["score"], fit["tier"]) == (row["score"], row["tier"])
        assert fit["base_points"] + sum(f["points"] for f in fit["factors"]) == row["score"]
        assert [f["value"] for f in fit["factors"]] == [row["values"][d] for d in model["dimensions"]]
        linear = sum(coef.get(f"{d}={v}", 0.0) for d, v in row["values"].items() if d in model["dimensions"])
        assert math.floor(model["base"] + model["scale"] * linear + 0.5) == row["score"]


def test_gate_persona_and_missing_fields_in_cli_output(ws, leads):
    data = json.loads(run_cli("score", str(leads), "-w", str(ws), "--json").stdout)
    rows = {r["row_number"]: r for r in data["rows"]}
    retail = [r for r in data["rows"] if r["values"].get("industry") == "Retail"]
    fits = data["fits"]
    assert retail and all(r["tier"] == "no fit" and fits[r["fit"]]["disqualified_by"][0]["reason"]
                          == "Retail wins rarely" for r in retail)
    blank = rows[17]  # the generator blanks the sector of every 17th lead
    assert blank["values"]["industry"] is None
    assert fits[blank["fit"]]["factors"][0]["status"] == "unknown" and blank["confidence"] != "high"
    personas = {r["title"]: r["persona"] for r in data["rows"]}
    assert personas["VP Finance"]["persona_id"] == "fin" and personas["VP Finance"]["confidence"] == "high"
    assert personas["Head of Platform Engineering"]["persona_id"] == "plat"
    assert personas["Marketing Manager"]["persona"] == "no persona fits"


def test_out_csv_is_safe_against_formula_injection(ws, leads, tmp_path):
    target = tmp_path / "scored.csv"
    out = run_cli("score", str(leads), "-w", str(ws), "--out", str(target))
    assert out.returncode == 0, out.stderr
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert len(rows) == 300
    assert rows[4]["account"].startswith("'=HYPERLINK(")
    assert rows[5]["contact_name"] == "'@SUM(A1:A9)" and rows[6]["contact_name"].startswith("'-2+3+cmd|")
    assert rows[0]["phone"] == "+1 555 0001"
    for row in rows:
        for value in row.values():
            if value[:1] in ("=", "+", "-", "@", "\t", "\r"):
                assert set(value) <= set("0123456789 +-().,/"), value


def test_explain_prints_every_coefficient(ws, leads):
    out = run_cli("score", str(leads), "-w", str(ws), "--explain")
    assert out.returncode == 0, out.stderr
    data = json.loads(run_cli("score", str(leads), "-w", str(ws), "--json").stdout)
    assert "L2-regularised logistic regression" in out.stdout and "intercept" in out.stdout
    for c in data["model"]["coefficients"]:
        assert c["feature"] in out.stdout and repr(c["coef"]) in out.stdout


def test_backtest_finds_the_planted_signal(ws):
    out = run_cli("backtest", "-w", str(ws), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["auc"] >= 0.75 and data["signal"] is True
    assert len(data["calibration"]) == 5 and sum(b["deals"] for b in data["calibration"]) == data["test"]["deals"]
    human = run_cli("backtest", "-w", str(ws), "--split", "0.6")
    assert human.returncode == 0 and "AUC" in human.stdout and "calibration" in human.stdout


def _random_workspace(root):
    rng = random.Random(11)
    (root / "crm").mkdir(parents=True)
    with open(root / "crm" / "accounts.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["account", "sector", "employees", "office_location"])
        for i in range(60):
            w.writerow([f"Acc {i}", rng.choice(["A", "B", "C"]), rng.choice([20, 120, 900]), "Spain"])
    with open(root / "crm" / "deals.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["deal_id", "account", "deal_stage", "close_value", "engage_date", "close_date"])
        for i in range(1500):
            day = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randint(0, 600))
            w.writerow([f"R{i}", f"Acc {rng.randrange(60)}", "Won" if rng.random() < 0.5 else "Lost", 100,
                        day.isoformat(), (day + dt.timedelta(days=20)).isoformat()])
    return root


def test_no_signal_history_warns_on_score(tmp_path, leads):
    ws = _random_workspace(tmp_path / "ws")
    Workspace(ws).save_version("icp", ICP(id="i", name="n", summary="s", crm_singles_out_segment=False,
                                          data_sufficiency=DataSufficiency(won=1, lost=1, verdict="insufficient")))
    bt = json.loads(run_cli("backtest", "-w", str(ws), "--json").stdout)
    assert bt["signal"] is False and bt["verdict"].startswith("no predictive signal")
    out = run_cli("score", str(leads), "-w", str(ws), "--json")
    assert out.returncode == 0, out.stderr
    assert "warning: backtest no predictive signal" in out.stderr
    assert json.loads(out.stdout)["signal"] is False


def test_errors_are_one_line(ws, tmp_path):
    missing = run_cli("score", str(tmp_path / "nope.csv"), "-w", str(ws))
    assert missing.returncode == 2 and missing.stderr.startswith("error: score:") and "nope.csv" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1 and missing.stdout == ""
    empty = tmp_path / "empty-ws"
    empty.mkdir()
    no_crm = run_cli("backtest", "-w", str(empty))
    assert no_crm.returncode == 2 and "no CRM exports in" in no_crm.stderr and "Traceback" not in no_crm.stderr
    bad_split = run_cli("backtest", "-w", str(ws), "--split", "1.5")
    assert bad_split.returncode == 2 and "--split" in bad_split.stderr


def test_maven_crm_has_no_predictive_signal(shared_dir, tmp_path):
    root = tmp_path / "maven"
    (root / "crm").mkdir(parents=True)
    for name in ("accounts.csv", "sales_pipeline.csv"):
        # copied, not linked: the workspace is closed and skips links leading outside it
        shutil.copy(shared_dir / "datasets" / "maven-crm" / name, root / "crm" / name)
    out = run_cli("backtest", "-w", str(root), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert abs(data["auc"] - 0.5) < 0.05 and data["signal"] is False
    assert "no predictive signal" in data["verdict"]
    human = run_cli("backtest", "-w", str(root))
    assert "no predictive signal" in human.stdout


def test_without_drafts_gates_come_from_the_analysis_and_personas_are_skipped(tmp_path, fixtures_dir, leads):
    root = tmp_path / "bare"
    (root / "crm").mkdir(parents=True)
    for name in ("deals.csv", "accounts.csv"):
        shutil.copy(fixtures_dir / "scoring" / "planted" / name, root / "crm" / name)
    out = run_cli("score", str(leads), "-w", str(root), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert "industry=Retail" in [g["gate"] for g in data["gates"]]
    assert {g["source"] for g in data["gates"]} == {"analysis"}
    assert "no drafted personas" in out.stderr and all(r["persona"] is None for r in data["rows"])
