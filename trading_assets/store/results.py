"""The result store: register models, keep prices, read a model's state, write results.

Writes are idempotent per partition: a model's date range is deleted, then inserted,
in one transaction. Every SQL value is a bound parameter. A run's texts (the LLM's
answers, its errors) are scrubbed of the API key in `write_results`, where they are stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import duckdb
import pandas as pd

from trading_assets.config import ModelSpec, source_id
from trading_assets.engine.simulate import StartState
from trading_assets.errors import StoreError
from trading_assets.llm.answer import CachedAnswer
from trading_assets.llm.lane import CacheKey
from trading_assets.llm.scrub import scrub, scrub_all
from trading_assets.market.calendar import all_trading_days, trading_days
from trading_assets.market.history import PriceHistory
from trading_assets.portfolio.step import PortfolioState
from trading_assets.store.db import StoreWait, connect, store_location
from trading_assets.store.llm_cache import save_llm_cache
from trading_assets.store.market import load_prices, mark_source_failed, write_market
from trading_assets.store.transcripts import TRANSCRIPT_TABLES
from trading_assets.vocab import (
    CONTRACT_VERSION,
    FINISHED_STATUSES,
    SYSTEM_CLOCK,
    Clock,
    DayStatus,
)

RESULT_TABLES = ("model_days", "orders", "holdings", "signals")
# what a run writes per model-day: the result tables, the effects of corporate actions
# and an llm_trader's conversation (store/transcripts.py)
WRITTEN_TABLES = (*RESULT_TABLES, "model_day_actions", *TRANSCRIPT_TABLES)


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
            # by the whole spec: a change outside the config hash (a budget) is kept too
            known = dict(con.execute("SELECT signature, spec FROM models").fetchall())
            for spec in specs:
                if known.get(spec.signature) == spec.model_dump_json():
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
        *,
        llm_answers: Mapping[CacheKey, CachedAnswer] | None = None,
        secrets: Sequence[str | None] | None = None,
    ) -> None:
        """Replace `model`'s rows on exactly `dates` (the run's partitions) in every result
        table, and upsert the run's new LLM answers, in one transaction; `also` writes more
        (e.g. parity outcomes) inside the same transaction. Dates a run did not reach
        (after a failed day) lose stale rows.

        secrets: the run's API keys (None: no provider text in the rows). Every text of the
        rows (unless None) and of the answers (always) is scrubbed of them and of credential
        values here (`llm/scrub.py`), after the answers were decoded: this is the one way
        provider text reaches the store."""
        if not dates:
            return
        if secrets is not None:
            tables = scrub_all(tables, secrets)
        answers = {  # the identity too: a key pasted into llm.model (refused at load)
            (scrub(model_id, secrets or ()), prompt): _scrub_answer(a, secrets or ())
            for (model_id, prompt), a in (llm_answers or {}).items()
        }
        with self.connect() as con:
            con.execute("BEGIN")
            write_results(con, model, dates, tables)
            if answers:
                save_llm_cache(con, answers)
            if also is not None:
                also(con)
            con.execute("COMMIT")

    def query(self, sql: str, params: Sequence = ()) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(sql, list(params)).df()


def _scrub_answer(answer: CachedAnswer, secrets: Sequence[str | None]) -> CachedAnswer:
    # an llm_trader response has no rating or rationale (None), only its raw content
    fields = ("rating", "rationale", "raw_content")
    texts = {f: getattr(answer, f) for f in fields}
    return dataclasses.replace(
        answer, **{f: scrub(t, secrets) for f, t in texts.items() if t is not None}
    )


def _next_session(day: dt.date) -> str:
    later = trading_days(day + dt.timedelta(days=1), day + dt.timedelta(days=10))
    return (later[0] if later else day + dt.timedelta(days=1)).isoformat()


def counted_day(alias: str = "") -> str:
    """The SQL condition of a model-day that counts (a figure, a peak, a count of days
    done): its status is one of vocab.FINISHED_STATUSES. The one definition every query
    uses; `alias` is the model_days table's alias in the query, if any."""
    column = f"{alias}.status" if alias else "status"
    return f"{column} IN ({', '.join(repr(str(s)) for s in FINISHED_STATUSES)})"


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
        return continued_state(con, spec, date)
    if last is None:
        return StartState(
            PortfolioState(cash=spec.initial_cash), spec.initial_cash, spec.initial_cash
        )
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
    (peak,) = con.execute(  # for each new day's drawdown: the running peak from initial cash
        f"SELECT max(portfolio_value) FROM model_days WHERE model = ? AND date < ? "
        f"AND {counted_day()}",
        [spec.signature, date],
    ).fetchone()
    peak = spec.initial_cash if peak is None else max(peak, spec.initial_cash)
    return StartState(PortfolioState(cash=cash, positions=dict(rows)), value, peak)


def continued_state(con: duckdb.DuckDBPyConnection, spec: ModelSpec, date: dt.date) -> StartState:
    """The first day of a model with `start_from`: the other model's last stored
    end-of-day state before `date` (cash, holdings, value), which must not be failed and
    must hold only symbols of this model's universe."""
    source, where = spec.start_from, f"model {spec.signature}: start_from"
    last = con.execute(
        "SELECT date, status, cash, portfolio_value FROM model_days "
        "WHERE model = ? AND date < ? ORDER BY date DESC LIMIT 1",
        [source, date],
    ).fetchone()
    if last is None:
        raise StoreError(
            f"model {source!r} has no stored day before {date} to start from",
            where=where,
            fix=f"backfill (or import) {source} up to the day before {date}, or remove start_from",
        )
    last_date, status, cash, value = last
    if status == DayStatus.FAILED:
        raise StoreError(
            f"model {source!r} failed on {last_date}, the day this model would start from",
            where=where,
            fix=f"re-run {last_date.isoformat()}|{source} first",
        )
    held = dict(
        con.execute(
            "SELECT symbol, shares FROM holdings WHERE model = ? AND date = ?",
            [source, last_date],
        ).fetchall()
    )
    outside = sorted(set(held) - set(spec.universe))
    if outside:
        raise StoreError(
            f"model {source!r} holds {', '.join(outside)} on {last_date}, outside this "
            "model's universe",
            where=where,
            fix="add them to the universe of the models config",
        )
    return StartState(PortfolioState(cash=cash, positions=held), value, value)


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


def check_chain(store: ResultStore, model: str, first: dt.date) -> None:
    """Raise the StoreError a run of `model` from `first` would fail with at once (a gap
    before it, or a failed previous day), so a command refuses it before any run."""
    earlier = model_dates(store, model, None, first - dt.timedelta(days=1))
    with store.connect() as con:
        start_state(con, read_spec(con, model, store.path), first, earlier[-1] if earlier else None)


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
