"""What the round trips read from the store: a model's fills and splits (SQL only here)."""

from __future__ import annotations

import pandas as pd

from trading_assets.store.results import ResultStore


def stored_fills(store: ResultStore, model: str) -> pd.DataFrame:
    """The model's filled orders on its stored, not failed, days, in the order they
    filled: date, symbol, side, quantity, price, commission."""
    return store.query(
        "SELECT o.date, o.symbol, o.side, o.quantity, o.price, o.commission FROM orders o "
        "JOIN model_days d USING (model, date) WHERE o.model = ? AND o.status = 'filled' "
        "AND d.status <> 'failed' ORDER BY o.date, o.seq",
        [model],
    )


def stored_splits(store: ResultStore, model: str) -> pd.DataFrame:
    """The splits that changed the model's holdings: date, symbol, split_ratio."""
    return store.query(
        "SELECT date, symbol, split_ratio FROM model_day_actions "
        "WHERE model = ? AND split_ratio <> 1 ORDER BY date, symbol",
        [model],
    )
