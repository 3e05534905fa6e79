"""Market data in the store: a source's bars (`prices`), its corporate actions
(`corporate_actions`) and whether it has any (`price_sources`), written and read together.

A source that cannot know corporate actions (the legacy Alpha Vantage files) is stored
with `has_corporate_actions = false` and loads with `PriceHistory.actions = None`; a
source stored before the store kept actions has NULL there (unknown). Listings (first
and last bar per symbol) are the `listings` view over `prices`.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from trading_assets.errors import StoreError
from trading_assets.market.actions import CorporateAction, CorporateActions
from trading_assets.market.history import PriceHistory

ACTION_COLUMNS = ["symbol", "ex_date", "split_ratio", "dividend"]


def write_market(con: duckdb.DuckDBPyConnection, source: str, history: PriceHistory) -> int:
    """Replace a source's bars, corporate actions and source row (the caller owns the
    transaction); return the number of bars."""
    frame = history.to_frame()
    frame.insert(0, "source", source)
    for table in ("prices", "corporate_actions", "price_sources"):
        con.execute(f"DELETE FROM {table} WHERE source = ?", [source])
    con.register("incoming", frame)
    con.execute(
        "INSERT INTO prices SELECT source, date, symbol, open, high, low, close, volume "
        "FROM incoming"
    )
    con.unregister("incoming")
    actions = pd.DataFrame(
        [[a.symbol, a.ex_date, a.split_ratio, a.dividend] for a in history.actions or ()],
        columns=ACTION_COLUMNS,
    )
    if not actions.empty:
        con.register("incoming_actions", actions)
        con.execute(
            "INSERT INTO corporate_actions SELECT ?, symbol, ex_date, split_ratio, dividend "
            "FROM incoming_actions",
            [source],
        )
        con.unregister("incoming_actions")
    con.execute(
        "INSERT INTO price_sources VALUES (?, ?, ?, NULL)",
        [source, history.source, history.actions is not None],
    )
    return len(frame)


def mark_source_failed(con: duckdb.DuckDBPyConnection, source: str, error: str) -> None:
    """Record that a source no longer loads (its stored bars stay); the next successful
    `write_market` clears it."""
    con.execute(
        "INSERT INTO price_sources (source, load_error) VALUES (?, ?) "
        "ON CONFLICT (source) DO UPDATE SET load_error = excluded.load_error",
        [source, error],
    )


def source_load_error(con: duckdb.DuckDBPyConnection, source: str) -> str | None:
    """Why the source did not load when market_prices last tried; None if it loaded."""
    row = con.execute("SELECT load_error FROM price_sources WHERE source = ?", [source]).fetchone()
    return row[0] if row else None


def load_prices(con: duckdb.DuckDBPyConnection, source: str, path: Path | str) -> PriceHistory:
    """A source's bars with its corporate actions (None when it has none, or when they
    were not stored: see `has_corporate_actions`)."""
    frame = con.execute(
        "SELECT date, symbol, open, high, low, close, volume FROM prices "
        "WHERE source = ? ORDER BY date, symbol",
        [source],
    ).df()
    if frame.empty:
        raise StoreError(
            f"no prices stored for market data source {source!r}",
            where=str(path),
            fix="materialize the market_prices asset first (trading-assets backfill does)",
        )
    actions = None
    if has_corporate_actions(con, source):
        rows = con.execute(
            "SELECT symbol, ex_date, split_ratio, dividend FROM corporate_actions "
            "WHERE source = ? ORDER BY ex_date, symbol",
            [source],
        ).fetchall()
        actions = CorporateActions(
            CorporateAction(symbol=s, ex_date=d, split_ratio=r, dividend=v) for s, d, r, v in rows
        )
    return PriceHistory.from_frame(frame, source=source, actions=actions)


def has_corporate_actions(con: duckdb.DuckDBPyConnection, source: str) -> bool | None:
    """True: the source's actions are stored (maybe none); False: the source has none
    (legacy files); None: unknown (stored before the store kept corporate actions)."""
    row = con.execute(
        "SELECT has_corporate_actions FROM price_sources WHERE source = ?", [source]
    ).fetchone()
    return None if row is None else row[0]
