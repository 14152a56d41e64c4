"""Benchmark: `analyze` where the data lives (Postgres) beside DuckDB on the same deals as CSV and as a table.

    .venv/bin/python bench/bench_warehouse.py [--deals N]      (default 10,000,000)

Starts a throwaway PostgreSQL server (tests/pg_server.py), generates N deals in it with generate_series
(seeded arithmetic: 10 industries with planted win rates, 4 regions, 4 products, employee counts, dates),
copies them to a CSV and into a DuckDB database file, then runs the CLI once per engine in a child process:

  (a) analyze --source postgresql://... --table deals
  (b) analyze deals.csv                 (DuckDB over the export, the default path)
  (c) analyze --source duckdb:///deals.duckdb --table deals

and prints wall time, the child's peak RSS (os.wait4) and, for (a) and (c), the rows fetched (the sum and the
largest query, from --debug). Goal: the client's peak memory under 300 MB and independent of N on (a), rows
fetched proportional to segments, not deals. The files live in bench/out/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
import pg_server  # noqa: E402

OUT = HERE / "out"
GENERATE = """
CREATE UNLOGGED TABLE deals AS
WITH g AS (SELECT i, (i * 2654435761) % 4294967296 AS h FROM generate_series(1, {n}) AS i)
SELECT 'D' || lpad(i::text, 10, '0') AS "Deal ID",
       (ARRAY['Software','Manufacturing','Healthcare','Retail','Financial Services','Logistics','Education',
              'Energy','Telecom','Media'])[1 + h % 10] AS "Industry",
       (ARRAY['EMEA','North America','APAC','LATAM'])[1 + (h / 10) % 4] AS "Region",
       (ARRAY['Core','Plus','Enterprise','Add-on'])[1 + (h / 40) % 4] AS "Product",
       (5 + (h / 160) % 5000)::double precision AS "Employees",
       CASE WHEN (h / 800000) % 10 = 0 THEN 'Prospecting'
            WHEN (h / 800) % 100 < (ARRAY[45,30,60,15,35,30,25,40,35,30])[1 + h % 10] THEN 'Closed Won'
            ELSE 'Closed Lost' END AS "Stage",
       (500 + (h / 7) % 50000)::double precision AS "Amount",
       DATE '2020-01-01' + ((h / 13) % 1200)::int AS "Created",
       DATE '2020-01-01' + ((h / 13) % 1200)::int + ((h / 17) % 200)::int AS "Closed"
FROM g
"""


def run(args: list[str], env: dict | None = None) -> tuple[float, float, str, str]:
    """(seconds, peak RSS in MB, stdout, stderr) of one CLI child."""
    import tempfile

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "persona_assistant", *args], stdout=out, stderr=err,
                                text=True, env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)  # the child's own peak RSS
        seconds = time.perf_counter() - start
        out.seek(0), err.seek(0)
        stdout, stderr = out.read(), err.read()
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"failed: {' '.join(args)}\n{stderr[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, stdout, stderr


def fetched(stderr: str) -> tuple[int, int, int]:
    counts = [int(x) for x in re.findall(r": (\d+) row\(s\) fetched", stderr)]
    return sum(counts), max(counts, default=0), len(counts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--deals", type=int, default=10_000_000)
    n = ap.parse_args().deals
    OUT.mkdir(parents=True, exist_ok=True)
    csv_path, duck_path = OUT / f"wh_deals_{n}.csv", OUT / f"wh_deals_{n}.duckdb"
    server = pg_server.start({"shared_buffers": "256MB", "work_mem": "64MB", "max_parallel_workers_per_gather": "2"})
    try:
        t = time.perf_counter()
        with server.connect() as c:
            c.execute(GENERATE.format(n=int(n)))
            c.execute("ANALYZE deals")
            print(f"generated {n:,} deals in Postgres in {time.perf_counter() - t:.1f} s", flush=True)
            if not csv_path.exists():
                with csv_path.open("wb") as fh, c.cursor().copy("COPY deals TO STDOUT WITH (FORMAT csv, HEADER)") as cp:
                    for block in cp:
                        fh.write(block)
        if not duck_path.exists():  # in a child: a child's peak RSS starts at its parent's, so the parent stays small
            subprocess.run([sys.executable, "-c", "import duckdb, sys; d = duckdb.connect(sys.argv[1]); d.execute("
                            "\"CREATE TABLE deals AS SELECT * FROM read_csv('\" + sys.argv[2] + \"', header = true)\")",
                            str(duck_path), str(csv_path)], check=True)
        print(f"CSV {csv_path.stat().st_size / 2**20:.0f} MB, DuckDB file {duck_path.stat().st_size / 2**20:.0f} MB")
        ws = OUT / "wh_ws"
        ws.mkdir(exist_ok=True)
        results = {}
        for label, args in (
                ("(a) Postgres", ["--source", server.url_without_password(), "--table", "deals"]),
                ("(b) DuckDB on CSV", [str(csv_path)]),
                ("(c) DuckDB table", ["--source", f"duckdb:///{duck_path}", "--table", "deals"])):
            seconds, rss, out, err = run(["--debug", "analyze", "-w", str(ws), "--json", *args],
                                         env={"PERSONA_ASSISTANT_SOURCE_PASSWORD": pg_server.PASSWORD})
            data = json.loads(out)
            total, largest, queries = fetched(err)
            results[label] = {k: v for k, v in data.items() if k not in ("ingest", "column_notices")}
            rows = f"; rows fetched {total:,} in {queries} queries (largest {largest:,})" if queries else ""
            print(f"{label:20s} {seconds:7.1f} s  peak RSS {rss:6.0f} MB  segments {len(data['segments'])}{rows}",
                  flush=True)
        same = results["(a) Postgres"] == results["(b) DuckDB on CSV"] == results["(c) DuckDB table"]
        print(f"figures identical on all three: {same}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
