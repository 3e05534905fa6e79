"""Small folder-sourced models for store tests: CSV files cut from the bundled bars
(AAPL and IBM, Jan-Feb 2012), buy-and-hold specs on them, and the market_prices asset
materialized through Dagster to store their bars."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import dagster as dg

from trading_assets.config import MarketDataConfig, ModelSpec
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.resources.store import StoreResource
from trading_assets.market.sources import BundledSource
from trading_assets.runs.model_day import run_range
from trading_assets.runs.registration import register_validated
from trading_assets.store.results import ResultStore

TABLES = ("model_days", "orders", "holdings", "signals")
FIRST, LAST = dt.date(2012, 1, 3), dt.date(2012, 2, 29)


@functools.cache
def bars():
    frame = BundledSource().load().to_frame()
    dates = frame["date"].dt.date if hasattr(frame["date"], "dt") else frame["date"]
    return frame[(dates >= FIRST) & (dates <= LAST) & frame["symbol"].isin(["AAPL", "IBM"])]


def folder(tmp_path: Path, name: str) -> Path:
    """A folder source: one SYMBOL.csv per symbol, as a user would drop them."""
    path = tmp_path / name
    path.mkdir()
    for symbol, group in bars().groupby("symbol"):
        group.drop(columns="symbol").to_csv(path / f"{symbol}.csv", index=False)
    return path


def spec(signature: str, path: Path, universe=("AAPL", "IBM"), cash=10_000.0) -> ModelSpec:
    return ModelSpec(
        signature=signature,
        agent="buy_and_hold",
        params={},
        universe=universe,
        initial_cash=cash,
        market_data=MarketDataConfig(source="folder", path=str(path)),
        fees={},
        corporate_actions="apply",
    )


def load_prices(store: ResultStore) -> dg.MaterializeResult:
    result = dg.materialize(
        [market_prices], resources={"store": StoreResource(path=str(store.path))}
    )
    assert result.success  # a source that no longer loads never fails the others' prices
    [event] = result.asset_materializations_for_node("market_prices")
    return event.metadata


def days(n: int) -> list[dt.date]:
    from trading_assets.market.calendar import trading_days

    return trading_days(FIRST, LAST)[:n]


def stored_model(tmp_path: Path, n_days: int = 5) -> ResultStore:
    """A DuckDB store with model `a` (buy and hold on a folder source) and its first
    `n_days` days stored."""
    store = ResultStore(tmp_path / "s.duckdb")
    register_validated(store, [spec("a", folder(tmp_path, "p"))])
    load_prices(store)
    run_range(store, {"a": days(n_days)})
    return store
