"""Legacy parity: does the new store say what the imported legacy files say, day by day?

`compare` is pure. For a legacy day it expects: status completed or degraded_success,
no error; each recorded buy/sell filled (amount 0: a no-op); equal shares; exactly
equal cash (a replay repeats the legacy float arithmetic); value = cash + sum(shares x
the day's close) within 1e-6; per traded symbol one decision row whose LLM lane holds
the legacy action (BUY/SELL) and whose decision and confidence are the kernel's
LLM-only merge of it; no decision rows on a day without trades. Only days with a
legacy record are compared (a day the legacy system never recorded has no reference);
such a day missing in the new store is a diff: a vacuous pass would hide lost history.
The store glue reads with a few range queries on one connection and records in one
transaction.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from trading_assets.kernel.merge import action_signal
from trading_assets.kernel.ratings import action_rating
from trading_assets.legacy.positions import PositionLine, final_state_by_date
from trading_assets.store.parity import (
    parity_tables,
    record_parity,
    record_parity_now,
    stored_parity_inputs,
)
from trading_assets.store.results import RESULT_TABLES, ResultStore
from trading_assets.vocab import FINISHED_STATUSES, SYSTEM_CLOCK, Clock

CHECK_NAME = "legacy_parity"
VALUE_TOLERANCE = 1e-6


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
    lines, closes, _ = stored_parity_inputs(store, model, [date], ())
    return legacy_days(model, lines, closes).get(date)


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
    store: ResultStore,
    model: str,
    dates: Sequence[dt.date],
    run_id: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> list[ParityOutcome]:
    """Compare the stored model-days with the legacy record on one connection; record the
    outcomes in one transaction."""
    dates = sorted(set(dates))
    if not dates:
        return []
    lines, closes, tables = stored_parity_inputs(store, model, dates, RESULT_TABLES)
    outcomes = compare_days(model, dates, legacy_days(model, lines, closes), tables)
    record_parity_now(
        store, model, CHECK_NAME, dates, *_outcome_rows(outcomes), run_id, clock.now()
    )
    return outcomes


def compare_days(
    model: str,
    dates: Sequence[dt.date],
    legacy: Mapping[dt.date, LegacyDay],
    tables: Mapping[str, Mapping[dt.date, list[dict]]],
) -> list[ParityOutcome]:
    """The outcome of each date that has a legacy record, from the new rows per table and
    date (stored or in memory). A date without one has nothing to compare: no outcome."""
    outcomes = []
    for d in (d for d in dates if d in legacy):
        row = (tables["model_days"].get(d) or [None])[0]
        holdings = {r["symbol"]: r["shares"] for r in tables["holdings"].get(d, [])}
        new = row, holdings, tables["signals"].get(d, []), tables["orders"].get(d, [])
        diffs = compare(model, d, legacy.get(d), *new)
        outcomes.append(ParityOutcome(not diffs, tuple(diffs), model, d))
    return outcomes


def record_outcomes(con, model, dates, outcomes: list[ParityOutcome], run_id, now) -> None:
    """Record outcomes inside the caller's transaction."""
    record_parity(con, model, CHECK_NAME, dates, *_outcome_rows(outcomes), run_id, now)


def _outcome_rows(outcomes: list[ParityOutcome]) -> tuple[list[tuple], list[tuple]]:
    results = [(o.date, o.passed, len(o.diffs)) for o in outcomes]
    return results, [(o.date, *d.texts()) for o in outcomes for d in o.diffs]


def parity_summary(store: ResultStore) -> pd.DataFrame:
    """Per model: days checked, passed, failed, last check, first failing date and its diff."""
    summary, diffs = parity_tables(store, CHECK_NAME)
    texts = {
        model: _readable([Diff(*r) for r in group[["field", "legacy_value", "new_value"]].values])
        for model, group in diffs.groupby("model", sort=False)
    }
    summary["first_diff"] = [texts.get(m) for m in summary["model"]]
    return summary


def _readable(diffs: list[Diff], limit: int = 5) -> str:
    text = "; ".join(str(d) for d in diffs[:limit])
    return text + (f"; (+{len(diffs) - limit} more)" if len(diffs) > limit else "")


def legacy_days(
    model: str, lines: Sequence[tuple], closes: Mapping[tuple[dt.date, str], float | None]
) -> dict[dt.date, LegacyDay]:
    """The legacy days (with action lines) from the imported lines, valued at the closes."""
    records = [
        PositionLine.model_construct(
            date=d, id=i, action=a, symbol=s, amount=n, cash=c, positions=json.loads(p)
        )
        for d, i, a, s, n, c, p in lines
    ]
    by_day: dict[dt.date, list[LegacyAction]] = {}
    for x in records:  # in id order
        if x.action:
            by_day.setdefault(x.date, []).append(
                LegacyAction(x.id, x.action, x.symbol or "", x.amount or 0)
            )
    out: dict[dt.date, LegacyDay] = {}
    for day, final in final_state_by_date(records, acted_only=True).items():
        actions = tuple(by_day[day])
        value, missing = final.value({s: closes.get((day, s)) for s in final.held})
        out[day] = LegacyDay(model, day, final.held, final.cash, actions, value, missing)
    return out


def _text(value: Any) -> str | None:
    return None if value is None else repr(value) if isinstance(value, float) else str(value)
