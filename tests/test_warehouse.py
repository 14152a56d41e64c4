"""A warehouse table gives the figures the same exports give: DuckDB on CSV against a real Postgres server.

The server is Debian's postgresql, started once per session in a temporary directory on a free port
(`tests/pg_server.py`; `.ci/postgres.sh` installs it in CI). Tests skip, saying why, only when it cannot start.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

import pg_server

pytest.importorskip("sqlglot")
pytest.importorskip("psycopg")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "fixtures" / "sample-workspace" / "crm"
MAVEN = ROOT.parent / "shared" / "datasets" / "maven-crm"
SAMPLE_VIEW = '''CREATE VIEW sample_deals AS SELECT d.*, c."Industry", c."Number of Employees", c."Annual Revenue",
    c."Country/Region" FROM sample_d d LEFT JOIN sample_c c ON lower(c."Company name") = lower(d."Associated Company")'''
MAVEN_VIEW = '''CREATE VIEW maven_deals AS SELECT p.*, a.sector, a.year_established, a.revenue, a.employees,
    a.office_location, a.subsidiary_of FROM maven_p p LEFT JOIN maven_a a ON lower(a.account) = lower(p.account)'''


def planted_rows(n: int = 1200, seed: int = 7) -> list[list[str]]:
    """Deals where Healthcare wins 60% and Retail 15% against ~35% elsewhere, with blanks and placeholders."""
    rng = random.Random(seed)
    rows = [["Deal ID", "Stage", "Amount", "Created", "Closed", "Industry", "Employees", "Region", "Seats"]]
    for i in range(n):
        industry = rng.choice(["Healthcare", "Retail", "Software", "Finance", "Logistics", "", "unknown"])
        p = {"Healthcare": 0.6, "Retail": 0.15}.get(industry, 0.35)
        stage = rng.choice(["Closed Won" if rng.random() < p else "Closed Lost"] * 9 + ["Negotiation"])
        day = rng.randrange(0, 700)
        rows.append([f"D-{i:05d}", stage, str(rng.randrange(10, 900) * 100), f"2023-{1 + day % 12:02d}-{1 + day % 28:02d}",
                     "" if stage == "Negotiation" else f"2024-{1 + (day * 7) % 12:02d}-{1 + (day * 3) % 28:02d}",
                     industry, str(rng.choice([8, 40, 150, 400, 2500])), rng.choice(["EMEA", "NA", "APAC"]),
                     str(rng.randrange(1, 400))])
    return rows


@pytest.fixture(scope="session")
def planted_csv(tmp_path_factory) -> Path:
    import csv

    path = tmp_path_factory.mktemp("planted") / "deals.csv"
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(planted_rows())
    return path


@pytest.fixture(scope="session")
def pg(planted_csv):
    try:
        server = pg_server.start()
    except RuntimeError as exc:
        pytest.skip(f"no PostgreSQL server: {exc}")
    try:
        with server.connect() as c:
            pg_server.load_csv(c, SAMPLE / "deals.csv", "sample_d",
                               {"Amount": "numeric", "Create Date": "date", "Close Date": "date"})
            pg_server.load_csv(c, SAMPLE / "companies.csv", "sample_c",
                               {"Number of Employees": "numeric", "Annual Revenue": "numeric"})
            c.execute(SAMPLE_VIEW)
            pg_server.load_csv(c, planted_csv, "planted",
                               {"Amount": "numeric", "Created": "date", "Closed": "date", "Employees": "numeric"})
            if MAVEN.is_dir():
                pg_server.load_csv(c, MAVEN / "sales_pipeline.csv", "maven_p",
                                   {"close_value": "numeric", "engage_date": "date", "close_date": "date"})
                pg_server.load_csv(c, MAVEN / "accounts.csv", "maven_a", {"revenue": "numeric", "employees": "numeric"})
                c.execute(MAVEN_VIEW)
        yield server
    finally:
        server.stop()


def _both(files: list[Path], pg, table: str, *, local: bool = True):
    from persona_assistant.analysis.columns import plan_dimensions
    from persona_assistant.ingest.crm import load_crm
    from persona_assistant.warehouse.source import Source
    from persona_assistant.warehouse.tables import open_table

    if local:
        local = load_crm(files, all_columns=True)
        plan_dimensions(local)
    remote = open_table(Source(pg.url, table))
    plan_dimensions(remote)
    return local, remote


def _figures(analysis, *, joined: bool) -> dict:
    data = analysis.model_dump(exclude={"ingest"})
    if joined:  # two exports name the account and its id in the companies file; the view has neither
        data["excluded"] = [x for x in data["excluded"] if "account" not in x["column"]]
    return data


def _assert_same(files, pg, table, *, joined=False):
    from persona_assistant.analysis.segments import analyze

    local, remote = _both(files, pg, table)
    a, b = analyze(local), analyze(remote)
    assert b.segments, "the warehouse analysis found no segments"
    assert _figures(a, joined=joined) == _figures(b, joined=joined)
    return local, remote, b


def test_sample_crm_figures_equal_on_postgres(pg):
    _assert_same(sorted(SAMPLE.glob("*.csv")), pg, "sample_deals", joined=True)


def test_rows_fetched_follow_segments_not_deals(pg):
    """Three times the deals (the same values) fetch about the same rows: aggregates and receipts only."""
    from persona_assistant.analysis.segments import analyze

    with pg.connect() as c:
        c.execute("CREATE OR REPLACE VIEW planted3 AS SELECT * FROM planted UNION ALL SELECT * FROM planted "
                  "UNION ALL SELECT * FROM planted")
    fetched = []
    for table in ("planted", "planted3"):
        _, remote = _both([], pg, table, local=False)
        analyze(remote)
        fetched.append(sum(n for _, n in remote.con.fetched))
    assert fetched[1] < 1.5 * fetched[0]


def test_planted_fixture_figures_equal_and_the_plant_is_found(pg, planted_csv):
    _, _, b = _assert_same([planted_csv], pg, "planted")
    assert b.icp_candidates and b.icp_candidates[0] == "industry=Healthcare"
    assert "industry=Retail" in b.anti_icp
    assert any("Seats" in n for n in b.column_notices)  # a number banded into quartiles, alike on both


def test_maven_crm_figures_equal_on_postgres(pg, shared_dir):
    _assert_same([MAVEN / "sales_pipeline.csv", MAVEN / "accounts.csv"], pg, "maven_deals", joined=True)


def test_backtest_and_scores_equal_on_postgres(pg, planted_csv):
    from persona_assistant.scoring.backtest import run_backtest
    from persona_assistant.scoring.model import explain, fit

    local, remote = _both([planted_csv], pg, "planted")
    assert local.dimensions == remote.dimensions
    a = run_backtest(local.con, local.dimensions).to_dict()
    b = run_backtest(remote.con, remote.dimensions).to_dict()
    assert a == b and a["test"]["deals"] > 0
    assert explain(fit(local.con, local.dimensions)) == explain(fit(remote.con, remote.dimensions))


# --------------------------------------------------------------------------- the command line


def run_cli(*args, env=None):
    import os

    return subprocess.run([sys.executable, "-m", "persona_assistant", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def _all_text(root: Path) -> str:
    return "\n".join(p.read_bytes().decode("utf-8", "replace") for p in root.rglob("*") if p.is_file())


def test_cli_analyze_json_on_postgres_equals_csv_and_prints_rows_fetched(pg, planted_csv, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    local = run_cli("analyze", str(planted_csv), "-w", str(ws), "--json")
    remote = run_cli("--debug", "analyze", "--source", pg.url, "--table", "planted", "-w", str(ws), "--json")
    assert remote.returncode == 0, remote.stderr
    a, b = json.loads(local.stdout), json.loads(remote.stdout)
    a.pop("ingest"), b.pop("ingest")
    assert a == b
    assert "row(s) fetched" in remote.stderr
    assert pg_server.PASSWORD not in remote.stderr + remote.stdout + _all_text(ws)


def test_workspace_source_saves_the_analysis_without_credentials(pg, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "persona-assistant.toml").write_text(f'[source]\nurl = "{pg.url_without_password()}"\ntable = "planted"\n')
    out = run_cli("--debug", "analyze", "-w", str(ws), env={"PERSONA_ASSISTANT_SOURCE_PASSWORD": pg_server.PASSWORD})
    assert out.returncode == 0, out.stderr
    assert list((ws / "drafts" / "analysis").glob("v*.json"))
    assert pg_server.PASSWORD not in out.stdout + out.stderr + _all_text(ws)


def test_a_password_in_the_workspace_settings_is_refused(tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "persona-assistant.toml").write_text('[source]\nurl = "postgresql://u:hunter2@127.0.0.1/db"\ntable = "t"\n')
    out = run_cli("analyze", "-w", str(ws))
    assert out.returncode == 1 and "holds a password" in out.stderr and "hunter2" not in out.stderr


def _one_line_error(out, *needles):
    assert out.returncode == 1, out.stderr
    lines = out.stderr.strip().splitlines()
    assert lines[-1].startswith("error: ") and "Traceback" not in out.stderr
    for needle in needles:
        assert needle in lines[-1], lines[-1]
    assert pg_server.PASSWORD not in out.stderr + out.stdout
    return lines[-1]


def test_a_mapped_column_missing_from_the_table_is_one_line(pg, tmp_path):
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "mapping.toml").write_text('[columns]\namount = "Net value"\n')
    out = run_cli("analyze", "-w", str(ws), "--source", pg.url, "--table", "planted")
    _one_line_error(out, "table planted", "column 'Net value'", "no such column", "amount")
    assert not (ws / "drafts").exists()


@pytest.mark.parametrize("case", ["unreachable", "credentials", "table", "column", "type"])
def test_bad_sources_are_one_line_errors_and_write_nothing(pg, tmp_path, case):
    ws = tmp_path / "ws"
    ws.mkdir()
    url, table, needles = pg.url, "planted", [pg.url_without_password().split("@")[0]]
    if case == "unreachable":
        url = pg.url.replace(f":{pg.port}/", f":{pg_server._free_port()}/")
        needles += ["cannot connect"]
    elif case == "credentials":
        url = pg.url.replace(pg_server.PASSWORD, "wrong-password")
        needles += ["password authentication failed"]
    elif case == "table":
        table, needles = "no_such_table", needles + ["table no_such_table", "no such table"]
    else:
        with pg.connect() as c:
            c.execute(f"DROP TABLE IF EXISTS bad_{case}")
            if case == "column":  # no stage or status column
                c.execute(f'CREATE TABLE bad_{case} ("Deal ID" text, "Amount" numeric)')
            else:  # a money column held as text
                c.execute(f'CREATE TABLE bad_{case} ("Deal ID" text, "Stage" text, "Amount" text)')
        table = f"bad_{case}"
        needles += [f"table {table}"] + (["stage or status"] if case == "column" else ["column 'Amount'", "type text"])
    (ws / "persona-assistant.toml").write_text(f'[source]\ntable = "{table}"\n')
    out = run_cli("analyze", "-w", str(ws), "--source", url, "--json")
    _one_line_error(out, *needles)
    assert out.stdout == ""
    assert not (ws / "drafts").exists()


def test_cli_backtest_and_score_learn_from_postgres_as_from_csv(pg, planted_csv, tmp_path):
    leads = tmp_path / "leads.csv"
    leads.write_text("Company,Industry,Employees,Region\nA,Healthcare,150,EMEA\nB,Retail,40,NA\nC,unknown,8,APAC\n")
    local_ws, remote_ws = tmp_path / "local", tmp_path / "remote"
    (local_ws / "crm").mkdir(parents=True)
    remote_ws.mkdir()
    (local_ws / "crm" / "deals.csv").write_bytes(planted_csv.read_bytes())
    warehouse = ["--source", pg.url, "--table", "planted"]
    for command in (["backtest"], ["score", str(leads)]):
        a = run_cli(*command, "-w", str(local_ws), "--json")
        b = run_cli(*command, "-w", str(remote_ws), "--json", *warehouse)
        assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
        assert json.loads(a.stdout) == json.loads(b.stdout)
        assert pg_server.PASSWORD not in b.stdout + b.stderr + _all_text(remote_ws)


def test_cli_score_a_leads_table_writes_scores_back_as_a_table(pg, planted_csv, tmp_path):
    leads = tmp_path / "leads.csv"
    leads.write_text("Company,Industry,Employees,Region,Title\nA,Healthcare,150,EMEA,VP Sales\nB,Retail,40,NA,CFO\n"
                     "C,unknown,8,APAC,\nD,Healthcare,2500,NA,VP Sales\n")
    with pg.connect() as c:
        c.execute("DROP TABLE IF EXISTS leads_in, leads_scored")
    with pg.connect() as c:
        pg_server.load_csv(c, leads, "leads_in", {"Employees": "numeric"})
    ws = tmp_path / "ws"
    (ws / "crm").mkdir(parents=True)
    (ws / "crm" / "deals.csv").write_bytes(planted_csv.read_bytes())
    local = run_cli("score", str(leads), "-w", str(ws), "--json", "--out", str(tmp_path / "local.csv"))
    remote = run_cli("score", "-w", str(ws), "--json", "--source", pg.url, "--table", "planted",
                     "--leads-table", "leads_in", "--out-table", "leads_scored")
    assert local.returncode == 0 and remote.returncode == 0, local.stderr + remote.stderr
    a, b = json.loads(local.stdout), json.loads(remote.stdout)
    by_account = {r["account"]: (r["score"], r["tier"], r["values"]) for r in a["rows"]}
    assert {r["account"]: (r["score"], r["tier"], r["values"]) for r in b["rows"]} == by_account
    assert a["model"] == b["model"] and a["backtest"] == b["backtest"]
    with pg.connect() as c:
        rows = c.execute('SELECT "Company", "Title", score, tier FROM leads_scored ORDER BY "Company"').fetchall()
    assert [(r[0], r[2], r[3]) for r in rows] == sorted((k, v[0], v[1]) for k, v in by_account.items())
    assert rows[0][1] == "VP Sales"  # the leads' own columns come along as stored
    again = run_cli("score", "-w", str(ws), "--source", pg.url, "--table", "planted", "--leads-table", "leads_in",
                    "--out-table", "leads_scored")
    _one_line_error(again, "leads_scored")  # the table exists: one line, nothing replaced


def test_the_password_can_come_from_the_keys_file(pg, tmp_path, monkeypatch):
    from persona_assistant.llm.settings import write_keys_file
    from persona_assistant.warehouse.source import Source

    write_keys_file({"source_password": pg_server.PASSWORD})  # XDG_CONFIG_HOME is the test's tmp_path
    source = Source(pg.url_without_password(), "planted")
    assert source.password == pg_server.PASSWORD and pg_server.PASSWORD not in source.where()
    from persona_assistant.warehouse.tables import open_table

    assert "industry" in open_table(source).dimensions


def test_the_readme_postgres_example_gives_the_csv_figures(pg, tmp_path):
    """fixtures/warehouse/sample_postgres.sql run by psql as the README says, then analyze on the view."""
    import os
    import shutil

    psql = shutil.which("psql") or next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))), None)
    if psql is None:
        pytest.skip("no psql")
    env = {**os.environ, "PGPASSWORD": pg_server.PASSWORD}
    done = subprocess.run([str(psql), "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", str(pg.port), "-U",
                           pg_server.USER, pg_server.DATABASE, "-f", "fixtures/warehouse/sample_postgres.sql"],
                          capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    ws = tmp_path / "ws"
    ws.mkdir()
    remote = run_cli("analyze", "-w", str(ws), "--json", "--source", pg.url_without_password(), "--table",
                     "crm_deals", env={"PGPASSWORD": pg_server.PASSWORD})
    local = run_cli("analyze", "-w", str(ws), "--json", *map(str, sorted(SAMPLE.glob("*.csv"))))
    assert remote.returncode == 0, remote.stderr
    a, b = json.loads(local.stdout), json.loads(remote.stdout)
    assert a["segments"] and a["segments"] == b["segments"] and a["verdict"] == b["verdict"]


def test_a_duckdb_database_table_gives_the_csv_figures(planted_csv, tmp_path):
    import duckdb

    db = tmp_path / "crm.duckdb"
    con = duckdb.connect(str(db))
    con.execute(f"CREATE TABLE deals AS SELECT * FROM read_csv('{planted_csv}', header = true)")
    con.close()
    ws = tmp_path / "ws"
    ws.mkdir()
    local = run_cli("analyze", str(planted_csv), "-w", str(ws), "--json")
    remote = run_cli("analyze", "-w", str(ws), "--json", "--source", f"duckdb:///{db}", "--table", "deals")
    assert remote.returncode == 0, remote.stderr
    a, b = json.loads(local.stdout), json.loads(remote.stdout)
    a.pop("ingest"), b.pop("ingest")
    assert a == b and a["icp_candidates"]
    missing = run_cli("analyze", "-w", str(ws), "--source", f"duckdb:///{tmp_path / 'nope.duckdb'}", "--table", "t")
    _one_line_error(missing, "nope.duckdb", "no such DuckDB database file")


@pytest.mark.parametrize("url, secret", [("postgresql://u:p%40ss@h:5/db", "p@ss"),
                                         ("postgresql://u@h/db?sslmode=require&password=sekrit", "sekrit")])
def test_a_password_in_the_url_is_never_shown(url, secret):
    from persona_assistant.warehouse.source import Source

    source = Source(url, "deals")
    assert source.password == secret
    shown = source.where("Amount") + source.mask(f"driver said: {url} rejected {secret}")
    assert secret not in shown and "p%40ss" not in shown and "***" in shown
