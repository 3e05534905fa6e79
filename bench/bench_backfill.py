"""End-to-end wall time of a 6-model full-history backfill through Dagster.

Runs the real `trading-assets backfill` (CLI -> market_prices -> one range run per
model, in worker processes; with --daemon: asset backfill -> daemon -> one run per
model) on a fresh instance and store, and prints: total wall time, when every model-day
was stored, peak memory of the CLI and of its children (workers, daemon, runs), and, for
contrast, one run per partition: the measured cost of a 1-partition run times 19,620.

    python bench/bench_backfill.py                    # PostgreSQL instance (production)
    python bench/bench_backfill.py --instance sqlite  # the embedded default
    python bench/bench_backfill.py --daemon           # through the daemon (the UI's path)

PostgreSQL: a throwaway database on TA_BENCH_PG (default postgresql://postgres@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
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
EXTRA: list[str] = []  # --daemon, from the command line
SIX_MODELS = """
initial_cash: 100000
universe: [AAPL, GOOG, IBM, MSFT]
market_data: {source: bundled}
models:
  - {signature: buy-and-hold, agent: buy_and_hold}
  - {signature: sma-10-50, agent: sma_crossover, params: {fast: 10, slow: 50, size: 100}}
  - {signature: sma-20-100, agent: sma_crossover, params: {fast: 20, slow: 100, size: 50}}
  - {signature: bollinger-20, agent: bollinger, params: {window: 20, k: 2.0, size: 100}}
  - {signature: bollinger-50, agent: bollinger, params: {window: 50, k: 1.5, size: 50}}
  - signature: quant-llm
    agent: quant_llm
    params: {quant: {agent: sma_crossover, params: {fast: 5, slow: 20, size: 100}}}
"""


def fresh_home(tmp: Path, kind: str) -> tuple[Path, dict[str, str], callable]:
    home = tmp / f"home-{uuid.uuid4().hex[:6]}"
    home.mkdir()
    if kind == "sqlite":
        shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
        return home, {}, lambda: None
    import psycopg2

    admin_url = os.environ.get("TA_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
    name = f"ta_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(admin_url)
    admin.autocommit = True
    admin.cursor().execute(f'CREATE DATABASE "{name}"')
    shutil.copyfile(REPO / "deploy" / "dagster.postgres.yaml", home / "dagster.yaml")

    def drop() -> None:
        admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()

    return home, {"TRADING_ASSETS_PG_URL": admin_url.rsplit("/", 1)[0] + "/" + name}, drop


def backfill(tmp: Path, kind: str, config: Path, *args: str) -> tuple[float, str, float]:
    args = (*args, *EXTRA)
    home, env, cleanup = fresh_home(tmp, kind)
    store = home / "store.duckdb"
    try:
        with ProcessWatch() as watch:
            start = time.perf_counter()
            done = subprocess.run(
                [str(CLI), "backfill", "--config", str(config), "--store", str(store), *args],
                env={**os.environ, "DAGSTER_HOME": str(home), **env},
                capture_output=True,
                text=True,
                check=False,
            )
            elapsed = time.perf_counter() - start
    finally:
        cleanup()
    if done.returncode != 0:
        sys.exit(f"backfill failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed, done.stdout, sum(watch.cpu.values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--instance", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument("--daemon", action="store_true", help="backfill through the daemon")
    args = parser.parse_args()
    kind = args.instance
    EXTRA.extend(["--daemon"] if args.daemon else [])
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        config = tmp / "six.yaml"
        config.write_text(SIX_MODELS)
        total, out, cpu = backfill(tmp, kind, config)
        stored = re.search(r"last run ended after ([\d.]+) s", out)
        days = re.search(r": (\d+) model-days in", out)
        one_total, _, _ = backfill(
            tmp, kind, config, "--start", "2010-03-01", "--end", "2010-03-01"
        )
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"6-model full-history backfill through Dagster ({kind} instance, {os.cpu_count()} cores)"
    )
    print(f"  model-days (trading days x models)   {days.group(1) if days else '?'}")
    print(f"  wall time, CLI start to backfill done {total:8.1f} s")
    stored_s = float(stored.group(1)) if stored else float("nan")
    print(
        f"  wall time, CLI start to last run end   {stored_s:8.1f} s  (all partitions materialized)"
    )
    print(f"  CPU seconds of the command's processes {cpu:7.1f} s  (not PostgreSQL's server)")
    print(f"  load average (1 min) at the end       {os.getloadavg()[0]:8.1f}")
    print(f"  peak RSS of one child process         {children:8.0f} MiB (CLI, worker, daemon, run)")
    print(f"  one 1-day backfill (6 runs, 6 days)   {one_total:8.1f} s")
    if not args.daemon:  # runs the CLI executes itself: no per-run worker start to extrapolate
        return
    per_run = one_total / 6
    print(
        f"  => one run per partition, 19,620 runs at {per_run:.1f} s each over 4 slots: "
        f"~{19_620 * per_run / 4 / 3600:.1f} h (the single-run policy makes it 6 runs)"
    )


if __name__ == "__main__":
    main()
