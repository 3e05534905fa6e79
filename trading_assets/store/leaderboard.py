"""The leaderboard and per-model results, from the v1alpha1 tables and `metrics`.

Every per-model figure of the leaderboard (return, annualized return, drawdown, Sharpe,
days, dates, the benchmark's figures, the parameters) is the `metrics` row's, read as
is: the leaderboard never computes one again. Only what `metrics` does not hold is read
here: the agent, the last counted day's value and the degraded and failed day counts.
"""

from __future__ import annotations

import pandas as pd

from trading_assets.store.results import ResultStore, counted_day
from trading_assets.vocab import DayStatus

LEADERBOARD_COLUMNS = [
    "model",
    "agent",
    "final_value",
    "total_return",
    "annualized_return",
    "max_drawdown",
    "sharpe",
    "trading_days",
    "first_date",
    "last_date",
    "degraded_days",
    "failed_days",
]
# leaderboard column <- metrics column (the same figure under its leaderboard name)
FROM_METRICS = {
    "total_return": "cumulative_return",
    "annualized_return": "annual_return",
    "max_drawdown": "max_drawdown",
    "sharpe": "sharpe",
    "trading_days": "days",
    "first_date": "first_date",
    "last_date": "last_date",
}


def leaderboard(store: ResultStore, metrics: pd.DataFrame) -> pd.DataFrame:
    """One row per model with a `metrics` row, best total return first: LEADERBOARD_COLUMNS,
    then every other column of `metrics` (the benchmark's figures, config_hash and the
    flattened parameters). `metrics`: the metrics table's rows (store/metrics.py:
    stored_metrics, or runs/metrics.py: compute_metrics(...).frame)."""
    days = store.query(
        "SELECT m.signature AS model, m.agent, "
        f"arg_max(d.portfolio_value, d.date) FILTER (WHERE {counted_day('d')}) AS final_value, "
        "count(*) FILTER (WHERE d.status = ?) AS degraded_days, "
        "count(*) FILTER (WHERE d.status = ?) AS failed_days "
        "FROM models m JOIN model_days d ON d.model = m.signature GROUP BY ALL",
        [str(DayStatus.DEGRADED_SUCCESS), str(DayStatus.FAILED)],
    )
    figures = metrics.rename(columns={v: k for k, v in FROM_METRICS.items()})
    frame = days.merge(figures, on="model", how="inner")
    for column in ("first_date", "last_date"):
        frame[column] = [_iso(v) for v in frame[column]]
    rest = [c for c in frame.columns if c not in LEADERBOARD_COLUMNS]
    frame = frame.reindex(columns=[*LEADERBOARD_COLUMNS, *rest])
    return frame.sort_values("total_return", ascending=False, ignore_index=True)


def model_results(store: ResultStore, model: str, start=None, end=None) -> pd.DataFrame:
    store.model_spec(model)  # a clear error for an unknown model
    return store.query(
        "SELECT date, status, cash, portfolio_value, daily_return, cumulative_return, n_orders, "
        "n_filled, n_rejected, degraded, reason_codes, data_quality_state, error_message "
        "FROM model_days WHERE model = ? AND (? IS NULL OR date >= ?) AND (? IS NULL OR date <= ?) "
        "ORDER BY date",
        [model, start, start, end, end],
    )


def _iso(value) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date().isoformat()
