"""The leaderboard and per-model results, computed from the v1alpha1 tables."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd

from trading_assets.analytics.metrics import performance
from trading_assets.store.results import ResultStore

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


def leaderboard(store: ResultStore) -> pd.DataFrame:
    """One row per model, best total return first; only completed (or degraded) days count."""
    days = store.query(
        "SELECT d.model, d.date, d.status, d.portfolio_value, d.daily_return, m.agent, m.spec "
        "FROM model_days d JOIN models m ON m.signature = d.model ORDER BY d.model, d.date"
    )
    rows = []
    for model, group in days.groupby("model", sort=True):
        ok = group[group["status"] != "failed"]
        if ok.empty:
            continue
        initial = json.loads(group["spec"].iloc[0])["initial_cash"]
        values = ok["portfolio_value"].to_numpy(dtype=float)
        total = values[-1] / initial - 1.0
        first, last = ok["date"].iloc[0], ok["date"].iloc[-1]
        figures = performance(ok.set_index("date")["daily_return"])
        rows.append(
            {
                "model": model,
                "agent": group["agent"].iloc[0],
                "final_value": float(values[-1]),
                "total_return": float(total),
                "annualized_return": figures.annual_return,
                "max_drawdown": figures.max_drawdown,
                "sharpe": figures.sharpe,
                "trading_days": len(ok),
                "first_date": _iso(first),
                "last_date": _iso(last),
                "degraded_days": int((group["status"] == "degraded_success").sum()),
                "failed_days": int((group["status"] == "failed").sum()),
            }
        )
    frame = pd.DataFrame(rows, columns=LEADERBOARD_COLUMNS)
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


def _day(value) -> dt.date:
    return pd.Timestamp(value).date()


def _iso(value) -> str:
    return _day(value).isoformat()
