"""Legacy parity: replays of the fixture through the new engine agree with the legacy files.

All six models replayed through run_model pass every day, with cash equal to the
legacy CASH exactly. Corruptions the parser only flags surface here: a sell of shares
not held is rejected by the engine (insufficient_shares), and a missing NVDA bar
rejects that day's NVDA buy (no_price); both fail parity with readable diff rows. A
date without any bar fails the day in the engine (MarketDataError).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from trading_assets.config import source_id
from trading_assets.errors import MarketDataError
from trading_assets.kernel.merge import LaneSignal, merge
from trading_assets.legacy.importer import import_legacy
from trading_assets.legacy.layout import resolve_root
from trading_assets.legacy.parity import (
    CHECK_NAME,
    LegacyAction,
    LegacyDay,
    check_partition,
    check_range,
    compare,
    expected_day,
    parity_summary,
)
from trading_assets.legacy.positions import final_state_by_date, read_positions
from trading_assets.runs.model import run_model
from trading_assets.store.legacy_import import legacy_trading_dates
from trading_assets.store.results import ResultStore
from trading_assets_tests.legacy_fixture import (
    FIXTURE_ROOT,
    SIGNATURES,
    clean_legacy_db,
    copy_store,
    corrupted_copy,
)

OCT = dt.date(2025, 10, 2)


clean_db = clean_legacy_db  # the imported fixture, once per module
_copy = copy_store


def _day(**changes) -> LegacyDay:
    values = {
        "model": "m",
        "date": OCT,
        "positions": {"AAA": 2},
        "cash": 800.25,
        "actions": (LegacyAction(1, "buy", "AAA", 2),),
        "value": 1000.25,
    }
    return LegacyDay(**{**values, **changes})


def _new(**changes) -> tuple[dict, dict, list[dict], list[dict]]:
    row = {"status": "completed", "cash": 800.25, "portfolio_value": 1000.25}
    row |= {"error_code": None, "error_message": None, **changes}
    merged = merge(None, LaneSignal("llm", 1, 0.9, "BUY"))
    signal = {"symbol": "AAA", "rating": merged.rating, "confidence": merged.confidence}
    order = {"side": "buy", "quantity": 2, "symbol": "AAA", "status": "filled", "reason": None}
    return row, {"AAA": 2}, [signal | {"llm_rating": "BUY"}], [order]


def test_check_range_with_six_replays_passes_every_day_with_exact_cash(
    clean_db: Path, tmp_path: Path
) -> None:
    """Every model-day of the six replays passes; replayed cash == legacy CASH exactly."""
    store = _copy(clean_db, tmp_path)
    layout, histories = resolve_root(FIXTURE_ROOT), {}
    for sig in SIGNATURES:
        dates = legacy_trading_dates(store, sig)
        run = run_model(store, sig, dates, run_id="r1", histories=histories)
        assert run.failure is None and len(run.results) == 20
        outcomes = check_range(store, sig, dates, run_id="r1")
        assert [o.date for o in outcomes if not o.passed] == []
        for day in (dates[0], dates[-1]):  # the single-partition entry point agrees
            assert check_partition(store, sig, day, run_id="r1").passed
        legacy = final_state_by_date(read_positions(layout.position_file(sig)).lines)
        with store.connect() as con:
            sql = "SELECT date, cash FROM model_days WHERE model = ?"
            cash = dict(con.execute(sql, [sig]).fetchall())
        assert cash == {d: legacy[d].cash for d in dates}  # float equality, no tolerance
    assert store.query("SELECT count(*) AS n FROM parity_diffs")["n"][0] == 0
    summary = parity_summary(store)
    assert list(summary["model"]) == list(SIGNATURES)
    assert set(summary["checked_days"]) == {20} and set(summary["failed"]) == {0}
    check_range(store, "gpt-5", legacy_trading_dates(store, "gpt-5"), run_id="r2")
    n = store.query("SELECT count(*) AS n FROM parity_results WHERE check_name = ?", [CHECK_NAME])
    assert n["n"][0] == 120  # re-checking replaces, never duplicates


def test_expected_day_with_fixture_follows_the_legacy_valuation_rule(clean_db: Path) -> None:
    """Final line of the day, non-zero shares, value = CASH + shares x that day's close."""
    store = ResultStore(clean_db)
    day = expected_day(store, "gpt-5", OCT)
    lines = read_positions(resolve_root(FIXTURE_ROOT).position_file("gpt-5")).lines
    final = max((x for x in lines if x.date == OCT), key=lambda x: x.id)
    assert day.cash == final.cash
    assert day.positions == {s: n for s, n in final.positions.items() if n}
    assert [a.id for a in day.actions] == [x.id for x in lines if x.date == OCT]
    value = final.cash
    for symbol, shares in day.positions.items():
        bars = json.loads((FIXTURE_ROOT / "data" / f"daily_prices_{symbol}.json").read_text())
        value += shares * float(bars["Time Series (Daily)"][OCT.isoformat()]["4. close"])
    assert day.value == pytest.approx(value, abs=1e-9)
    assert expected_day(store, "gpt-5", dt.date(2025, 10, 1)) is None  # registration only


def test_compare_with_matching_day_has_no_diffs() -> None:
    """The kernel's LLM-only merge of a legacy buy: OVERWEIGHT at 0.9 x 0.7 = 0.63."""
    merged = merge(None, LaneSignal("llm", 1, 0.9, "BUY"))
    assert (merged.rating, merged.confidence) == ("OVERWEIGHT", pytest.approx(0.63))
    assert compare("m", OCT, _day(), *_new()) == []


def test_compare_with_differences_lists_each_field() -> None:
    """Cash is exact, value within 1e-6, decision and lane rating per symbol."""
    row, held, signals, orders = _new(cash=800.25 + 1e-13, portfolio_value=1000.25 + 5e-7)
    diffs = compare("m", OCT, _day(), row, held, [signals[0] | {"rating": "BUY"}], orders)
    assert [d.field for d in diffs] == ["cash", "decision.AAA"]
    assert str(diffs[1]) == "decision.AAA: legacy OVERWEIGHT != new BUY"
    row, held, _, orders = _new(portfolio_value=1000.26)
    diffs = compare("m", OCT, _day(), row, {"AAA": 1, "BBB": 1}, [], orders)
    assert [d.field for d in diffs] == [
        "positions.AAA",
        "positions.BBB",
        "portfolio_value",
        "decision.AAA",
    ]


def test_compare_with_no_trade_day_expects_no_decision_rows() -> None:
    """A no_trade day with a decision row, a failed day and a missing day are all diffs."""
    no_trade = _day(
        positions={}, cash=1000.0, value=1000.0, actions=(LegacyAction(1, "no_trade", "", 0),)
    )
    row, _, signals, _ = _new(cash=1000.0, portfolio_value=1000.0)
    diffs = compare("m", OCT, no_trade, row, {}, signals, [])
    assert [(d.field, d.legacy_value) for d in diffs] == [("decision.AAA", None)]
    failed = _new(status="failed", error_code="analysis_failed", error_message="boom")[0]
    assert [str(d) for d in compare("m", OCT, _day(), failed, {}, [])] == [
        "status: legacy completed != new failed: boom"
    ]
    assert [d.field for d in compare("m", OCT, None, None, {}, [])] == ["day"]
    assert compare("m", OCT, _day(), None, {}, [])[0].new_value == "missing"


def test_check_partition_with_sell_not_held_fails_with_readable_diff(tmp_path: Path) -> None:
    """Flagged on import; the engine rejects the sell; that day alone fails parity."""
    corruption = corrupted_copy(tmp_path, "sell_not_held")
    store = ResultStore(tmp_path / "s.duckdb")
    import_legacy(store, corruption.root)
    flagged = store.query("SELECT code, line, rejected FROM legacy_issues WHERE model = 'gpt-5'")
    assert ("sell_not_held", corruption.line, False) in set(map(tuple, flagged.values))
    line = json.loads(corruption.file.read_text().splitlines()[corruption.line - 1])
    day = dt.date.fromisoformat(line["date"])
    run = run_model(store, "gpt-5", legacy_trading_dates(store, "gpt-5"))
    rejected = [(r.date, o.reason) for r in run.results for o in r.orders if o.status == "rejected"]
    assert rejected == [(day, "insufficient_shares")]
    outcomes = check_range(store, "gpt-5", legacy_trading_dates(store, "gpt-5"))
    assert [o.date for o in outcomes if not o.passed] == [day]
    with store.connect() as con:
        diffs = con.execute("SELECT date, field, legacy_value, new_value FROM parity_diffs")
        rows = diffs.fetchall()
    symbol, amount = line["this_action"]["symbol"], line["this_action"]["amount"]
    assert rows == [
        (
            day,
            "orders[0]",
            f"sell {amount} {symbol} filled",
            f"sell {amount} {symbol} rejected (insufficient_shares)",
        )
    ]
    summary = parity_summary(store).set_index("model").loc["gpt-5"]
    assert summary["failed"] == 1 and "insufficient_shares" in summary["first_diff"]


def test_check_range_with_missing_price_day_fails_from_that_day(tmp_path: Path) -> None:
    """No NVDA bar on 10-02: the buy is rejected (no_price) and the chain diverges."""
    corruption = corrupted_copy(tmp_path, "missing_price_day")
    store = ResultStore(tmp_path / "s.duckdb")
    report = import_legacy(store, corruption.root)
    assert "missing_price_day" in {i.code for i in report.price_issues}
    dates = legacy_trading_dates(store, "gpt-5")
    run = run_model(store, "gpt-5", dates)
    assert run.failure is None  # the date still has the other symbols' bars
    first = run.results[0].orders[0]
    assert (first.order.symbol, first.status, first.reason) == ("NVDA", "rejected", "no_price")
    outcomes = check_range(store, "gpt-5", dates)
    assert not any(o.passed for o in outcomes)  # cash differs from 10-02 on
    assert [str(d) for d in outcomes[0].diffs][:2] == [
        "orders[0]: legacy buy 10 NVDA filled != new buy 10 NVDA rejected (no_price)",
        "positions.NVDA: legacy 10 != new 0",
    ]


def test_run_model_with_date_without_any_bar_fails_that_day(clean_db: Path, tmp_path: Path) -> None:
    """A date with no bars at all: MarketDataError fails the day, later days never run."""
    store = _copy(clean_db, tmp_path)
    source = store.model_spec("gpt-5").market_data
    with store.connect() as con:
        sql = "DELETE FROM prices WHERE source = ? AND date = ?"
        con.execute(sql, [source_id(source), dt.date(2025, 10, 3)])
    dates = legacy_trading_dates(store, "gpt-5")
    run = run_model(store, "gpt-5", dates)
    assert [r.date for r in run.results] == dates[:2]
    assert isinstance(run.failure.error, MarketDataError)
    outcomes = check_range(store, "gpt-5", dates)
    assert [o.passed for o in outcomes[:3]] == [True, False, False]
    assert outcomes[1].diffs[0].new_value.startswith("failed: ")
    assert "no prices for 2025-10-03" in outcomes[1].diffs[0].new_value
    assert str(outcomes[2].diffs[0]) == "status: legacy completed != new missing"
