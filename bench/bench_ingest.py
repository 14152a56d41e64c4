"""Ingestion speed and memory against a bare DuckDB read_csv + GROUP BY of the same file.

Writes a synthetic 1,000,000-deal CSV and a 2,000-account CSV to a temporary folder (kept
between runs under $TMPDIR/pa-bench-ingest), then runs each variant in its own process and
prints wall time and peak RSS. Acceptance: load_crm + a GROUP BY within 2x of the bare read,
under 400 MB peak.

    python bench/bench_ingest.py [--rows N] [--runs R]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ["Won", "Lost", "Engaging", "Prospecting"]
SECTORS = ["software", "retail", "medical", "finance", "technolgy", "marketing", "services"]


def make_data(folder: Path, rows: int) -> tuple[Path, Path]:
    deals, accounts = folder / f"deals-{rows}.csv", folder / "accounts.csv"
    if deals.is_file() and accounts.is_file():
        return deals, accounts
    rng = random.Random(7)
    names = [f"Account {i}" for i in range(2000)]
    with accounts.open("w", encoding="utf-8") as fh:
        fh.write("account,sector,revenue,employees,office_location\n")
        for n in names:
            fh.write(f"{n},{rng.choice(SECTORS)},{rng.uniform(1, 5000):.2f},{rng.randint(5, 20000)},United States\n")
    with deals.open("w", encoding="utf-8") as fh:
        fh.write("opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\n")
        for i in range(rows):
            stage = rng.choice(STAGES)
            acc = "" if stage != "Won" and rng.random() < 0.1 else rng.choice(names)
            closed = f"2017-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}" if stage in ("Won", "Lost") else ""
            value = rng.randint(50, 30000) if stage == "Won" else 0 if stage == "Lost" else ""
            fh.write(f"OPP{i:08d},Agent {i % 35},GTX {i % 7},{acc},{stage},"
                     f"2016-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},{closed},{value}\n")
    return deals, accounts


BARE = """
import duckdb, sys
con = duckdb.connect()
print(con.execute(f"SELECT deal_stage, count(*), sum(close_value) FROM read_csv('{sys.argv[1]}') GROUP BY 1").fetchall())
"""
OURS = """
import sys
from pathlib import Path
from persona_assistant.ingest.crm import load_crm
crm = load_crm([Path(sys.argv[1]), Path(sys.argv[2])])
print(crm.con.execute("SELECT industry, outcome, count(*), sum(amount) FROM deals GROUP BY 1, 2").fetchall()[:2])
"""


def run(code: str, *args: str) -> tuple[float, float, str, float]:
    """(seconds, peak RSS MB, last line of stdout, CPU seconds of all its threads) of a child process
    running `code`. CPU time says more than wall time on a machine other work is sharing."""
    wrapper = ("import resource, time, runpy, sys\nt = time.perf_counter()\n"
               f"exec(compile({code!r}, 'bench', 'exec'))\n"
               "dt = time.perf_counter() - t\n"
               "u = resource.getrusage(resource.RUSAGE_SELF)\n"
               "sys.stderr.write(f'@@{dt} {u.ru_maxrss} {u.ru_utime + u.ru_stime}\\n')\n")
    out = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True, text=True, check=True)
    line = [ln for ln in out.stderr.splitlines() if ln.startswith("@@")][-1]
    seconds, rss_kb, cpu = line[2:].split()
    return float(seconds), int(rss_kb) / 1024, (out.stdout.strip().splitlines() or [""])[-1], float(cpu)


def setup(folder_name: str) -> tuple[argparse.Namespace, Path]:
    """The --rows/--runs options and the data folder, kept between runs under $TMPDIR."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    folder = Path(tempfile.gettempdir()) / folder_name
    folder.mkdir(exist_ok=True)
    return ap.parse_args(), folder


def main() -> None:
    args, folder = setup("pa-bench-ingest")
    t = time.perf_counter()
    deals, accounts = make_data(folder, args.rows)
    print(f"data: {deals} ({deals.stat().st_size / 1e6:.0f} MB), prepared in {time.perf_counter() - t:.1f} s")
    results = {}
    for name, code, files in (("bare read_csv + GROUP BY", BARE, [deals]),
                              ("load_crm + GROUP BY", OURS, [deals, accounts])):
        runs = [run(code, *map(str, files)) for _ in range(args.runs)]
        best = min(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        results[name] = (best, peak)
        print(f"{name:28s} best of {args.runs}: {best:6.2f} s   peak RSS {peak:6.0f} MB")
    ratio = results["load_crm + GROUP BY"][0] / results["bare read_csv + GROUP BY"][0]
    print(f"ratio: {ratio:.2f}x (target <= 2x); cpu count {os.cpu_count()}")
    print(json.dumps({k: {"seconds": v[0], "peak_mb": v[1]} for k, v in results.items()} | {"ratio": ratio}))


if __name__ == "__main__":
    main()
