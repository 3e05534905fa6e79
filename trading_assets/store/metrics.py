"""What the metrics read from the store, and the `metrics` table they fill (SQL only here).

The figures themselves come from `analytics/` (runs/metrics.py puts the two together).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from trading_assets.store.analytics import EXPOSURE_SQL
from trading_assets.store.results import ResultStore

METRICS_COLUMNS = (
    "model", "first_date", "last_date", "days", "risk_free_rate", "cumulative_return",
    "annual_return", "annual_volatility", "sharpe", "sortino", "max_drawdown",
    "max_drawdown_peak", "max_drawdown_trough", "calmar", "win_rate", "profit_loss_ratio",
    "benchmark", "benchmark_return", "excess_return", "alpha", "beta", "traded_value",
    "turnover", "fees_paid", "exposure", "filled_orders",
)  # fmt: skip


def stored_days(store: ResultStore, models: Sequence[str] | None = None) -> pd.DataFrame:
    """Every stored, not failed, model-day of `models` (default: all): date, value, daily
    return and exposure, in (model, date) order."""
    return store.query(
        f"SELECT d.model, d.date, d.portfolio_value, d.daily_return, {EXPOSURE_SQL} AS exposure "
        "FROM model_days d WHERE d.status <> 'failed' AND (? IS NULL OR list_contains(?, d.model)) "
        "ORDER BY d.model, d.date",
        [models, models],
    )


def stored_orders(store: ResultStore, models: Sequence[str] | None = None) -> pd.DataFrame:
    """Every order of `models`' stored, not failed, days."""
    return store.query(
        "SELECT o.model, o.status, o.quantity, o.price, o.commission FROM orders o "
        "JOIN model_days d USING (model, date) WHERE d.status <> 'failed' "
        "AND (? IS NULL OR list_contains(?, o.model)) ORDER BY o.model, o.date, o.seq",
        [models, models],
    )


def replace_metrics(store: ResultStore, frame: pd.DataFrame) -> int:
    """Replace the metrics table's rows by `frame` (one row per model); return the rows."""
    incoming = frame.reindex(columns=list(METRICS_COLUMNS))
    with store.connect() as con:
        con.execute("BEGIN")
        con.execute("DELETE FROM metrics")
        con.register("incoming", incoming)
        con.execute(f"INSERT INTO metrics SELECT {', '.join(METRICS_COLUMNS)} FROM incoming")
        con.execute("COMMIT")
    return len(incoming)


def stored_metrics(store: ResultStore) -> pd.DataFrame:
    return store.query(f"SELECT {', '.join(METRICS_COLUMNS)} FROM metrics ORDER BY model")
