"""A throwaway PostgreSQL server for tests and bench/bench_warehouse.py.

initdb into a temporary directory, start `postgres` on a free loopback port (password authentication, so
wrong credentials can be tested), stop it and remove the directory afterwards. Postgres refuses to run as
root: as root the server runs as the `postgres` system user (Debian's package creates it; created here when
missing) through `runuser`. `.ci/postgres.sh` installs Debian's `postgresql` when the binaries are missing.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

USER, PASSWORD, DATABASE = "pa", "pa-secret-pw", "crm"


def _bin_dir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(d) / "pg_ctl").exists():
            return Path(d)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PgServer:
    port: int
    data: Path
    run_as: list[str]
    bin: Path

    @property
    def url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{DATABASE}"

    def url_without_password(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"

    def connect(self):
        import psycopg

        return psycopg.connect(self.url, autocommit=True)

    def stop(self) -> None:
        subprocess.run([*self.run_as, str(self.bin / "pg_ctl"), "-D", str(self.data / "db"), "-m", "fast",
                        "-w", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(self.data, ignore_errors=True)


def start(settings: dict[str, str] | None = None) -> PgServer:
    """A running server with database `crm` owned by `pa` (password PASSWORD); RuntimeError with the reason
    when it cannot be started."""
    bindir = _bin_dir()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (no pg_ctl; .ci/postgres.sh installs Debian's postgresql)")
    run_as: list[str] = []
    data = Path(tempfile.mkdtemp(prefix="pa-pg-"))
    if os.geteuid() == 0:
        if subprocess.run(["id", "-u", "postgres"], capture_output=True).returncode != 0:
            subprocess.run(["useradd", "--system", "--no-create-home", "postgres"], check=True, capture_output=True)
        shutil.chown(data, "postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
    os.chmod(data, 0o700)
    pwfile = data / "pw"
    pwfile.write_text(PASSWORD + "\n")
    if run_as:
        shutil.chown(pwfile, "postgres")
    done = subprocess.run([*run_as, str(bindir / "initdb"), "-D", str(data / "db"), "-U", USER, "-A",
                           "scram-sha-256", f"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        shutil.rmtree(data, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {done.stderr.strip()[-300:]}")
    port = _free_port()
    options = {"listen_addresses": "127.0.0.1", "port": str(port), "unix_socket_directories": str(data),
               "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", **(settings or {})}
    conf = " ".join(f"-c {k}={v}" for k, v in options.items())
    server = PgServer(port, data, run_as, bindir)
    done = subprocess.run([*run_as, str(bindir / "pg_ctl"), "-D", str(data / "db"), "-l", str(data / "log"),
                           "-o", conf, "-w", "-t", "60", "start"], capture_output=True, text=True, timeout=90)
    if done.returncode != 0:
        log = (data / "log").read_text(errors="replace")[-300:] if (data / "log").exists() else ""
        server.stop()
        raise RuntimeError(f"postgres did not start: {done.stderr.strip()[-200:]} {log}")
    deadline = time.monotonic() + 30
    while True:
        try:
            import psycopg

            with psycopg.connect(f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{port}/postgres", autocommit=True) as c:
                c.execute(f"CREATE DATABASE {DATABASE}")
            return server
        except Exception as exc:  # still starting up
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError(f"postgres did not accept connections: {exc}") from None
            time.sleep(0.3)


def load_csv(conn, path: Path, table: str, types: dict[str, str] | None = None) -> list[str]:
    """Copy a CSV into a new table: every column text as written, those in `types` typed ('numeric': money
    text such as "$13,900.00" as a number; 'date': an ISO date). Returns the headers."""
    import duckdb

    types = types or {}
    duck = duckdb.connect()
    rel = duck.sql(f"SELECT * FROM read_csv('{path}', all_varchar = true, header = true)")
    headers = rel.columns

    def value(h: str) -> str:
        q = '"' + h.replace('"', '""') + '"'
        if types.get(h) == "numeric":
            return f"TRY_CAST(regexp_replace(trim({q}), '[$,]', '', 'g') AS DOUBLE)"
        if types.get(h) == "date":
            return f"TRY_CAST(trim({q}) AS DATE)"
        return q

    rows = duck.sql(f"SELECT {', '.join(value(h) for h in headers)} FROM rel").fetchall()
    cols = ", ".join('"' + h.replace('"', '""') + '" ' + {"numeric": "double precision", "date": "date"}.get(
        types.get(h, ""), "text") for h in headers)
    with conn.cursor() as cur:
        cur.execute(f"CREATE TABLE {table} ({cols})")
        with cur.copy(f"COPY {table} FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return headers
