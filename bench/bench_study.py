"""1,000 sma_crossover variants on AAPL, IBM and MSFT over the bundled history: a study
end to end (every trial simulated and stored) beside vectorbt's time for the same grid.

Ours: `trading-assets study run` on a fresh embedded instance and store (load the
prices, run the study asset in-process: every sma_crossover trial through the fast path
of engine/vectorized.py, equal to the per-day engine float for float, every trial's
figures and daily returns stored, DSR, PBO), timed from the command's start to its exit
(Python and Dagster start-up included). Before it, one untimed `--small`-sized run fills
numba's on-disk cache of the fast path's kernel (its JIT, like vectorbt's, is excluded;
a first run ever compiles it once, a few seconds). vectorbt: the same 1,000 variants
as one `Portfolio.from_signals` over 3,000 columns grouped by variant (cash shared in a
group), after one untimed run that compiles numba; raw prices (`corporate_actions:
ignore` on our side, as vectorbt trades them). Prints both times, peak RSS, how many
final values are equal and, for the others, whether vectorbt agrees once fed the engine's
own crossovers (exact means) instead of plain float means; asserts nothing.

    python bench/bench_study.py              # 1,000 variants: fast 2..41 x slow 50..290/10
    python bench/bench_study.py --small      # 40 variants, a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for trading_assets_tests

REPO = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).parent / "trading-assets"
CASH, SIZE = 100_000.0, 100
UNIVERSE = ("AAPL", "IBM", "MSFT")


def grid(small: bool) -> tuple[list[int], list[int]]:
    return (
        (list(range(2, 6)), list(range(50, 150, 10)))
        if small
        else (
            list(range(2, 42)),
            list(range(50, 300, 10)),
        )
    )


def config(fast: list[int], slow: list[int]) -> str:
    return (
        f"initial_cash: {CASH:.0f}\nuniverse: [{', '.join(UNIVERSE)}]\n"
        "market_data: {source: bundled}\ncorporate_actions: ignore\nstudies:\n"
        "  - name: bench\n    agent: sma_crossover\n"
        f"    params: {{fast: {fast}, slow: {slow}, size: {SIZE}}}\n"
    )


def ours(fast: list[int], slow: list[int]) -> tuple[float, dict[str, float], float]:
    """Seconds, final value per trial, and the command's peak RSS in MiB."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-study-"))
    home = tmp / "home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    (tmp / "grid.yaml").write_text(config(fast, slow))
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    store = tmp / "store.duckdb"
    command = [str(CLI), "study", "run", "--config", str(tmp / "grid.yaml"), "--store", str(store)]
    started = time.perf_counter()
    run = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    peak = _peak_rss(run)
    _, err = run.communicate()
    seconds = time.perf_counter() - started
    if run.returncode:
        sys.exit(err.decode())
    shown = subprocess.run(
        [str(CLI), "study", "show", "bench", "--format", "json", "--store", str(store)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    finals = {t["trial"]: t["final_value"] for t in json.loads(shown.stdout)["trials"]}
    shutil.rmtree(tmp)
    return seconds, finals, peak


def _peak_rss(process: subprocess.Popen) -> float:
    """The largest resident set of `process` and its children while it runs (MiB)."""
    import psutil

    peak = 0
    proc = psutil.Process(process.pid)
    while process.poll() is None:
        try:
            rss = proc.memory_info().rss + sum(
                c.memory_info().rss for c in proc.children(recursive=True)
            )
        except psutil.Error:
            break
        peak = max(peak, rss)
        time.sleep(0.05)
    return peak / 2**20


def vectorbt_grid(fast: list[int], slow: list[int]) -> tuple[float, dict[str, float]]:
    import vectorbt as vbt

    from trading_assets.market.sources import BundledSource
    from trading_assets_tests.peers import vectorbt_signals

    history = BundledSource().load()
    pairs = [(f, s) for f in fast for s in slow]

    def run() -> pd.Series:
        parts = [vectorbt_signals(history, UNIVERSE, f, s) for f, s in pairs]
        cols = pd.MultiIndex.from_tuples(
            [(i, sym) for i in range(len(pairs)) for sym in UNIVERSE], names=["variant", "symbol"]
        )

        def wide(name: str) -> pd.DataFrame:
            return pd.DataFrame(
                np.hstack([getattr(p, name).to_numpy() for p in parts]),
                index=parts[0].close.index,
                columns=cols,
            )

        pf = vbt.Portfolio.from_signals(
            close=wide("close"),
            entries=wide("entries"),
            exits=wide("exits"),
            price=wide("open"),
            size=float(SIZE),
            size_type="amount",
            direction="longonly",
            accumulate=False,
            init_cash=CASH,
            cash_sharing=True,
            group_by="variant",
            fees=0.0,
            slippage=0.0,
            allow_partial=False,
            freq="1D",
        )
        return pf.value().iloc[-1]

    run()  # numba compiles (or loads its cache): excluded
    started = time.perf_counter()
    last = run()
    seconds = time.perf_counter() - started
    return seconds, {f"bench-fast{f}-slow{s}": float(last[i]) for i, (f, s) in enumerate(pairs)}


def vectorbt_on_engine_signals(trials: list[str]) -> dict[str, float]:
    """vectorbt's final values for `trials` when fed the engine's own crossovers
    (market/view.py: exact `math.fsum` means, a tie carries the difference before it)
    instead of the plain float means above: where the two differ, is it only the
    signals? Untimed."""
    from trading_assets.market.sources import BundledSource
    from trading_assets.market.view import crossovers
    from trading_assets_tests.peers import VectorbtInputs, vectorbt_portfolio

    history = BundledSource().load()
    prices = vectorbt_signals_of(history)
    cols = [history.symbol_index(s) for s in UNIVERSE]
    out = {}
    for name in trials:
        fast, slow = (int(part[4:]) for part in name.split("-")[1:3])  # bench-fastF-slowS
        cross = crossovers(history, fast, slow)[:, cols]
        entries, exits = np.zeros(cross.shape, bool), np.zeros(cross.shape, bool)
        with np.errstate(invalid="ignore"):  # the cross at D-1's close trades at D's open
            entries[1:], exits[1:] = cross[:-1] > 0, cross[:-1] < 0
        frame = lambda a: pd.DataFrame(a, index=prices.close.index, columns=list(UNIVERSE))  # noqa: E731
        inputs = VectorbtInputs(prices.close, prices.open, frame(entries), frame(exits))
        out[name] = float(vectorbt_portfolio(inputs, SIZE, CASH).value().iloc[-1])
    return out


def vectorbt_signals_of(history):
    from trading_assets_tests.peers import vectorbt_signals

    return vectorbt_signals(history, UNIVERSE, 2, 50)  # its close and open frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", action="store_true")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    fast, slow = grid(args.small)
    n = len(fast) * len(slow)
    print(f"{n} sma_crossover variants (fast {fast[0]}..{fast[-1]}, slow {slow[0]}..{slow[-1]}),")
    print(f"size {SIZE}, {', '.join(UNIVERSE)}, bundled history 2000-03-01..2013-03-01")
    ours(*grid(small=True))  # untimed: fills numba's cache of the fast path's kernel
    t_ours, ours_final, child = ours(fast, slow)
    child = max(child, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    t_vbt, vbt_final = vectorbt_grid(fast, slow)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    differ = [k for k, v in vbt_final.items() if not abs(ours_final.get(k, np.nan) - v) < 0.005]
    equal = n - len(differ)
    again = vectorbt_on_engine_signals(differ)
    same_now = sum(1 for k, v in again.items() if abs(ours_final[k] - v) < 0.005)
    print(f"  ours: study run end to end, every trial stored   {t_ours:8.2f} s")
    print(f"  vectorbt: one from_signals over the grid (warm)   {t_vbt:8.2f} s")
    print(f"  ours / vectorbt                                   {t_ours / t_vbt:8.1f}x (goal: 3x)")
    print(f"  peak RSS: study command {child:.0f} MiB, this process (vectorbt) {own:.0f} MiB")
    print(f"  final values equal to the cent: {equal} of {n}")
    if differ:
        print(
            f"  the {len(differ)} others, vectorbt fed the engine's own crossovers instead: "
            f"{same_now} of {len(differ)} equal to the cent ({', '.join(differ)})"
        )
    print(f"  uptime: {subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()}")


if __name__ == "__main__":
    main()
