"""The corporate-actions step: splits and dividends keep a portfolio's value at prices
adjusted for them; fractions are paid in cash at the open; each effect is reported."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_assets.market.actions import CorporateAction
from trading_assets.portfolio.actions import apply_corporate_actions
from trading_assets.portfolio.step import PortfolioState

EX = dt.date(2020, 3, 2)
SYMBOLS = ("AAA", "BBB", "CCC")
RATIOS = st.sampled_from([2.0, 3.0, 1.5, 4 / 3, 0.5, 0.1, 10.0, 7.0])

portfolios = st.builds(
    PortfolioState,
    cash=st.floats(0, 1e7, allow_nan=False),
    positions=st.dictionaries(st.sampled_from(SYMBOLS), st.integers(1, 100_000), max_size=3),
)
closes = st.fixed_dictionaries({s: st.floats(0.5, 2_000.0) for s in SYMBOLS})


def value(state: PortfolioState, prices: dict[str, float]) -> float:
    return state.cash + sum(q * prices[s] for s, q in state.positions.items())


@settings(max_examples=300, deadline=None)
@given(state=portfolios, prev=closes, symbol=st.sampled_from(SYMBOLS), ratio=RATIOS)
def test_split_of_any_portfolio_keeps_its_value_at_adjusted_prices(state, prev, symbol, ratio):
    action = CorporateAction(symbol=symbol, ex_date=EX, split_ratio=ratio)
    adjusted = {**prev, symbol: prev[symbol] / ratio}  # the price did not move, only the unit
    after, effects = apply_corporate_actions(state, {symbol: action}, prev, opens=adjusted)

    assert value(after, adjusted) == pytest.approx(value(state, prev), rel=1e-12, abs=1e-6)
    held = state.shares(symbol)
    assert after.shares(symbol) == int(held * ratio + 1e-9)
    assert all(isinstance(q, int) and q > 0 for q in after.positions.values())
    assert [(e.shares_before, e.shares_after) for e in effects] == (
        [(held, after.shares(symbol))] if held else []
    )


@settings(max_examples=300, deadline=None)
@given(
    state=portfolios,
    prev=closes,
    symbol=st.sampled_from(SYMBOLS),
    yield_=st.floats(1e-4, 0.5),
)
def test_dividend_of_any_portfolio_keeps_its_value_at_adjusted_prices(state, prev, symbol, yield_):
    dividend = prev[symbol] * yield_
    action = CorporateAction(symbol=symbol, ex_date=EX, dividend=dividend)
    adjusted = {**prev, symbol: prev[symbol] - dividend}  # ex-dividend price
    after, effects = apply_corporate_actions(state, {symbol: action}, prev)

    assert value(after, adjusted) == pytest.approx(value(state, prev), rel=1e-12, abs=1e-6)
    assert after.positions == state.positions
    assert state.cash + sum(e.cash_change for e in effects) == after.cash


def test_split_with_fraction_pays_it_at_the_open():
    state = PortfolioState(cash=10.0, positions={"AAA": 5, "BBB": 7})
    action = CorporateAction(symbol="AAA", ex_date=EX, split_ratio=1.5)
    after, (effect,) = apply_corporate_actions(
        state, {"AAA": action}, {"AAA": 90.0, "BBB": 1.0}, opens={"AAA": 61.0}
    )
    assert after.positions == {"AAA": 7, "BBB": 7}
    assert after.cash == 10.0 + 0.5 * 61.0
    assert (effect.kind, effect.shares_before, effect.shares_after) == ("split", 5, 7)
    assert (effect.fraction_price, effect.cash_change) == (61.0, 30.5)


def test_split_with_no_open_pays_the_fraction_at_the_adjusted_previous_close():
    state = PortfolioState(cash=0.0, positions={"AAA": 3})
    action = CorporateAction(symbol="AAA", ex_date=EX, split_ratio=0.5)
    after, (effect,) = apply_corporate_actions(state, {"AAA": action}, {"AAA": 10.0}, opens={})
    assert after.positions == {"AAA": 1} and after.cash == 0.5 * 20.0
    assert effect.fraction_price == 20.0


def test_split_and_dividend_on_one_day_pays_the_dividend_on_old_shares():
    state = PortfolioState(cash=0.0, positions={"AAA": 10})
    action = CorporateAction(symbol="AAA", ex_date=EX, split_ratio=2.0, dividend=0.5)
    after, (effect,) = apply_corporate_actions(state, {"AAA": action}, {"AAA": 100.0})
    assert after.positions == {"AAA": 20} and after.cash == 5.0
    assert effect.kind == "split+dividend"


def test_reverse_split_below_one_share_closes_the_position_in_cash():
    state = PortfolioState(cash=1.0, positions={"AAA": 4})
    action = CorporateAction(symbol="AAA", ex_date=EX, split_ratio=0.1)
    after, (effect,) = apply_corporate_actions(state, {"AAA": action}, {"AAA": 2.0}, {"AAA": 20.0})
    assert after.positions == {} and after.cash == pytest.approx(1.0 + 0.4 * 20.0)
    assert effect.shares_after == 0


def test_actions_on_symbols_not_held_change_nothing():
    state = PortfolioState(cash=5.0, positions={"BBB": 1})
    action = CorporateAction(symbol="AAA", ex_date=EX, split_ratio=2.0, dividend=1.0)
    assert apply_corporate_actions(state, {"AAA": action}, {"AAA": 9.0}) == (state, ())
