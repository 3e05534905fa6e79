"""What the metrics read from the store, and the `metrics` table they fill (SQL only here).

The figures themselves come from `analytics/` (runs/metrics.py puts the two together).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pandas as pd

from trading_assets.store.analytics import EXPOSURE_SQL
from trading_assets.store.results import ResultStore, counted_day

METRICS_COLUMNS = (
    "model", "first_date", "last_date", "days", "risk_free_rate", "cumulative_return",
    "annual_return", "annual_volatility", "sharpe", "sortino", "max_drawdown",
    "max_drawdown_peak", "max_drawdown_trough", "calmar", "win_rate", "profit_loss_ratio",
    "benchmark", "benchmark_return", "excess_return", "alpha", "beta", "traded_value",
    "turnover", "fees_paid", "exposure", "filled_orders", "active_return", "tracking_error",
    "information_ratio", "config_hash", "params",
)  # fmt: skip


def expand_params(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with one column per flattened parameter after its columns, read from its
    `params` column (the JSON of ModelSpec.flat_params): `fast`, `slow`, `size`, ...,
    in order of first appearance; a model without a parameter has it NULL. A name that
    is already a column is prefixed `param.`."""
    if "params" not in frame.columns or frame.empty:
        return frame
    parsed = [json.loads(p) if isinstance(p, str) else {} for p in frame["params"]]
    names = list(dict.fromkeys(k for p in parsed for k in p))
    columns = {
        (f"param.{k}" if k in frame.columns else k): _one_type([p.get(k) for p in parsed])
        for k in names
    }
    return pd.concat([frame, pd.DataFrame(columns, index=frame.index, dtype=object)], axis=1)


def stored_days(store: ResultStore, models: Sequence[str] | None = None) -> pd.DataFrame:
    """Every model-day of `models` (default: all) that counts (COUNTED_DAY): date, value,
    daily return and exposure, in (model, date) order."""
    return store.query(
        f"SELECT d.model, d.date, d.portfolio_value, d.daily_return, {EXPOSURE_SQL} AS exposure "
        f"FROM model_days d WHERE {counted_day('d')} "
        "AND (? IS NULL OR list_contains(?, d.model)) ORDER BY d.model, d.date",
        [models, models],
    )


def stored_orders(store: ResultStore, models: Sequence[str] | None = None) -> pd.DataFrame:
    """Every order of `models`' days that count."""
    return store.query(
        "SELECT o.model, o.status, o.quantity, o.price, o.commission FROM orders o "
        f"JOIN model_days d USING (model, date) WHERE {counted_day('d')} "
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


def _one_type(values: list) -> list:
    """A column's values in one type, so a table holds them (DuckDB refuses a mix):
    ints and floats become floats, any other mix becomes their JSON text."""
    kinds = {type(v) for v in values if v is not None}
    if len(kinds) <= 1:
        return values
    if kinds <= {int, float}:
        return [None if v is None else float(v) for v in values]
    return [None if v is None else json.dumps(v) for v in values]


def param_columns(frame: pd.DataFrame) -> list[str]:
    """The flattened parameter columns `expand_params` added: every column after `params`."""
    columns = list(frame.columns)
    return columns[columns.index("params") + 1 :] if "params" in columns else []


def stored_metrics(store: ResultStore) -> pd.DataFrame:
    """The metrics table, one row per model, with its parameters as columns."""
    return expand_params(
        store.query(f"SELECT {', '.join(METRICS_COLUMNS)} FROM metrics ORDER BY model")
    )
