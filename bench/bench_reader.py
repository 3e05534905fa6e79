"""A notebook-style reader held open during a backfill: does it delay the backfill?

The backfill is the real `trading-assets backfill --config demo --start START` (3 models;
by default 2005-01-03 to the end of the bundled history, 6,162 model-days) on a
fresh embedded (SQLite) Dagster instance, into a fresh PostgreSQL database each time.
Each database is a copy (`CREATE DATABASE ... TEMPLATE`) of one made once by a short
earlier backfill (2000-03-01 .. START's eve), so the store already holds a leaderboard,
daily_portfolio and metrics, as an analyst's store does, and the timed backfill ends by
rebuilding them.

    python bench/bench_reader.py [--repeat 3] [--start 2005-01-03] [--duckdb]

Per repetition, interleaved: (a) the backfill alone; (b) the same backfill while a
reader process opened the store BEFORE it started, the way the notebook does
(`trading_assets.store.db.connect(url, read_only=True)`), began a transaction and keeps
it open for the whole backfill, querying every 0.5 s (a count of model_days, the latest
day per model, the leaderboard, a model's daily_portfolio). Prints each wall time, the
medians, the delay in %, the reader's queries and slowest query, what PostgreSQL showed
of the reader's session mid-run (`idle in transaction`), and `uptime`.

`--duckdb`: once, for contrast, the same with the store in a DuckDB file and the reader
holding it open read-only: the backfill is given READER_TIMEOUT_S and then stopped.

PostgreSQL: throwaway databases on TA_BENCH_PG (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
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
PREFIX = "reader_bench_"  # this branch's databases
READER_TIMEOUT_S = 120.0
# what an analyst's notebook asks, again and again, in one transaction
QUERIES = (
    "SELECT count(*) FROM model_days",
    "SELECT model, max(date), arg_max(portfolio_value, date) FROM model_days GROUP BY model",
    "SELECT * FROM leaderboard ORDER BY total_return DESC",
    "SELECT date, portfolio_value, drawdown FROM daily_portfolio "
    "WHERE model = (SELECT min(model) FROM daily_portfolio) ORDER BY date DESC LIMIT 20",
)


def admin(sql: str, fetch: bool = False) -> list[tuple]:
    import psycopg2

    con = psycopg2.connect(ADMIN)
    con.autocommit = True
    try:
        cur = con.cursor()
        cur.execute(sql)
        return cur.fetchall() if fetch else []
    finally:
        con.close()


def url_of(name: str) -> str:
    return ADMIN.rsplit("/", 1)[0] + "/" + name


def backfill(tmp: Path, store: str, *extra: str, timeout: float | None = None) -> tuple[float, str]:
    """One `trading-assets backfill --config demo`; (wall seconds, its job line: the
    last line when there is none; inf and the last line when stopped at `timeout`)."""
    home = tmp / f"home-{uuid.uuid4().hex[:6]}"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    command = [str(CLI), "backfill", "--config", "demo", "--store", store, *extra]
    start = time.perf_counter()
    proc = subprocess.Popen(
        command,
        env={**os.environ, "DAGSTER_HOME": str(home), "TRADING_ASSETS_STORE": store},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGINT)  # as Ctrl-C: the command stops its runs
        try:
            out, _ = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, _ = proc.communicate()
        return float("inf"), out.strip().splitlines()[-1] if out.strip() else ""
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"backfill failed ({' '.join(command)}):\n{out[-3000:]}")
    lines = out.strip().splitlines()
    return elapsed, next((x for x in lines if "model-days over" in x), lines[-1])


class Reader:
    """The reader process (this script with --reader): ready once its transaction holds
    a snapshot; stopped by closing its stdin; reports its queries as JSON."""

    def __init__(self, store: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--reader", store],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        line = self.proc.stdout.readline()
        if line.strip() != "ready":
            sys.exit(f"the reader did not start: {line}")

    def stop(self) -> dict:
        self.proc.stdin.close()
        out = self.proc.stdout.read()
        self.proc.wait()
        return json.loads(out)


def read_forever(store: str) -> None:
    """The notebook: one connection, one transaction, a query round every 0.5 s."""
    import select

    from trading_assets.store.db import connect

    with connect(store, read_only=True) as con:
        con.execute("BEGIN")
        rounds, slowest, rows = 0, 0.0, None
        ready = False
        while True:
            t = time.perf_counter()
            for sql in QUERIES:
                result = con.execute(sql).fetchall()
                if sql.startswith("SELECT count(*)"):
                    rows = result[0][0]
            slowest = max(slowest, time.perf_counter() - t)
            rounds += 1
            if not ready:
                print("ready", flush=True)
                ready = True
            if select.select([sys.stdin], [], [], 0.5)[0]:  # stdin closed: stop
                break
        con.execute("COMMIT")
        (after,) = con.execute("SELECT count(*) FROM model_days").fetchone()
    print(json.dumps({"rounds": rounds, "slowest_s": slowest, "rows_seen": rows, "after": after}))


def reader_sessions() -> list[tuple]:
    return admin(
        "SELECT state, extract(epoch FROM now() - xact_start) FROM pg_stat_activity "
        f"WHERE datname LIKE '{PREFIX}%' AND state LIKE 'idle in transaction%'",
        fetch=True,
    )


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="pairs (a, b) to run")
    parser.add_argument("--start", default="2005-01-03", help="the timed backfill's start")
    parser.add_argument("--duckdb", action="store_true", help="also the DuckDB file, once")
    parser.add_argument("--reader", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader:
        return read_forever(args.reader)
    from trading_assets.store import postgres

    template = f"{PREFIX}template_{uuid.uuid4().hex[:6]}"
    walls: dict[str, list[float]] = {"a": [], "b": []}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        admin(f'CREATE DATABASE "{template}"')
        try:
            eve = _eve(args.start)
            print(f"template: backfill --config demo --end {eve} ... ", end="", flush=True)
            wall, _ = backfill(tmp, url_of(template), "--end", eve)
            postgres.release(url_of(template))
            print(f"{wall:.1f} s")
            command = "trading-assets backfill --config demo --store postgresql://..."
            print(f"timed: `{command} --start {args.start}` (SQLite instance, a fresh")
            print("database from the template each time; CPU: the backfill's processes)")
            for i in range(args.repeat):
                for case in ("a", "b"):
                    wall = one_run(tmp, f"{i + 1}{case}", template, args.start, case == "b")
                    walls[case].append(wall)
        finally:
            admin(f'DROP DATABASE "{template}" WITH (FORCE)')
        a, b = statistics.median(walls["a"]), statistics.median(walls["b"])
        delay = 100 * (b - a) / a
        print(f"median alone {a:.1f} s, with the reader {b:.1f} s: delay {delay:+.1f} %")
        if args.duckdb:
            duckdb_contrast(tmp, args.start)
    print(uptime())


def one_run(tmp: Path, label: str, template: str, start: str, with_reader: bool) -> float:
    """One timed backfill into a fresh copy of the template, with or without the reader;
    prints its line and returns its wall time."""
    from trading_assets.store import postgres

    name = f"{PREFIX}{uuid.uuid4().hex[:8]}"
    admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    url = url_of(name)
    try:
        held: list[float] = []
        with ProcessWatch() as watch:
            reader = Reader(url) if with_reader else None
            sampler = _Sampler(held) if reader else None
            wall, last = backfill(tmp, url, "--start", start, timeout=READER_TIMEOUT_S * 5)
            if sampler:
                sampler.stop()
            stats = reader.stop() if reader else None
        mine = reader.proc.pid if reader else None
        cpu = sum(v for pid, v in watch.cpu.items() if pid != mine)
        kind = "with reader" if reader else "alone      "
        line = f"{label} {kind} {wall:7.1f} s, CPU {cpu:5.1f} s ({uptime()})"
        if stats:
            line += (
                f"\n     reader: {stats['rounds']} query rounds (CPU "
                f"{watch.cpu.get(mine, 0.0):.1f} s), slowest {stats['slowest_s'] * 1000:.0f} ms; "
                f"saw {stats['rows_seen']:,} model_days in its transaction, {stats['after']:,} "
                f"after it; its session idle in transaction for up to {max(held, default=0):.0f} s"
            )
        print(f"{line}\n     backfill: {last}", flush=True)
        return wall
    finally:
        postgres.release(url)
        admin(f'DROP DATABASE "{name}" WITH (FORCE)')


def duckdb_contrast(tmp: Path, start: str) -> None:
    store = str(tmp / "contrast.duckdb")
    wall, _ = backfill(tmp, store, "--end", _eve(start))
    print(f"DuckDB file: template backfill {wall:.1f} s; now a reader holds it open read-only")
    reader = Reader(store)
    try:
        wall, last = backfill(tmp, store, "--start", start, timeout=READER_TIMEOUT_S)
    finally:
        stats = reader.stop()
    if wall == float("inf"):
        print(f"DuckDB file with reader: not done after {READER_TIMEOUT_S:.0f} s, stopped")
    else:
        print(f"DuckDB file with reader: {wall:.1f} s")
    print(f"     backfill's last line: {last}\n     reader: {stats['rounds']} query rounds")
    print(f"     ({uptime()})")


def _eve(start: str) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(start) - dt.timedelta(days=1)).isoformat()


class _Sampler:
    """Samples pg_stat_activity every second: how long the reader's transaction is open."""

    def __init__(self, out: list) -> None:
        import threading

        self._out, self._stop = out, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            self._out.extend(float(age) for _, age in reader_sessions())

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


if __name__ == "__main__":
    main()
