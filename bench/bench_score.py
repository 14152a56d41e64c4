"""Benchmark: score 100,000 leads (target: under 10 s wall time end to end).

    python bench/bench_score.py [--leads 100000] [--deals 20000] [--keep DIR]

Generates a planted-signal history (deals.csv + accounts.csv in a workspace) and a leads file
with titles, drafts two personas and an ICP with a disqualifier, then times
`persona-assistant score LEADS -w WS --out scored.csv --json` in a subprocess (ingestion,
fit, backtest, set-based scoring, persona matching, CSV and JSON writing). It also times the
core steps in-process on tables built directly in DuckDB. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SECTORS = {"Software": 1.2, "Fintech": 0.5, "Healthcare": 0.0, "Manufacturing": -0.3, "Education": -0.5,
           "Retail": -2.0, "Logistics": 0.1, "Media": -0.2}
EMPLOYEES = [(5, -0.5), (30, -0.2), (120, 0.9), (300, 0.4), (700, -0.2), (2500, -0.9), (8000, -1.0)]
COUNTRIES = ["United States", "Germany", "United Kingdom", "France", "Canada", "Spain", "Japan", "Brazil"]
TITLES = ["VP Finance", "CFO", "Head of Platform Engineering", "SRE Lead", "Senior Software Engineer",
          "Accounts Payable Manager", "Director of IT", "Marketing Manager", "Office Manager", ""]


def generate(root: Path, n_leads: int, n_deals: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    crm = root / "ws" / "crm"
    crm.mkdir(parents=True, exist_ok=True)
    accounts = []
    for i in range(max(200, n_deals // 10)):
        emp, eff = rng.choice(EMPLOYEES)
        sector = rng.choice(list(SECTORS))
        accounts.append((f"Acct {i}", sector, emp + rng.randint(0, emp // 2), rng.choice(COUNTRIES),
                         -0.7 + SECTORS[sector] + eff))
    with open(crm / "accounts.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["account", "sector", "employees", "office_location"])
        w.writerows(a[:4] for a in accounts)
    with open(crm / "deals.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["deal_id", "account", "deal_stage", "close_value", "engage_date", "close_date"])
        for i in range(n_deals):
            a = rng.choice(accounts)
            day = dt.date(2021, 1, 1) + dt.timedelta(days=rng.randint(0, 900))
            won = rng.random() < 1 / (1 + math.exp(-a[4]))
            w.writerow([f"D{i}", a[0], "Won" if won else "Lost", 1000 if won else 0, day.isoformat(),
                        (day + dt.timedelta(days=30)).isoformat()])
    leads = root / "leads.csv"
    with open(leads, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["account", "sector", "employees", "office_location", "title", "contact_name", "email", "phone"])
        for i in range(n_leads):
            emp, _ = rng.choice(EMPLOYEES)
            w.writerow([f"Lead {i}", "" if i % 29 == 0 else rng.choice(list(SECTORS)), emp + rng.randint(0, 50),
                        rng.choice(COUNTRIES), rng.choice(TITLES), f"Person {i}", f"p{i}@example.invalid",
                        f"+1 555 {i % 10000:04d}"])
    return leads


def draft_workspace(ws: Path) -> None:
    from persona_assistant.schemas import ICP, DataSufficiency, Disqualifier, Persona, PersonaSet
    from persona_assistant.workspace import Workspace

    w = Workspace(ws)
    w.save_version("icp", ICP(id="icp", name="bench", summary="bench", crm_singles_out_segment=True,
                              data_sufficiency=DataSufficiency(won=1, lost=1, verdict="sufficient"),
                              disqualifiers=[Disqualifier(criterion="Retail", dimension="industry", value="Retail",
                                                          reason="Retail rarely wins")]))
    w.save_version("personas", PersonaSet(personas=[
        Persona(id="fin", name="Fiona", archetype="a", role="r", title_patterns=["VP Finance", "CFO"],
                seniority="vp", function="finance"),
        Persona(id="plat", name="Pat", archetype="a", role="r", title_patterns=["Head of Platform*"],
                seniority="vp", function="engineering")]))


def core_timings(root: Path) -> None:
    """The model and scoring steps alone, on tables built directly in DuckDB."""
    import importlib.util

    from persona_assistant.export.csv_safe import write_csv
    from persona_assistant.scoring.leads import score_leads
    from persona_assistant.scoring.model import fit

    spec = importlib.util.spec_from_file_location(
        "planted_db", Path(__file__).resolve().parents[1] / "fixtures" / "scoring" / "planted_db.py")
    pdb = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pdb)
    folder = root / "core"
    folder.mkdir(exist_ok=True)
    for name in ("deals.csv", "accounts.csv"):
        (folder / name).write_bytes((root / "ws" / "crm" / name).read_bytes())
    (folder / "leads.csv").write_bytes((root / "leads.csv").read_bytes())
    t0 = time.perf_counter()
    con = pdb.connect(folder)
    t1 = time.perf_counter()
    model = fit(con, ["industry", "employee_band", "country"])
    t2 = time.perf_counter()
    from persona_assistant.schemas import PersonaSet
    from persona_assistant.workspace import Workspace

    personas = Workspace(root / "ws").load_version("personas", PersonaSet).personas
    scored = score_leads(con, model, personas=personas)
    t3 = time.perf_counter()
    write_csv(folder / "scored.csv", ["row", "score", "tier"],
              ((r.row_number, r.result["score"], r.result["tier"]) for r in scored.rows))
    t4 = time.perf_counter()
    print(f"core: load tables {t1 - t0:.2f} s, fit {t2 - t1:.3f} s ({len(model.features)} features, "
          f"{model.iterations} Newton iterations), score {len(scored.rows)} rows in {scored.combinations} "
          f"combinations {t3 - t2:.2f} s, write csv {t4 - t3:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--leads", type=int, default=100_000)
    ap.add_argument("--deals", type=int, default=20_000)
    ap.add_argument("--keep", type=Path, default=None, help="Generate into this folder and keep it.")
    args = ap.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="bench-score-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        run(root, args)
    finally:
        if args.keep is None:
            shutil.rmtree(root, ignore_errors=True)


def run(root: Path, args: argparse.Namespace) -> None:
    t = time.perf_counter()
    leads = generate(root, args.leads, args.deals)
    draft_workspace(root / "ws")
    print(f"generated {args.leads} leads and {args.deals} deals in {time.perf_counter() - t:.1f} s under {root}")
    core_timings(root)
    try:
        import persona_assistant.ingest.crm  # noqa: F401
    except ImportError:
        print("end to end: skipped (persona_assistant.ingest.crm is not available)")
        return
    exe = [sys.executable, "-m", "persona_assistant"]
    t = time.perf_counter()
    out = subprocess.run([*exe, "score", str(leads), "-w", str(root / "ws"), "--out", str(root / "scored.csv"),
                          "--json"], capture_output=True, text=True)
    wall = time.perf_counter() - t
    if out.returncode:
        print(f"end to end: FAILED ({out.stderr.strip().splitlines()[-1] if out.stderr.strip() else out.returncode})")
        return
    print(f"end to end: `score` of {args.leads} leads with --out and --json: {wall:.2f} s wall "
          f"(target < 10 s); JSON {len(out.stdout) / 1e6:.0f} MB")
    t = time.perf_counter()
    out = subprocess.run([*exe, "score", str(leads), "-w", str(root / "ws"), "--out", str(root / "scored.csv")],
                         capture_output=True, text=True)
    print(f"end to end: `score` with --out only: {time.perf_counter() - t:.2f} s wall")


if __name__ == "__main__":
    main()
