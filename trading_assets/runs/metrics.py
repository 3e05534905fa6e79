"""Every model's metrics against its benchmark, from the store: what the `metrics` and
`leaderboard` assets, the `metrics` CLI command and the notebook show.

- Returns: `model_days.daily_return` of the days that count (store/results.py:
  counted_day).
- Benchmark: an equal-weight buy-and-hold of the model's universe over the model's
  dates, bought at the model's first open with the same capital
  (`analytics/benchmark.py`), on total-return prices built from the stored raw
  closes and the corporate actions stored with them (`store/market.py`, the splits
  and dividends the simulation applies). A source without actions (the
  legacy price files) gives a price-return benchmark, and says so in `benchmark`.
- Formulas: `analytics/metrics.py: performance` (empyrical) and `analytics/activity.py`.
- The model's config: `config_hash` and `params` (the JSON of ModelSpec.flat_params),
  expanded into one column per parameter (`fast`, `slow`, `size`, ...).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd

from trading_assets.analytics.activity import activity
from trading_assets.analytics.benchmark import (
    buy_and_hold_returns,
    total_return_opens,
    total_return_prices,
)
from trading_assets.analytics.metrics import DEFAULT_RISK_FREE, equity, performance
from trading_assets.config import ModelSpec, source_id
from trading_assets.errors import StoreError
from trading_assets.store.leaderboard import leaderboard
from trading_assets.store.metrics import (
    METRICS_COLUMNS,
    expand_params,
    stored_days,
    stored_orders,
)
from trading_assets.store.results import ResultStore

TOTAL_RETURN = "equal-weight buy-and-hold of the universe (total return)"
PRICE_RETURN = "equal-weight buy-and-hold of the universe (price return: no corporate actions)"


@dataclass
class MetricsReport:
    frame: pd.DataFrame  # one row per model (store/metrics.py: METRICS_COLUMNS)
    values: dict[str, pd.Series] = field(default_factory=dict)  # model -> value by date
    benchmarks: dict[str, pd.Series] = field(default_factory=dict)  # same starting capital
    initial_cash: dict[str, float] = field(default_factory=dict)  # model -> its capital


def compute_metrics(
    store: ResultStore,
    risk_free: float = DEFAULT_RISK_FREE,
    models: Sequence[str] | None = None,
) -> MetricsReport:
    """Metrics of `models` (default: every model with a stored day), in model order."""
    specs = {s.signature: s for s in store.model_specs()}
    unknown = sorted(set(models or ()) - set(specs))
    if unknown:
        raise StoreError(
            f"unknown model {', '.join(unknown)}",
            where=str(store.path),
            fix=f"pick one of: {', '.join(specs) or '(none registered)'}",
        )
    wanted = list(models) if models else None
    days, orders = stored_days(store, wanted), stored_orders(store, wanted)
    report, prices = MetricsReport(pd.DataFrame(columns=list(METRICS_COLUMNS))), {}
    rows = []
    for model, group in days.groupby("model", sort=True):
        spec = specs[model]
        mine = group.set_index(pd.DatetimeIndex(group["date"]))
        closes, opens, label = _total_return_prices(store, spec, prices)
        bench = buy_and_hold_returns(closes, spec.universe, dates=mine.index, opens=opens)
        figures = performance(mine["daily_return"], bench if len(mine) > 1 else None, risk_free)
        trading = activity(group, orders[orders["model"] == model])
        rows.append(
            {
                "model": model,
                "first_date": mine.index[0].date(),
                "last_date": mine.index[-1].date(),
                **figures.model_dump(),
                "benchmark": label,
                **trading.model_dump(),
                "config_hash": spec.config_hash,
                "params": json.dumps(spec.flat_params),
            }
        )
        report.values[model] = mine["portfolio_value"].rename(model)
        report.benchmarks[model] = equity(bench, spec.initial_cash).rename("benchmark")
        report.initial_cash[model] = spec.initial_cash
    if rows:
        report.frame = expand_params(pd.DataFrame(rows).reindex(columns=list(METRICS_COLUMNS)))
    return report


def ranked_leaderboard(store: ResultStore, metrics: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard ranked by excess return over each model's benchmark (best first),
    with `beats_benchmark` saying whether the model ended above it. `metrics`: the
    metrics table's rows (stored, or `compute_metrics(...).frame`)."""
    board = leaderboard(store, metrics)
    board.insert(1, "beats_benchmark", board["excess_return"].astype(float) > 0)
    return board.sort_values(
        ["excess_return", "total_return"], ascending=False, na_position="last", ignore_index=True
    )


def _total_return_prices(
    store: ResultStore,
    spec: ModelSpec,
    cache: dict[str, tuple[pd.DataFrame, pd.DataFrame, str]],
) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """The source's total-return closes and opens (read once per source) and the
    benchmark's label."""
    key = source_id(spec.market_data)
    if key not in cache:
        history = store.load_prices(key)  # with the corporate actions stored beside the bars
        label = TOTAL_RETURN if history.actions is not None else PRICE_RETURN
        cache[key] = (total_return_prices(history), total_return_opens(history), label)
    return cache[key]
