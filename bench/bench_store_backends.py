"""The demo-size backfill on each result-store backend: a DuckDB file and PostgreSQL.

Runs the real `trading-assets backfill --config demo` (3 models, the full bundled
history, 2000-03-01..2013-03-01) on a fresh embedded (SQLite) Dagster instance, once into
a fresh DuckDB file and once into a fresh PostgreSQL database (`--store
postgresql://...`), and prints each one's wall time, the time to the last run's end, the
CPU seconds of the command's processes (PostgreSQL's server not included) and the rows
stored, which must be the same on both.

    python bench/bench_store_backends.py [--repeat N]

PostgreSQL: a throwaway database on TA_BENCH_PG (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sweep import ProcessWatch  # CPU seconds of the command's processes

REPO = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).parent / "trading-assets"
ADMIN = os.environ.get("TA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
COUNTED = ("model_days", "orders", "holdings", "signals", "prices")


def admin(sql: str) -> None:
    import psycopg2

    con = psycopg2.connect(ADMIN)
    con.autocommit = True
    try:
        con.cursor().execute(sql)
    finally:
        con.close()


def backfill(tmp: Path, store: str) -> tuple[float, float, float, dict[str, int]]:
    home = tmp / f"home-{uuid.uuid4().hex[:6]}"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    with ProcessWatch() as watch:
        start = time.perf_counter()
        done = subprocess.run(
            [str(CLI), "backfill", "--config", "demo", "--store", store],
            env={**os.environ, "DAGSTER_HOME": str(home), "TRADING_ASSETS_STORE": store},
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"backfill failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    last_run = re.search(r"last run ended after ([\d.]+) s", done.stdout)
    from trading_assets.store.results import ResultStore

    reader = ResultStore(store, read_only=True)
    rows = {t: int(reader.query(f"SELECT count(*) AS n FROM {t}")["n"].iloc[0]) for t in COUNTED}
    last = float(last_run.group(1)) if last_run else float("nan")
    return elapsed, last, sum(watch.cpu.values()), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=1, help="backfills per backend")
    args = parser.parse_args()
    figures: dict[str, list[tuple[float, float, float, dict[str, int]]]] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for _ in range(args.repeat):
            store = tmp / f"store-{uuid.uuid4().hex[:6]}.duckdb"
            figures.setdefault("duckdb file", []).append(backfill(tmp, str(store)))
            name = f"ta_bench_store_{uuid.uuid4().hex[:8]}"
            admin(f'CREATE DATABASE "{name}"')
            try:
                url = ADMIN.rsplit("/", 1)[0] + "/" + name
                figures.setdefault("postgresql", []).append(backfill(tmp, url))
            finally:
                from trading_assets.store import postgres

                postgres.release(url)
                admin(f'DROP DATABASE "{name}" WITH (FORCE)')
    print(f"`trading-assets backfill --config demo` (SQLite instance, {os.cpu_count()} cores)")
    print(f"{'store':<12} {'wall s':>8} {'last run s':>11} {'CPU s':>8}  rows")
    for backend, runs in figures.items():
        for wall, last, cpu, rows in runs:
            counts = ", ".join(f"{t} {n:,}" for t, n in rows.items())
            print(f"{backend:<12} {wall:8.1f} {last:11.1f} {cpu:8.1f}  {counts}")
    [first, *others] = [rows for runs in figures.values() for *_, rows in runs]
    print("same rows on both backends:", all(rows == first for rows in others))
    print(f"load average (1 min) at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
