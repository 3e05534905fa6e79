"""The engine with corporate actions and listings, on the bundled history.

`corporate_actions: apply` (the default) splits holdings and pays dividends before the
open and records each effect on the day's result; `ignore` keeps raw prices. A symbol is
tradable only while listed. Expectations are computed here from raw prices and the
derived actions, never with the engine.
"""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from trading_assets.agents.base import AgentContext, Decision
from trading_assets.agents.registry import create_agent
from trading_assets.config import load_config, model_specs
from trading_assets.engine.simulate import DayResult, StartState, simulate
from trading_assets.errors import ConfigError
from trading_assets.market.actions import CorporateAction, CorporateActions
from trading_assets.market.history import PriceHistory
from trading_assets.market.sources import BUNDLED_SYMBOLS, BundledSource
from trading_assets.portfolio.orders import DELISTED, NOT_LISTED, Order
from trading_assets.portfolio.step import PortfolioState

CASH = 100_000.0
D = dt.date


@pytest.fixture(scope="module")
def bundled() -> PriceHistory:
    return BundledSource().load()


def buy_and_hold(history: PriceHistory, universe, mode: str = "apply") -> list[DayResult]:
    agent = create_agent("buy_and_hold", {}, AgentContext(signature="bh", universe=universe))
    start = StartState(PortfolioState(cash=CASH), CASH)
    return list(
        simulate(agent, history.select(universe), history.dates, start, corporate_actions=mode)
    )


def bar(history: PriceHistory, field: str, symbol: str, day: dt.date) -> float:
    return float(getattr(history, field)[history.index_of(day), history.symbol_index(symbol)])


# -- splits and dividends ---------------------------------------------------------------


@pytest.mark.parametrize("ex_date", [D(2000, 6, 21), D(2005, 2, 28)])
def test_buy_and_hold_across_a_split_earns_the_stocks_adjusted_return(bundled, ex_date):
    days = {d.date: d for d in buy_and_hold(bundled, ("AAPL",))}
    prev_day = bundled.dates[bundled.index_of(ex_date) - 1]
    before, on = days[prev_day], days[ex_date]
    held = before.state.shares("AAPL")
    close_prev, close_ex = (
        bar(bundled, "close", "AAPL", prev_day),
        bar(bundled, "close", "AAPL", ex_date),
    )

    assert on.state.shares("AAPL") == 2 * held and on.state.cash == before.state.cash
    (effect,) = on.actions
    assert (effect.kind, effect.shares_before, effect.shares_after, effect.cash_change) == (
        "split",
        held,
        2 * held,
        0.0,
    )
    adjusted_return = close_ex / (close_prev / 2) - 1  # +10 % and +1 %, not -45 %
    assert on.positions_value / before.positions_value - 1 == pytest.approx(
        adjusted_return, rel=1e-12
    )
    weight = before.positions_value / before.value
    assert on.daily_return == pytest.approx(weight * adjusted_return, rel=1e-9)
    assert abs(on.daily_return) < 0.12


def test_buy_and_hold_with_ignore_keeps_raw_behaviour_and_loses_half_on_the_split(bundled):
    days = {d.date: d for d in buy_and_hold(bundled, ("AAPL",), "ignore")}
    assert all(not d.actions for d in days.values())
    assert days[D(2000, 6, 21)].daily_return < -0.4  # the split read as a crash
    assert days[D(2013, 3, 1)].state.shares("AAPL") == days[D(2000, 3, 1)].state.shares("AAPL")


@pytest.mark.parametrize("symbol", ["AAPL", "IBM", "MSFT", "GOOG"])
def test_single_stock_buy_and_hold_ends_where_raw_prices_and_actions_say(bundled, symbol):
    days = buy_and_hold(bundled, (symbol,))

    # independent expectation: buy at the first open, then walk the derived actions
    first, last = bundled.listing(symbol)
    open_0 = bar(bundled, "open", symbol, first)
    shares = math.floor(CASH * 0.99 / open_0)
    cash = CASH - shares * open_0
    for action in (a for a in bundled.actions if a.symbol == symbol):
        cash += shares * action.dividend
        new = shares * action.split_ratio
        cash += (new - math.floor(new)) * bar(bundled, "open", symbol, action.ex_date)
        shares = math.floor(new)
    expected = cash + shares * bar(bundled, "close", symbol, last)

    assert days[-1].state.shares(symbol) == shares
    assert days[-1].value == pytest.approx(expected, rel=1e-12)
    assert days[-1].state.cash == pytest.approx(cash, rel=1e-12)


def test_bundled_buy_and_hold_of_aapl_holds_four_times_its_shares(bundled):
    days = buy_and_hold(bundled, ("AAPL",))
    first = next(d for d in days if d.state.positions).state.shares("AAPL")
    assert days[-1].state.shares("AAPL") == 4 * first  # two 2:1 splits


def test_dividends_are_credited_in_cash_on_the_ex_date(bundled):
    days = {d.date: d for d in buy_and_hold(bundled, ("MSFT",))}
    special = days[D(2004, 11, 15)]
    (effect,) = special.actions
    held = special.state.shares("MSFT")
    assert effect.kind == "dividend" and effect.shares_after == held
    prev = days[bundled.dates[bundled.index_of(D(2004, 11, 15)) - 1]]
    assert special.state.cash == prev.state.cash + held * effect.action.dividend
    total = sum(e.cash_change for d in days.values() for e in d.actions)
    assert total > 0.5 * held  # 37 dividends, $3.00 special among them


def test_bollinger_does_not_buy_the_dip_of_a_split_with_apply(bundled):
    # the day after each ex-date, D-1's close is the first in new shares
    after_split = {D(2000, 6, 22): "AAPL", D(2003, 2, 19): "MSFT", D(2005, 3, 1): "AAPL"}

    def signals(mode: str) -> dict[dt.date, list[str]]:
        agent = create_agent(
            "bollinger",
            {"window": 20, "k": 2.0, "size": 100},
            AgentContext(signature="b", universe=("AAPL", "MSFT")),
        )
        start = StartState(PortfolioState(cash=CASH), CASH)
        history = bundled.select(["AAPL", "MSFT"])
        days = simulate(agent, history, history.dates, start, corporate_actions=mode)
        return {d.date: [s.symbol for s in d.signals] for d in days if d.date in after_split}

    assert signals("ignore") == {day: [symbol] for day, symbol in after_split.items()}
    assert signals("apply") == {day: [] for day in after_split}


# -- listings -------------------------------------------------------------------------


def test_buy_and_hold_invests_goog_when_it_lists_and_says_why_it_waits(bundled):
    days = {d.date: d for d in buy_and_hold(bundled, BUNDLED_SYMBOLS)}
    first_day = days[D(2000, 3, 1)]
    assert {r.order.symbol for r in first_day.orders} == {"AAPL", "IBM", "MSFT"}
    waiting = [s for s in first_day.signals if s.symbol == "GOOG"]
    assert [(s.merged.rating, s.reasoning) for s in waiting] == [
        ("HOLD", "not listed: its share of the cash waits")
    ]
    listing = days[D(2004, 8, 19)]
    (goog,) = [r for r in listing.orders if r.order.symbol == "GOOG"]
    assert goog.status == "filled" and goog.order.side == "buy"
    assert goog.price == bar(bundled, "open", "GOOG", D(2004, 8, 19))
    idle_before = days[D(2004, 8, 18)].state.cash
    assert idle_before > 0.24 * CASH  # GOOG's quarter (plus dividends) waited in cash
    assert listing.state.cash < 0.02 * idle_before
    assert all(s.symbol != "GOOG" for s in days[D(2004, 8, 20)].signals)


class BuyEveryDay:
    """Test agent: orders one share of `symbol` every day."""

    name = "buy_every_day"

    def __init__(self, symbol: str):
        self.symbol = symbol

    def decide(self, view, portfolio) -> Decision:
        return Decision((Order(self.symbol, "buy", 1),))


def test_order_for_a_symbol_not_listed_yet_is_rejected_as_not_listed(bundled):
    history = bundled.select(["GOOG", "IBM"])
    dates = [D(2004, 8, 18), D(2004, 8, 19)]
    start = StartState(PortfolioState(cash=CASH), CASH)
    before, listed = simulate(BuyEveryDay("GOOG"), history, dates, start)
    assert [(r.status, r.reason) for r in before.orders] == [("rejected", NOT_LISTED)]
    assert [r.status for r in listed.orders] == ["filled"]


def test_order_for_a_delisted_symbol_is_rejected_as_delisted(bundled):
    history = bundled.select(["IBM", "MSFT"])
    cut = history.index_of(D(2012, 12, 31))
    arrays = {f: getattr(history, f).copy() for f in ("open", "high", "low", "close", "volume")}
    for a in arrays.values():
        a[cut + 1 :, 0] = math.nan  # IBM's last bar: 2012-12-31
    delisting = PriceHistory(dates=history.dates, symbols=history.symbols, **arrays)
    assert delisting.listing("IBM") == (D(2000, 3, 1), D(2012, 12, 31))
    start = StartState(PortfolioState(cash=CASH), CASH)
    (day,) = simulate(BuyEveryDay("IBM"), delisting, [D(2013, 1, 2)], start)
    assert [(r.status, r.reason) for r in day.orders] == [("rejected", DELISTED)]


# -- the config key ---------------------------------------------------------------------


def write_config(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(
        f"universe: [AAPL]\n{extra}models:\n  - signature: bh\n    agent: buy_and_hold\n"
    )
    return path


def test_config_corporate_actions_defaults_to_apply_and_is_in_the_hash(tmp_path):
    (default,) = model_specs(load_config(write_config(tmp_path, "")))
    (ignore,) = model_specs(load_config(write_config(tmp_path, "corporate_actions: ignore\n")))
    assert default.corporate_actions == "apply" and ignore.corporate_actions == "ignore"
    assert default.config_hash != ignore.config_hash


def test_config_corporate_actions_with_unknown_value_names_the_key(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_config(write_config(tmp_path, "corporate_actions: adjust\n"))
    assert "corporate_actions" in str(info.value) and "apply" in str(info.value)


# -- ex-dates that are not bars ------------------------------------------------------------


class Hold:
    name = "hold"

    def decide(self, view, portfolio) -> Decision:
        return Decision()


def two_bar_history(actions: list[CorporateAction]) -> PriceHistory:
    bars = {f: np.array([[10.0], [5.0]]) for f in ("open", "high", "low", "close")}
    return PriceHistory(
        dates=(D(2012, 1, 6), D(2012, 1, 9)),
        symbols=("AAA",),
        volume=np.array([[1.0], [2.0]]),
        actions=CorporateActions(actions),
        **bars,
    )


def test_split_with_ex_date_on_a_weekend_takes_effect_on_the_next_bar():
    history = two_bar_history(
        [CorporateAction(symbol="AAA", ex_date=D(2012, 1, 7), split_ratio=2.0)]
    )
    start = StartState(PortfolioState(cash=0.0, positions={"AAA": 3}), 30.0)
    friday, monday = simulate(Hold(), history, history.dates, start)
    assert friday.state.shares("AAA") == 3 and not friday.actions
    assert monday.state.shares("AAA") == 6 and monday.daily_return == 0.0


def test_action_before_the_first_bar_is_not_applied_to_the_start_state():
    history = two_bar_history([CorporateAction(symbol="AAA", ex_date=D(2012, 1, 2), dividend=1.0)])
    start = StartState(PortfolioState(cash=0.0, positions={"AAA": 3}), 30.0)
    friday, _ = simulate(Hold(), history, history.dates, start)
    assert friday.state.cash == 0.0 and not friday.actions
