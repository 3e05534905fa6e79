"""Merges per second of the merge kernel (both lanes, solo, degraded), and the cost of turning
a result into a store row. Prints figures only.

Run: .venv/bin/python bench/bench_kernel.py
"""

from __future__ import annotations

import datetime as dt
import timeit

from trading_assets.contract.v1alpha1 import decision_row
from trading_assets.kernel.lanes import LaneFailure, LaneSignal
from trading_assets.kernel.merge import merge

N = 300_000
HISTORY = 13_000  # merges in one simulated model history
QUANT = LaneSignal("quant", 1, 0.9)
LLM = LaneSignal("llm", -1, 0.6)
CASES = {
    "both lanes, clean": (QUANT, LLM),
    "quant solo, llm absent by design": (QUANT, None),
    "quant solo, llm failed (degraded)": (QUANT, LaneFailure("llm", "llm_timeout", error="x")),
    "both lanes, llm stale_data (degraded)": (
        QUANT,
        LaneSignal("llm", 1, 0.6, data_quality="stale_data"),
    ),
}


def main() -> None:
    print(f"merge(): best of 5 runs of {N:,} merges each")
    slowest = 0.0
    for name, (quant, llm) in CASES.items():
        best = min(timeit.repeat(lambda q=quant, m=llm: merge(q, m), number=N, repeat=5)) / N
        slowest = max(slowest, best)
        print(f"  {name:<40} {1 / best:>12,.0f} merges/s  ({best * 1e9:,.0f} ns each)")
    print(
        f"  {HISTORY:,} merges (one model history), slowest case: {HISTORY * slowest * 1e3:.1f} ms"
    )
    day = dt.date(2025, 10, 2)
    for name, (quant, llm) in CASES.items():
        result = merge(quant, llm)
        n = N // 3
        best = (
            min(
                timeit.repeat(
                    lambda r=result: decision_row("m", day, "AAPL", r, None), number=n, repeat=3
                )
            )
            / n
        )
        print(f"decision_row(), {name:<40} {1 / best:>10,.0f} rows/s  ({best * 1e9:,.0f} ns each)")


if __name__ == "__main__":
    main()
