"""Engine throughput against backtrader and vectorbt on one backtest.

The backtest: sma_crossover(fast=10, slow=50, size=100) over the bundled history
(AAPL, GOOG, IBM, MSFT, 2000-03-01..2013-03-01, 3,270 days), $1,000,000 of cash.
Prints, no asserts:
- ours: model-days/s of `simulate` (select + agent + walk, as `run_model` does, so the
  per-history indicator cache is rebuilt each time), without and with building the store
  rows (`day_rows`), and the cost per model-day of `ResultStore.write_results` on a
  temporary DuckDB file (already migrated; idempotent rewrite of the same range);
- backtrader: the same backtest (cerebro build + run);
- vectorbt: signals + from_signals + final value, after one untimed run that compiles
  the numba kernels (JIT compile time excluded);
- the three final values, the speed ratios, and the process's peak RSS.

Run: .venv/bin/python bench/bench_engine.py
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for trading_assets_tests

from trading_assets.market.sources import BUNDLED_SYMBOLS, BundledSource
from trading_assets.store.results import ResultStore
from trading_assets.store.rows import day_rows
from trading_assets_tests.peers import (
    ours_days,
    run_backtrader,
    vectorbt_portfolio,
    vectorbt_signals,
)

FAST, SLOW, SIZE, CASH = 10, 50, 100, 1_000_000.0
UNIVERSE = BUNDLED_SYMBOLS
REPEAT = {"ours": 7, "store": 5, "backtrader": 3, "vectorbt": 7}
T = TypeVar("T")


def best_of(n: int, fn: Callable[[], T]) -> tuple[float, T]:
    """Fastest of n runs (s) and the last run's result."""
    best, out = float("inf"), None
    for _ in range(n):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out  # type: ignore[return-value]


def main() -> None:
    warnings.filterwarnings("ignore")  # vectorbt/numba deprecation chatter
    history = BundledSource().load()
    n_days = len(history.dates)
    started = dt.datetime(2026, 1, 1)

    def ours() -> list:
        return ours_days(history, UNIVERSE, FAST, SLOW, SIZE, CASH)

    def ours_rows() -> dict[str, list[dict]]:
        return day_rows(
            "bench", ours(), initial_cash=CASH, run_id=None, config_hash="x", started_at=started
        )

    t_ours, days = best_of(REPEAT["ours"], ours)
    t_rows, tables = best_of(REPEAT["ours"], ours_rows)
    n_rows = sum(len(rows) for rows in tables.values())

    with tempfile.TemporaryDirectory() as tmp:
        store = ResultStore(Path(tmp) / "bench.duckdb")
        dates = [d.date for d in days]
        store.write_results("bench", dates, tables)  # creates and migrates the file
        t_store, _ = best_of(REPEAT["store"], lambda: store.write_results("bench", dates, tables))

    t_bt, bt_result = best_of(
        REPEAT["backtrader"],
        lambda: run_backtrader(history, UNIVERSE, FAST, SLOW, SIZE, CASH),
    )

    def vbt_run() -> float:
        inputs = vectorbt_signals(history, UNIVERSE, FAST, SLOW)
        return float(vectorbt_portfolio(inputs, SIZE, CASH).value().iloc[-1])

    compile_start = time.perf_counter()
    vbt_run()
    t_compile = time.perf_counter() - compile_start
    t_vbt, vbt_value = best_of(REPEAT["vectorbt"], vbt_run)

    rate = lambda seconds: n_days / seconds  # noqa: E731
    print(
        f"sma_crossover({FAST}, {SLOW}, {SIZE}), {len(UNIVERSE)} symbols, {n_days:,} days, "
        f"best of N (time = one full backtest)"
    )
    print(f"  {'engine':<50} {'N':>2} {'time':>10} {'model-days/s':>14}")
    for name, n, seconds in (
        ("ours: simulate", REPEAT["ours"], t_ours),
        ("ours: simulate + day_rows", REPEAT["ours"], t_rows),
        ("backtrader: cerebro build + run", REPEAT["backtrader"], t_bt),
        ("vectorbt: signals + portfolio + value (JIT warm)", REPEAT["vectorbt"], t_vbt),
    ):
        print(f"  {name:<50} {n:>2} {seconds * 1e3:>8.1f} ms {rate(seconds):>14,.0f}")
    print(f"  vectorbt first run incl. numba JIT/cache load: {t_compile:.2f} s (excluded above)")
    print(
        f"  ResultStore.write_results (DuckDB, {n_rows:,} rows over 4 tables): "
        f"{t_store * 1e3:.1f} ms per backtest = {t_store / n_days * 1e6:.1f} µs per model-day "
        f"({rate(t_store):,.0f} model-days/s)"
    )
    print(
        f"  end to end, ours (simulate + rows + write): {rate(t_rows + t_store):,.0f} model-days/s"
    )
    print("final portfolio value")
    print(f"  ours        {days[-1].value:,.2f}")
    print(f"  backtrader  {bt_result.final_value:,.2f}")
    print(f"  vectorbt    {vbt_value:,.2f}")
    agree = days[-1].value == bt_result.final_value == vbt_value
    print(f"  all three equal: {agree}")
    print("ratios (higher = ours faster)")
    print(f"  backtrader / ours: {t_bt / t_ours:6.1f}x   (target >= 10x)")
    print(f"  vectorbt / ours:   {t_vbt / t_ours:6.2f}x   (target >= 0.33x, within 3x)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak RSS of this process: {peak:,.0f} MiB")


if __name__ == "__main__":
    main()
