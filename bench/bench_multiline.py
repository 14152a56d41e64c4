"""Reading a CSV whose cells span lines, against the same rows with those line breaks made spaces.

Writes two synthetic 1,000,000-deal CSVs (LF record ends, a quoted note in every row: one with a CRLF and
an LF inside it, as Excel and CRM exports write notes, the other with spaces there) to a temporary folder
(kept between runs under $TMPDIR/pa-bench-multiline), then times each in its own process through the
public reading API (`read_file`: scan, checked DuckDB read, row-count check) and through `load_crm`
(typed deals table), printing wall and CPU time, peak RSS and the ratios. Acceptance: multi-line within
1.5x.

    python bench/bench_multiline.py [--rows N] [--runs R]
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import run, setup  # noqa: E402  run: (seconds, peak RSS MB, last stdout line) of a child

STAGES = ["Closed Won", "Closed Lost", "Negotiation", "Discovery"]


def make_data(folder: Path, rows: int) -> dict[str, Path]:
    paths = {"multi-line": folder / f"multiline-{rows}.csv", "single-line": folder / f"singleline-{rows}.csv"}
    if all(p.is_file() for p in paths.values()):
        return paths
    for kind, path in paths.items():
        brk = ("\r\n", "\n") if kind == "multi-line" else (" ", " ")
        with path.open("w", encoding="utf-8", newline="") as fh:
            fh.write("deal_id,deal_name,account,stage,amount,close_date,notes\n")
            for i in range(rows):
                stage = STAGES[i % 4]
                fh.write(f'D{i},"Deal {i}",Account {i % 2000},{stage},{100 + (i * 37) % 30000},'
                         f'2024-{1 + i % 12:02d}-{1 + i % 28:02d},"Call {i}:{brk[0]}asked about ""pricing"", '
                         f'budget{brk[1]}follow up"\n')
    return paths


READ = """
import sys
from pathlib import Path
from persona_assistant.ingest.csvfile import read_file
con, raw = read_file(Path(sys.argv[1]))
print(raw.report.rows)
"""
LOAD = """
import sys
from pathlib import Path
from persona_assistant.ingest.crm import load_crm
crm = load_crm([Path(sys.argv[1])])
print(crm.con.execute("SELECT count(*) FROM deals").fetchone()[0])
"""


def main() -> None:
    args, folder = setup("pa-bench-multiline")
    t = time.perf_counter()
    paths = make_data(folder, args.rows)
    sizes = ", ".join(f"{k} {p.stat().st_size / 1e6:.0f} MB" for k, p in paths.items())
    print(f"data: {folder} ({sizes}), prepared in {time.perf_counter() - t:.1f} s")
    results: dict[str, dict[str, float]] = {}
    for api, code in (("read_file", READ), ("load_crm", LOAD)):
        for kind, path in paths.items():
            runs = [run(code, str(path)) for _ in range(args.runs)]
            assert all(r[2] == str(args.rows) for r in runs), (api, kind, runs[0][2])
            best, peak, cpu = min(r[0] for r in runs), max(r[1] for r in runs), min(r[3] for r in runs)
            results[f"{api} {kind}"] = {"seconds": best, "cpu_seconds": cpu, "peak_mb": peak}
            print(f"{api:9s} {kind:11s} best of {args.runs}: {best:6.2f} s wall, {cpu:6.2f} s CPU   "
                  f"peak RSS {peak:4.0f} MB   ({args.rows} rows)")
        wall, cpu = (results[f"{api} multi-line"][k] / results[f"{api} single-line"][k]
                     for k in ("seconds", "cpu_seconds"))
        results[f"{api} ratio"] = {"wall": wall, "cpu": cpu}
        print(f"{api:9s} ratio multi-line / single-line: {wall:.2f}x wall, {cpu:.2f}x CPU (target <= 1.5x)")
    print(f"cpu count {os.cpu_count()}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
