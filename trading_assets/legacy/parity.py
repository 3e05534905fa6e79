"""Legacy parity: does the new store say what the imported legacy files say, day by day?

`compare` is pure. For a legacy day it expects: status completed or degraded_success,
no error; each recorded buy/sell filled (amount 0: a no-op); equal shares; exactly
equal cash (a replay repeats the legacy float arithmetic); value = cash + sum(shares x
the day's close) within 1e-6; per traded symbol one decision row whose LLM lane holds
the legacy action (BUY/SELL) and whose decision and confidence are the kernel's
LLM-only merge of it; no decision rows on a day without trades. A day missing on
either side is a diff: a vacuous pass would hide lost history. The store glue reads
with a few range queries on one connection and records in one transaction.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd

from trading_assets.config import ModelSpec
from trading_assets.legacy.replay import action_rating, action_signal
from trading_assets.market.registry import source_id
from trading_assets.store.results import ResultStore, read_spec
from trading_assets.vocab import FINISHED_STATUSES

CHECK_NAME = "legacy_parity"
VALUE_TOLERANCE = 1e-6
_IN_DATES = "model = ? AND list_contains(?::DATE[], date)"
_INSERT_RESULTS = (
    "INSERT INTO parity_results (model, check_name, run_id, checked_at, date, passed, n_diffs) "
    "SELECT ?, ?, ?, ?, unnest(?::DATE[]), unnest(?::BOOLEAN[]), unnest(?::INTEGER[])"
)
_INSERT_DIFFS = (
    "INSERT INTO parity_diffs (model, check_name, run_id, recorded_at, date, field, legacy_value, "
    "new_value) SELECT ?, ?, ?, ?, unnest(?::DATE[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
    "unnest(?::VARCHAR[])"
)


@dataclass(frozen=True)
class LegacyAction:
    id: int
    action: str  # buy | sell | no_trade
    symbol: str
    amount: int


@dataclass(frozen=True)
class LegacyDay:
    model: str
    date: dt.date
    positions: dict[str, int]  # the day's final line, non-zero shares only
    cash: float
    actions: tuple[LegacyAction, ...]  # the day's lines in id order
    value: float | None  # None when a held symbol has no close that day
    missing_closes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Diff:
    field: str
    legacy_value: Any
    new_value: Any

    def texts(self) -> tuple[str, str | None, str | None]:
        return self.field, _text(self.legacy_value), _text(self.new_value)

    def __str__(self) -> str:
        return f"{self.field}: legacy {_text(self.legacy_value)} != new {_text(self.new_value)}"


@dataclass(frozen=True)
class ParityOutcome:
    passed: bool
    diffs: tuple[Diff, ...]
    model: str = ""
    date: dt.date | None = None


def expected_day(store: ResultStore, model: str, date: dt.date) -> LegacyDay | None:
    """The legacy day as imported, valued by the legacy rule; None without action lines."""
    with store.connect() as con:
        return _legacy_days(con, read_spec(con, model, store.path), [date]).get(date)


def compare(
    model: str,
    date: dt.date,
    legacy: LegacyDay | None,
    new_row: Mapping[str, Any] | None,
    new_holdings: Mapping[str, int],
    new_signals: Sequence[Mapping[str, Any]],
    new_orders: Sequence[Mapping[str, Any]] | None = None,
) -> list[Diff]:
    """Every disagreement between the legacy day and the new rows (empty: parity)."""
    status = None if new_row is None else new_row["status"]
    if status == "failed":
        status = f"failed: {new_row['error_message']}"
    if legacy is None:
        return [Diff("day", "missing (no legacy action lines)", status or "missing")]
    if new_row is None or new_row["status"] not in FINISHED_STATUSES:
        return [Diff("status", "completed", status or "missing")]
    diffs: list[Diff] = []
    if new_row.get("error_code") or new_row.get("error_message"):
        diffs.append(Diff("error", None, new_row.get("error_message") or new_row["error_code"]))
    if new_orders is not None:
        diffs += _order_diffs(legacy, new_orders)
    for symbol in sorted(legacy.positions.keys() | new_holdings.keys()):
        old, new = legacy.positions.get(symbol, 0), new_holdings.get(symbol, 0)
        if old != new:
            diffs.append(Diff(f"positions.{symbol}", old, new))
    if legacy.cash != new_row["cash"]:
        diffs.append(Diff("cash", legacy.cash, new_row["cash"]))
    value = new_row["portfolio_value"]
    if legacy.value is None:
        missing = f"no close for {', '.join(legacy.missing_closes)} on {date}"
        diffs.append(Diff("portfolio_value", missing, value))
    elif value is None or abs(legacy.value - value) > VALUE_TOLERANCE:
        diffs.append(Diff("portfolio_value", legacy.value, value))
    return diffs + _signal_diffs(legacy, new_signals)


def _order_diffs(legacy: LegacyDay, orders: Sequence[Mapping[str, Any]]) -> list[Diff]:
    want = [
        f"{a.action} {a.amount} {a.symbol} {'filled' if a.amount else 'noop'}"
        for a in legacy.actions
        if a.action != "no_trade"
    ]
    got = [
        f"{o['side']} {o['quantity']} {o['symbol']} {o['status']}"
        + (f" ({o['reason']})" if o.get("reason") else "")
        for o in orders
    ]
    return [
        Diff(f"orders[{i}]", want[i] if i < len(want) else None, got[i] if i < len(got) else None)
        for i in range(max(len(want), len(got)))
        if i >= len(want) or i >= len(got) or want[i] != got[i]
    ]


def _signal_diffs(legacy: LegacyDay, signals: Sequence[Mapping[str, Any]]) -> list[Diff]:
    # The replay keeps one signal per symbol: its last action of the day.
    last = {a.symbol: a.action for a in legacy.actions if a.action in ("buy", "sell")}
    got = {s["symbol"]: s for s in signals}
    diffs: list[Diff] = []
    for symbol in sorted(last.keys() | got.keys()):
        row = got.get(symbol)
        if symbol not in last:
            diffs.append(Diff(f"decision.{symbol}", None, row["rating"]))
            continue
        rating, merged = action_rating(last[symbol]), action_signal(last[symbol])
        if row is None:
            diffs.append(Diff(f"decision.{symbol}", merged.rating, None))
            continue
        if row.get("llm_rating") != rating:
            diffs.append(Diff(f"llm_rating.{symbol}", rating, row.get("llm_rating")))
        if row["rating"] != merged.rating:
            diffs.append(Diff(f"decision.{symbol}", merged.rating, row["rating"]))
        if row["confidence"] is None or abs(row["confidence"] - merged.confidence) > 1e-12:
            diffs.append(Diff(f"confidence.{symbol}", merged.confidence, row["confidence"]))
    return diffs


def check_partition(
    store: ResultStore, model: str, date: dt.date, run_id: str | None = None
) -> ParityOutcome:
    """Compare one model-day and record the outcome (replacing the previous one)."""
    return check_range(store, model, [date], run_id)[0]


def check_range(
    store: ResultStore, model: str, dates: Sequence[dt.date], run_id: str | None = None
) -> list[ParityOutcome]:
    """Compare many model-days on one connection; record them in one transaction."""
    dates = sorted(set(dates))
    if not dates:
        return []
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with store.connect() as con:
        legacy = _legacy_days(con, read_spec(con, model, store.path), dates)
        rows = {d: r[0] for d, r in _grouped(con, "model_days", model, dates).items()}
        held = _grouped(con, "holdings", model, dates)
        signals = _grouped(con, "signals", model, dates)
        orders = _grouped(con, "orders", model, dates)
        outcomes = []
        for d in dates:
            holdings = {r["symbol"]: r["shares"] for r in held.get(d, [])}
            new = rows.get(d), holdings, signals.get(d, []), orders.get(d, [])
            diffs = compare(model, d, legacy.get(d), *new)
            outcomes.append(ParityOutcome(not diffs, tuple(diffs), model, d))
        _record(con, model, dates, outcomes, run_id, now)
    return outcomes


def _record(con, model, dates, outcomes: list[ParityOutcome], run_id, now) -> None:
    results = [(o.date, o.passed, len(o.diffs)) for o in outcomes]
    diffs = [(o.date, *d.texts()) for o in outcomes for d in o.diffs]
    con.execute("BEGIN")
    for table in ("parity_results", "parity_diffs"):  # constant names, values bound
        con.execute(
            f"DELETE FROM {table} WHERE {_IN_DATES} AND check_name = ?", [model, dates, CHECK_NAME]
        )
    for sql, rows in ((_INSERT_RESULTS, results), (_INSERT_DIFFS, diffs)):
        if rows:
            con.execute(sql, [model, CHECK_NAME, run_id, now, *map(list, zip(*rows, strict=True))])
    con.execute("COMMIT")


def parity_summary(store: ResultStore) -> pd.DataFrame:
    """Per model: days checked, passed, failed, last check, first failing date and its diff."""
    summary = store.query(
        "SELECT model, count(*) AS checked_days, count(*) FILTER (WHERE passed) AS passed, "
        "count(*) FILTER (WHERE NOT passed) AS failed, max(checked_at) AS last_checked_at, "
        "min(date) FILTER (WHERE NOT passed) AS first_failing_date "
        "FROM parity_results WHERE check_name = ? GROUP BY model ORDER BY model",
        [CHECK_NAME],
    )
    diffs = store.query(
        "SELECT d.model, d.field, d.legacy_value, d.new_value FROM parity_diffs d "
        "JOIN (SELECT model, min(date) AS date FROM parity_results "
        "      WHERE check_name = ? AND NOT passed GROUP BY model) f "
        "ON d.model = f.model AND d.date = f.date WHERE d.check_name = ? ORDER BY d.model",
        [CHECK_NAME, CHECK_NAME],
    )
    texts = {
        model: _readable([Diff(*r) for r in group[["field", "legacy_value", "new_value"]].values])
        for model, group in diffs.groupby("model", sort=False)
    }
    summary["first_diff"] = [texts.get(m) for m in summary["model"]]
    return summary


def _readable(diffs: list[Diff], limit: int = 5) -> str:
    text = "; ".join(str(d) for d in diffs[:limit])
    return text + (f"; (+{len(diffs) - limit} more)" if len(diffs) > limit else "")


def _grouped(con, table: str, model: str, dates: list[dt.date]) -> dict[dt.date, list[dict]]:
    """Rows of a result table (a constant name) per date; orders in their sequence."""
    order = "date, seq" if table == "orders" else "date"
    cur = con.execute(f"SELECT * FROM {table} WHERE {_IN_DATES} ORDER BY {order}", [model, dates])
    names = [c[0] for c in cur.description]
    out: dict[dt.date, list[dict]] = {}
    for row in cur.fetchall():
        record = dict(zip(names, row, strict=True))
        out.setdefault(record["date"], []).append(record)
    return out


def _legacy_days(
    con: duckdb.DuckDBPyConnection, spec: ModelSpec, dates: Sequence[dt.date]
) -> dict[dt.date, LegacyDay]:
    lines = con.execute(
        "SELECT date, id, action, symbol, amount, cash, positions FROM legacy_positions "
        f"WHERE {_IN_DATES} ORDER BY date, id",
        [spec.signature, list(dates)],
    ).fetchall()
    closes = {
        (d, s): c
        for d, s, c in con.execute(
            "SELECT date, symbol, close FROM prices "
            "WHERE source = ? AND list_contains(?::DATE[], date)",
            [source_id(spec.market_data), list(dates)],
        ).fetchall()
    }
    out: dict[dt.date, LegacyDay] = {}
    for day, group in itertools.groupby(lines, key=lambda line: line[0]):
        rows = list(group)
        actions = tuple(LegacyAction(i, a, s or "", n or 0) for _, i, a, s, n, _, _ in rows if a)
        if not actions:  # a registration day: nothing was traded or decided
            continue
        _, _, _, _, _, cash, positions = rows[-1]  # the highest id is the day's final state
        held = {s: n for s, n in json.loads(positions).items() if n}
        missing = tuple(s for s in held if closes.get((day, s)) is None)
        value = None if missing else cash + sum(n * closes[(day, s)] for s, n in held.items())
        out[day] = LegacyDay(spec.signature, day, held, cash, actions, value, missing)
    return out


def _text(value: Any) -> str | None:
    return None if value is None else repr(value) if isinstance(value, float) else str(value)
