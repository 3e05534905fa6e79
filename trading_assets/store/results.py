"""The result store: register models, keep prices, read a model's state, write results.

Writes are idempotent per partition: a model's date range is deleted, then inserted,
in one transaction. Every SQL value is a bound parameter.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import duckdb
import pandas as pd

from trading_assets.config import ModelSpec, source_id
from trading_assets.engine.simulate import StartState
from trading_assets.errors import StoreError
from trading_assets.market.calendar import all_trading_days, trading_days
from trading_assets.market.history import PriceHistory
from trading_assets.portfolio.step import PortfolioState
from trading_assets.store.db import StoreWait, connect, store_location
from trading_assets.store.market import load_prices, mark_source_failed, write_market
from trading_assets.vocab import CONTRACT_VERSION, SYSTEM_CLOCK, Clock, DayStatus

RESULT_TABLES = ("model_days", "orders", "holdings", "signals")
# what a run writes per model-day: the result tables and the effects of corporate actions
WRITTEN_TABLES = (*RESULT_TABLES, "model_day_actions")


class ResultStore:
    """The store at `path`: a DuckDB file, or a PostgreSQL database's URL
    (`postgresql://...`). read_only: for commands that only read (works on a read-only
    file); wait: how long opens wait for a busy store and where that is reported."""

    def __init__(self, path: str | Path, *, read_only: bool = False, wait: StoreWait | None = None):
        self.path = store_location(path)
        self.read_only = read_only
        self.wait = wait or StoreWait()

    @property
    def backend(self) -> str:
        """ "postgres" for a PostgreSQL URL, else "duckdb" (a file)."""
        return "postgres" if isinstance(self.path, str) else "duckdb"

    def connect(self):
        return connect(self.path, read_only=self.read_only, wait=self.wait)

    # -- models ---------------------------------------------------------------
    def register_models(self, specs: Iterable[ModelSpec], clock: Clock = SYSTEM_CLOCK) -> None:
        """Add or update models; an unchanged spec is left as it is (idempotent)."""
        now = clock.now()
        with self.connect() as con:
            known = dict(con.execute("SELECT signature, config_hash FROM models").fetchall())
            for spec in specs:
                if known.get(spec.signature) == spec.config_hash:
                    continue
                values = [spec.agent, spec.model_dump_json(), spec.config_hash, now]
                if spec.signature in known:  # a changed spec; `enabled` stays as it was
                    con.execute(
                        "UPDATE models SET agent = ?, spec = ?, config_hash = ?, "
                        "registered_at = ?, contract_version = ? WHERE signature = ?",
                        [*values, CONTRACT_VERSION, spec.signature],
                    )
                else:  # a plain INSERT: `enabled` takes its default on both backends
                    con.execute(
                        "INSERT INTO models (agent, spec, config_hash, registered_at, "
                        "contract_version, signature) VALUES (?, ?, ?, ?, ?, ?)",
                        [*values, CONTRACT_VERSION, spec.signature],
                    )
                known[spec.signature] = spec.config_hash

    def model_spec(self, signature: str) -> ModelSpec:
        with self.connect() as con:
            return read_spec(con, signature, self.path)

    def model_specs(self) -> list[ModelSpec]:
        """Every registered model, in signature order, read in one query."""
        with self.connect() as con:
            rows = con.execute("SELECT spec FROM models ORDER BY signature").fetchall()
        return [ModelSpec.model_validate_json(r[0]) for r in rows]

    def model_signatures(self) -> list[str]:
        with self.connect() as con:
            return [r[0] for r in con.execute("SELECT signature FROM models ORDER BY 1").fetchall()]

    # -- prices ---------------------------------------------------------------
    def write_prices(self, source: str, history: PriceHistory) -> int:
        """Replace a source's bars and corporate actions in one transaction."""
        with self.connect() as con:
            con.execute("BEGIN")
            rows = write_market(con, source, history)
            con.execute("COMMIT")
        return rows

    def mark_source_failed(self, source: str, error: str) -> None:
        """The source did not load: models using it fail their own day with `error`."""
        with self.connect() as con:
            mark_source_failed(con, source, error)

    def load_prices(self, source: str, symbols: Sequence[str] | None = None) -> PriceHistory:
        with self.connect() as con:
            history = load_prices(con, source, self.path)
        return history.select(symbols) if symbols else history

    # -- state ----------------------------------------------------------------
    def start_state(
        self, spec: ModelSpec, date: dt.date, previous_day: dt.date | None
    ) -> StartState:
        """The state a model-day on `date` starts from (see `start_state`)."""
        with self.connect() as con:
            return start_state(con, spec, date, previous_day)

    # -- results --------------------------------------------------------------
    def write_results(
        self,
        model: str,
        dates: Sequence[dt.date],
        tables: dict[str, list[dict]],
        also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
    ) -> None:
        """Replace `model`'s rows on exactly `dates` (the run's partitions) in every result
        table, in one transaction; `also` writes more (e.g. new LLM cache entries) inside the
        same transaction. Dates a run did not reach (after a failed day) lose stale rows."""
        if not dates:
            return
        with self.connect() as con:
            con.execute("BEGIN")
            write_results(con, model, dates, tables)
            if also is not None:
                also(con)
            con.execute("COMMIT")

    def query(self, sql: str, params: Sequence = ()) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(sql, list(params)).df()


def _next_session(day: dt.date) -> str:
    later = trading_days(day + dt.timedelta(days=1), day + dt.timedelta(days=10))
    return (later[0] if later else day + dt.timedelta(days=1)).isoformat()


def read_spec(con: duckdb.DuckDBPyConnection, signature: str, path: Path | str) -> ModelSpec:
    """A registered model's spec on an open connection (store connections cannot nest)."""
    rows = con.execute("SELECT spec FROM models WHERE signature = ?", [signature]).fetchall()
    if not rows:
        known = [r[0] for r in con.execute("SELECT signature FROM models ORDER BY 1").fetchall()]
        raise StoreError(
            f"unknown model {signature!r} (registered: {', '.join(known) or 'none'})",
            where=str(path),
            fix="register it with `trading-assets backfill --config FILE` (or import-legacy)",
        )
    return ModelSpec.model_validate_json(rows[0][0])


def start_state(
    con: duckdb.DuckDBPyConnection, spec: ModelSpec, date: dt.date, previous_day: dt.date | None
) -> StartState:
    """The state a model-day on `date` starts from.

    No earlier result: a fresh start with the initial cash. Otherwise the previous
    trading day must be stored and not failed, or the chain has a gap.
    """
    last = con.execute(
        "SELECT date, status, cash, portfolio_value FROM model_days "
        "WHERE model = ? AND date < ? ORDER BY date DESC LIMIT 1",
        [spec.signature, date],
    ).fetchone()
    if last is None and spec.start_from is not None:
        return _continued_state(con, spec, date)
    if last is None:
        return StartState(PortfolioState(cash=spec.initial_cash), spec.initial_cash)
    last_date, status, cash, value = last
    where = f"partition {date.isoformat()}|{spec.signature}"
    if previous_day is not None and last_date != previous_day:
        raise StoreError(
            f"previous trading day {previous_day} has no result (last stored: {last_date})",
            where=where,
            fix=f"materialize {spec.signature} from {previous_day} first "
            f"(trading-assets backfill --start {_next_session(last_date)})",
        )
    if status == DayStatus.FAILED:
        raise StoreError(
            f"previous day {last_date} failed",
            where=where,
            fix=f"re-run {last_date.isoformat()}|{spec.signature} first",
        )
    rows = con.execute(
        "SELECT symbol, shares FROM holdings WHERE model = ? AND date = ?",
        [spec.signature, last_date],
    ).fetchall()
    (peak,) = con.execute(  # for each new day's drawdown (as daily_portfolio's running peak)
        "SELECT max(portfolio_value) FROM model_days WHERE model = ? AND date < ? "
        "AND status <> 'failed'",
        [spec.signature, date],
    ).fetchone()
    return StartState(PortfolioState(cash=cash, positions=dict(rows)), value, peak)


def _continued_state(con: duckdb.DuckDBPyConnection, spec: ModelSpec, date: dt.date) -> StartState:
    """The first day of a model that continues another's stored state (`start_from`):
    that model's cash and holdings at the close of `start_from.date`."""
    source, day = spec.start_from.model, spec.start_from.date
    where = f"partition {date.isoformat()}|{spec.signature}"
    if date <= day:
        raise StoreError(
            f"starts from {source}'s state at the close of {day}, so it can only run after it",
            where=where,
            fix=f"run {spec.signature} from {_next_session(day)} on "
            f"(trading-assets backfill --start {_next_session(day)})",
        )
    row = con.execute(
        "SELECT status, cash, portfolio_value FROM model_days WHERE model = ? AND date = ?",
        [source, day],
    ).fetchone()
    if row is None or row[0] == DayStatus.FAILED:
        state = "failed" if row else "is not stored"
        raise StoreError(
            f"start_from: {source}'s day {day} {state}",
            where=where,
            fix=f"materialize {day.isoformat()}|{source} first (import-legacy, then backfill "
            f"--models {source}), or change start_from.date",
        )
    holdings = con.execute(
        "SELECT symbol, shares FROM holdings WHERE model = ? AND date = ?", [source, day]
    ).fetchall()
    _, cash, value = row
    outside = sorted(symbol for symbol, _ in holdings if symbol not in spec.universe)
    if outside:
        raise StoreError(
            f"start_from: {source} holds {', '.join(outside)} on {day}, outside this "
            "model's universe",
            where=where,
            fix="add them to the universe of the models config",
        )
    return StartState(PortfolioState(cash=cash, positions=dict(holdings)), value, value)


def write_results(
    con: duckdb.DuckDBPyConnection,
    model: str,
    dates: Sequence[dt.date],
    tables: dict[str, list[dict]],
) -> None:
    """Replace `model`'s rows on exactly `dates` in every result table (the caller owns
    the transaction)."""
    for table in WRITTEN_TABLES:
        con.execute(
            f"DELETE FROM {table} WHERE model = ? AND list_contains(?, date)",
            [model, list(dates)],
        )
        rows = tables.get(table) or []
        if rows:
            frame = pd.DataFrame(rows)
            con.register("incoming", frame)
            cols = ", ".join(frame.columns)
            con.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM incoming")
            con.unregister("incoming")


def model_dates(
    store: ResultStore, model: str, start: dt.date | None = None, end: dt.date | None = None
) -> list[dt.date]:
    """Trading days (XNYS) in [start, end] on which the model's market data has bars."""
    with store.connect() as con:
        spec = read_spec(con, model, store.path)
        days = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT date FROM prices WHERE source = ? ORDER BY date",
                [source_id(spec.market_data)],
            ).fetchall()
        ]
    sessions = set(all_trading_days())
    return [
        d
        for d in days
        if d in sessions and (start is None or d >= start) and (end is None or d <= end)
    ]


def stored_day(store: ResultStore, model: str, date: dt.date) -> tuple | None:
    """(status, cash, portfolio_value, error_message, {symbol: shares}) of one stored
    model-day; None when it is not stored."""
    with store.connect() as con:
        row = con.execute(
            "SELECT status, cash, portfolio_value, error_message FROM model_days "
            "WHERE model = ? AND date = ?",
            [model, date],
        ).fetchone()
        if row is None:
            return None
        held = con.execute(
            "SELECT symbol, shares FROM holdings WHERE model = ? AND date = ? ORDER BY symbol",
            [model, date],
        ).fetchall()
    return (*row, dict(held))
