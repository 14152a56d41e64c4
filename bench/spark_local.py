"""The analysis on PySpark in local mode, beside DuckDB on the same CSV: the distributed engine, exercised.

    pip install pyspark        (not in the test install: hundreds of MB and a JVM; Java 17 is needed)
    python bench/spark_local.py [CSV ...]     (default: fixtures/sample-workspace/crm/deals.csv + a planted file)

Each CSV is read by Spark (typed: the money and date columns cast), registered as a temporary view, and
analysed through `warehouse.query.WarehouseCon` with SQLGlot writing Spark SQL; the same file through the
CSV path (DuckDB). Prints time, the rows fetched and whether every figure of the analysis and the backtest
is equal. The DB-API cursor over a SparkSession lives here: Spark is not a `--source` scheme.
"""

from __future__ import annotations

import csv
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "fixtures" / "sample-workspace" / "crm" / "deals.csv"


class SparkCursor:
    def __init__(self, spark):
        self.spark, self.description, self._rows = spark, None, []

    def execute(self, sql: str) -> None:
        df = self.spark.sql(sql)
        self.description = [(f.name,) for f in df.schema.fields] or None
        self._rows = [tuple(r) for r in df.collect()] if self.description else []

    def fetchall(self):
        return self._rows

    def close(self) -> None:
        pass


class SparkConn:
    def __init__(self, spark):
        self.spark = spark

    def cursor(self) -> SparkCursor:
        return SparkCursor(self.spark)


def planted(path: Path, n: int = 20_000) -> Path:
    rng = random.Random(3)
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Deal ID", "Stage", "Amount", "Created", "Closed", "Industry", "Region", "Employees"])
        for i in range(n):
            ind = rng.choice(["Healthcare", "Retail", "Software", "Finance", "Logistics"])
            won = rng.random() < {"Healthcare": 0.55, "Retail": 0.2}.get(ind, 0.35)
            day = rng.randrange(600)
            w.writerow([f"D{i:06d}", "Closed Won" if won else "Closed Lost", rng.randrange(10, 900) * 100,
                        f"2023-{1 + day % 12:02d}-{1 + day % 28:02d}", f"2024-{1 + day * 7 % 12:02d}-{1 + day % 27:02d}",
                        ind, rng.choice(["EMEA", "NA", "APAC"]), rng.choice([8, 40, 150, 400, 2500])])
    return path


def main() -> None:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    from persona_assistant.analysis.columns import plan_dimensions
    from persona_assistant.analysis.segments import analyze
    from persona_assistant.ingest.crm import load_crm
    from persona_assistant.scoring.backtest import run_backtest
    from persona_assistant.warehouse.query import WarehouseCon
    from persona_assistant.warehouse.source import Source
    from persona_assistant.warehouse.tables import open_table

    tmp = Path(tempfile.mkdtemp(prefix="pa-spark-"))
    files = [Path(p) for p in sys.argv[1:]] or [SAMPLE, planted(tmp / "planted.csv")]
    t = time.perf_counter()
    spark = (SparkSession.builder.master("local[2]").appName("persona-assistant")
             .config("spark.sql.shuffle.partitions", "4").config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    print(f"Spark {spark.version} local[2] started in {time.perf_counter() - t:.1f} s")
    money = {"Amount", "Employees", "close_value"}
    dates = {"Create Date", "Close Date", "Created", "Closed", "engage_date", "close_date"}
    for i, path in enumerate(files):
        df = spark.read.option("header", True).csv(str(path))
        for c in df.columns:
            if c in money:
                df = df.withColumn(c, F.regexp_replace(F.col(f"`{c}`"), "[$,]", "").cast("double"))
            elif c in dates:
                df = df.withColumn(c, F.to_date(F.col(f"`{c}`")))
        df.createOrReplaceTempView(f"deals_{i}")
        t = time.perf_counter()
        local = load_crm([path], all_columns=True)
        plan_dimensions(local)
        a = analyze(local)
        duck_s = time.perf_counter() - t
        t = time.perf_counter()
        source = Source("spark://local", f"deals_{i}")
        con = WarehouseCon(source, SparkConn(spark), "spark")
        remote = open_table(source, con=con)
        plan_dimensions(remote)
        b = analyze(remote)
        spark_s = time.perf_counter() - t
        same = a.model_dump(exclude={"ingest"}) == b.model_dump(exclude={"ingest"})
        bt = run_backtest(local.con, local.dimensions).to_dict() == run_backtest(con, remote.dimensions).to_dict()
        rows = sum(n for _, n in con.fetched)
        print(f"{path.name}: DuckDB {duck_s:.1f} s, Spark {spark_s:.1f} s ({len(con.fetched)} queries, {rows} rows "
              f"fetched); {len(b.segments)} segments; figures equal: {same}; backtest equal: {bt}")
    spark.stop()


if __name__ == "__main__":
    main()
