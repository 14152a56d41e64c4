"""Benchmark: `analyze` on 1,000,000 deals against a bare DuckDB GROUP BY, and CLI start-up time.

    /tmp/venv/bin/python bench/bench_analyze.py [--deals N] [--runs R] [--regenerate]

Writes a seeded deals CSV (Maven-CRM-style columns) and an accounts CSV into bench/out/
(git-ignored; reused when already there for the same size), then runs each measurement
in a fresh child process and reads its wall time and peak RSS (os.wait4 rusage):

  (a) bare DuckDB: read_csv both files, join deals to accounts, GROUP BY sector
  (b) load_crm + analyze, called as functions; and the CLI `analyze --json` once
  (c) `persona-assistant --help`, median of 5
  (d) the floor: plain DuckDB computing the figures analyze must report (counts, won value, exact
      medians over the 15 single and pair grouping sets) in one query, with types and category values
      given up front and nothing validated or kept; when (d) / (a) > 2, no implementation on DuckDB
      that reports those figures can meet the 2x target
  and, for scale, a child that only imports duckdb and persona_assistant (fixed start-up cost).

(a) and (b) alternate R times (default 3) and the best wall time of each counts (other work on the
machine only ever adds time); peak RSS is the highest seen.
Targets: (b) <= 2x (a) wall time, <= 400 MB peak RSS; --help < 0.3 s.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"
SEED = 1234
SECTORS = ["Software", "Manufacturing", "Healthcare", "Retail", "Financial Services", "Logistics",
           "Education", "Energy", "Telecom", "Media"]
COUNTRIES = ["United States", "Canada", "United Kingdom", "Germany", "France", "Australia", "Japan", "Brazil"]
PRODUCTS = ["Core", "Plus", "Enterprise", "Add-on"]
STAGES = ["Won"] * 4 + ["Lost"] * 4 + ["Engaging", "Prospecting"]


def generate(n_deals: int, out: Path = OUT) -> tuple[Path, Path]:
    """Seeded accounts and deals CSVs; reused when the same size already exists."""
    out.mkdir(parents=True, exist_ok=True)
    accounts, deals = out / "accounts.csv", out / f"deals_{n_deals}.csv"
    if accounts.is_file() and deals.is_file():
        return accounts, deals
    rng = random.Random(SEED)
    n_accounts = 20_000
    names = [f"Account {i:05d}" for i in range(n_accounts)]
    with accounts.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["account", "sector", "year_established", "revenue", "employees", "office_location"])
        for name in names:
            emp = int(rng.lognormvariate(5.5, 1.4)) + 1
            w.writerow([name, rng.choice(SECTORS), rng.randint(1950, 2022), round(emp * rng.uniform(0.1, 0.3), 2),
                        emp, rng.choice(COUNTRIES)])
    agents = [f"Agent {i:03d}" for i in range(60)]
    start = date(2020, 1, 1)
    tmp = deals.with_suffix(".tmp")
    with tmp.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["opportunity_id", "sales_agent", "product", "account", "deal_stage", "engage_date",
                    "close_date", "close_value"])
        for i in range(n_deals):
            stage = rng.choice(STAGES)
            engaged = start + timedelta(days=rng.randint(0, 1400))
            closed = (engaged + timedelta(days=rng.randint(5, 150))).isoformat() if stage in ("Won", "Lost") else ""
            value = rng.randint(500, 30000) if stage == "Won" else 0 if stage == "Lost" else ""
            w.writerow([f"OP{i:08d}", rng.choice(agents), rng.choice(PRODUCTS), rng.choice(names), stage,
                        engaged.isoformat(), closed, value])
    tmp.replace(deals)
    return accounts, deals


BARE = """
import duckdb, sys
con = duckdb.connect()
rows = con.execute('''
    SELECT a.sector, count(*) AS closed, count(*) FILTER (WHERE d.deal_stage = 'Won') AS won,
           median(d.close_value) FILTER (WHERE d.deal_stage = 'Won') AS median_won
    FROM read_csv(?) d LEFT JOIN read_csv(?) a USING (account)
    WHERE d.deal_stage IN ('Won', 'Lost')
    GROUP BY a.sector ORDER BY a.sector
''', [sys.argv[1], sys.argv[2]]).fetchall()
print(len(rows), "groups")
"""

OURS = """
import sys, time
from persona_assistant.ingest.crm import load_crm
from persona_assistant.analysis.segments import analyze
t0 = time.perf_counter()
crm = load_crm([sys.argv[1], sys.argv[2]], all_columns=True)  # every column, as `analyze` reads a workspace
t1 = time.perf_counter()
a = analyze(crm)
t2 = time.perf_counter()
print(f"@@ {t1 - t0:.3f} {t2 - t1:.3f} {a.baseline.closed} {len(a.segments)}", file=sys.stderr)
"""
IMPORTS = "import duckdb, persona_assistant.ingest.crm, persona_assistant.analysis.segments"
# The floor: the figures `analyze` must report (closed/won counts, won value, exact won-value and
# cycle medians for each single dimension and each pair), by plain DuckDB in one query, with every
# advantage: column types and category values handed in up front (no discovery, no validation, no
# reports, nothing kept for later commands), ENUM keys, and the join built on the small side.
# Medians are holistic aggregates: they cannot be rolled up from a cube, so each set costs a pass.
FLOOR = '''
import duckdb, sys, time
from itertools import combinations
t0 = time.perf_counter()
con = duckdb.connect()
con.execute("SET disabled_optimizers = 'build_side_probe_side'")
for name, values in [("sec", {sectors}), ("loc", {countries}), ("prod", {products}), ("stg", {stages})]:
    con.execute(f"CREATE TYPE {{name}} AS ENUM ({{', '.join(repr(v) for v in values)}})")
dims = ["sector", "office_location", "product", "eb", "rb"]
sets = ", ".join("(" + ", ".join(s) + ")" for s in [(d,) for d in dims] + list(combinations(dims, 2)))
won = "FILTER (WHERE deal_stage = 'Won')"
con.execute(f"""SELECT count(*), count(*) {{won}}, sum(close_value) {{won}}, median(close_value) {{won}},
        median(cycle) {{won}}
    FROM (SELECT d.product, d.deal_stage, d.close_value, a.sector, a.office_location,
                 date_diff('day', d.engage_date, d.close_date)::INTEGER AS cycle,
                 (a.employees // 500)::SMALLINT AS eb, (a.revenue // 100)::SMALLINT AS rb
          FROM read_csv(?, header = true, columns = {{{{'opportunity_id': 'VARCHAR', 'sales_agent': 'VARCHAR',
                'product': 'prod', 'account': 'VARCHAR', 'deal_stage': 'stg', 'engage_date': 'DATE',
                'close_date': 'DATE', 'close_value': 'DOUBLE'}}}}) d
          LEFT JOIN read_csv(?, header = true, columns = {{{{'account': 'VARCHAR', 'sector': 'sec',
                'year_established': 'BIGINT', 'revenue': 'DOUBLE', 'employees': 'BIGINT',
                'office_location': 'loc'}}}}) a USING (account)
          WHERE d.deal_stage IN ('Won', 'Lost'))
    GROUP BY GROUPING SETS ({{sets}})""", [sys.argv[1], sys.argv[2]]).fetchall()
print(f"@@ {{time.perf_counter() - t0:.3f}}", file=sys.stderr)
'''.format(sectors=sorted(SECTORS), countries=sorted(COUNTRIES), products=sorted(PRODUCTS), stages=sorted(set(STAGES)))


def measure(cmd: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS MB, stderr) of one child process."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        message = err.read().decode(errors="replace")
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(cmd[:3])} ... failed ({proc.returncode}):\n{message}")
    return wall, usage.ru_maxrss / 1024, message  # Linux: ru_maxrss is in KiB


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    if args.regenerate and OUT.is_dir():
        shutil.rmtree(OUT)
    t0 = time.perf_counter()
    accounts, deals = generate(args.deals)
    print(f"data: {deals.name} ({deals.stat().st_size / 1e6:.0f} MB), {accounts.name} "
          f"(ready in {time.perf_counter() - t0:.1f} s)")

    py = sys.executable
    cli = shutil.which("persona-assistant", path=str(Path(py).parent)) or "persona-assistant"
    bares, ours = [], []
    for _ in range(args.runs):
        bares.append(measure([py, "-c", BARE, str(deals), str(accounts)]))
        ours.append(measure([py, "-c", OURS, str(deals), str(accounts)]))
    imports = min(measure([py, "-c", IMPORTS])[0] for _ in range(3))
    floor = min((measure([py, "-c", FLOOR, str(deals), str(accounts)]) for _ in range(args.runs)), key=lambda m: m[0])
    floor_query = float(floor[2].strip().splitlines()[-1].split()[1])
    cli_run = measure([cli, "analyze", str(deals), str(accounts), "--json"])
    helps = sorted(measure([cli, "--help"])[0] for _ in range(5))

    bare_t, bare_mb = min(b[0] for b in bares), max(b[1] for b in bares)
    best = min(ours, key=lambda o: o[0])
    ours_t, ours_mb = best[0], max(o[1] for o in ours)
    load, analyze_s, closed, n_segments = best[2].strip().splitlines()[-1].split()[1:]
    print(f"runs: {args.runs}, best wall time of each (alternating), highest peak RSS")
    print(f"(a) bare DuckDB read_csv + join + GROUP BY : {bare_t:6.2f} s  {bare_mb:6.0f} MB peak RSS")
    print(f"(b) load_crm + analyze (functions)         : {ours_t:6.2f} s  {ours_mb:6.0f} MB peak RSS")
    print(f"      of which load_crm {float(load):.2f} s, analyze {float(analyze_s):.2f} s "
          f"({closed} closed deals, {n_segments} segments); process start + imports {imports:.2f} s")
    print(f"    persona-assistant analyze --json       : {cli_run[0]:6.2f} s  {cli_run[1]:6.0f} MB peak RSS")
    print(f"(d) floor: the job's figures, plain DuckDB : {floor[0]:6.2f} s  {floor[1]:6.0f} MB peak RSS")
    print(f"      one query {floor_query:.2f} s (counts, sums and exact medians of 15 grouping sets); "
          f"(d) / (a) = {floor[0] / bare_t:.2f}x, (b) / (d) = {ours_t / floor[0]:.2f}x")
    print(f"(c) persona-assistant --help (median of 5) : {statistics.median(helps):6.3f} s")
    ratio = ours_t / bare_t
    print("targets:")
    print(f"  load_crm + analyze / bare DuckDB wall time = {ratio:.2f}x (target <= 2x): "
          f"{'ok' if ratio <= 2 else 'OVER'}")
    peak = max(ours_mb, cli_run[1])
    print(f"  peak RSS {peak:.0f} MB (target <= 400 MB): {'ok' if peak <= 400 else 'OVER'}")
    med = statistics.median(helps)
    print(f"  --help {med:.3f} s (target < 0.3 s): {'ok' if med < 0.3 else 'OVER'}")


if __name__ == "__main__":
    main()
