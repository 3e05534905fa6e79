"""The pure daily portfolio step and its cost models (metrics: test_analytics_metrics.py).

`step` is checked against a naive reference written here straight from its contract
(portfolio/step.py docstring): orders fill in sequence at the open (after slippage),
whole shares, no shorting, cash never negative, and each rejection has its reason.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_assets.config import CommissionConfig, FeesConfig
from trading_assets.engine.fees import fees_from_config
from trading_assets.portfolio.costs import (
    FixedBpsSlippage,
    NoCommission,
    NoSlippage,
    PercentCommission,
    PerShareCommission,
)
from trading_assets.portfolio.orders import (
    INSUFFICIENT_CASH,
    INSUFFICIENT_SHARES,
    INVALID_QUANTITY,
    NO_PRICE,
    UNKNOWN_SYMBOL,
    Order,
    OrderResult,
)
from trading_assets.portfolio.step import NO_FEES, Fees, PortfolioState, step

# -- the naive reference ---------------------------------------------------------------


def reference_step(state: PortfolioState, orders, opens, fees: Fees):
    """The contract, one rule per line, no shared helpers with the real step."""
    cash = state.cash
    positions = dict(state.positions)
    results = []
    for order in orders:
        q = order.quantity
        if q == 0:
            results.append(OrderResult(order, "noop"))
            continue
        if q < 0:
            results.append(OrderResult(order, "rejected", reason=INVALID_QUANTITY))
            continue
        if order.symbol not in opens:
            results.append(OrderResult(order, "rejected", reason=UNKNOWN_SYMBOL))
            continue
        open_price = opens[order.symbol]
        if math.isnan(open_price) or math.isinf(open_price) or open_price <= 0:
            results.append(OrderResult(order, "rejected", reason=NO_PRICE))
            continue
        price = fees.slippage.fill_price(order.side, open_price)
        commission = fees.commission.cost(q, price)
        if order.side == "buy":
            if cash - (price * q + commission) < 0:
                results.append(OrderResult(order, "rejected", reason=INSUFFICIENT_CASH))
                continue
            cash = cash - (price * q + commission)
            positions[order.symbol] = positions.get(order.symbol, 0) + q
        else:
            if q > positions.get(order.symbol, 0):
                results.append(OrderResult(order, "rejected", reason=INSUFFICIENT_SHARES))
                continue
            if cash + (price * q - commission) < 0:
                results.append(OrderResult(order, "rejected", reason=INSUFFICIENT_CASH))
                continue
            cash = cash + (price * q - commission)
            positions[order.symbol] -= q
            if positions[order.symbol] == 0:
                del positions[order.symbol]
        results.append(OrderResult(order, "filled", price=price, commission=commission))
    return PortfolioState(cash=cash, positions=positions), tuple(results)


# -- strategies ------------------------------------------------------------------------

OPENS = {"A": 10.0, "B": 123.45, "C": float("nan"), "D": 0.0, "E": float("inf")}
SYMBOLS = st.sampled_from([*OPENS, "ZZZ"])  # ZZZ: not in the day's prices
ORDERS = st.lists(
    st.builds(
        Order,
        symbol=SYMBOLS,
        side=st.sampled_from(["buy", "sell"]),
        quantity=st.integers(-3, 400),
    ),
    max_size=12,
)
STATES = st.builds(
    PortfolioState,
    cash=st.one_of(st.just(0.0), st.floats(0, 50_000, allow_nan=False)),
    positions=st.dictionaries(st.sampled_from(["A", "B", "C", "D"]), st.integers(1, 300)),
)
COMMISSIONS = st.one_of(
    st.just(NoCommission()),
    st.builds(
        PerShareCommission,
        per_share=st.floats(0, 0.05, allow_nan=False),
        minimum=st.floats(0, 5, allow_nan=False),
    ),
    st.builds(PercentCommission, rate=st.floats(0, 0.01, allow_nan=False)),
)
SLIPPAGES = st.one_of(
    st.just(NoSlippage()), st.builds(FixedBpsSlippage, bps=st.floats(0, 200, allow_nan=False))
)
FEES = st.one_of(st.just(NO_FEES), st.builds(Fees, commission=COMMISSIONS, slippage=SLIPPAGES))

PROPERTY = settings(max_examples=150, deadline=None, derandomize=True)


# -- properties ------------------------------------------------------------------------


@PROPERTY
@given(state=STATES, orders=ORDERS, fees=FEES)
def test_step_with_any_orders_matches_naive_reference(state, orders, fees):
    assert step(state, orders, OPENS, fees) == reference_step(state, orders, OPENS, fees)


@PROPERTY
@given(state=STATES, orders=ORDERS, fees=FEES)
def test_step_with_same_inputs_is_deterministic_and_leaves_input_alone(state, orders, fees):
    before = dict(state.positions), state.cash
    first = step(state, orders, OPENS, fees)
    second = step(state, orders, OPENS, fees)
    assert first == second
    assert (dict(state.positions), state.cash) == before


@PROPERTY
@given(state=STATES, orders=ORDERS, fees=FEES)
def test_step_with_any_orders_keeps_cash_and_positions_non_negative(state, orders, fees):
    after, _ = step(state, orders, OPENS, fees)
    assert after.cash >= 0
    assert all(isinstance(q, int) and q > 0 for q in after.positions.values())


@PROPERTY
@given(state=STATES, orders=ORDERS, fees=FEES)
def test_step_with_rejected_orders_removed_gives_same_state(state, orders, fees):
    after, results = step(state, orders, OPENS, fees)
    kept = [r.order for r in results if r.status == "filled"]
    again, kept_results = step(state, kept, OPENS, fees)
    assert again == after
    assert kept_results == tuple(r for r in results if r.status == "filled")
    for r in results:
        if r.status != "filled":
            assert r.price is None and r.commission == 0.0
        if r.status == "rejected":
            assert r.reason in {
                INSUFFICIENT_CASH,
                INSUFFICIENT_SHARES,
                NO_PRICE,
                UNKNOWN_SYMBOL,
                INVALID_QUANTITY,
            }


@PROPERTY
@given(state=STATES, orders=ORDERS, fees=FEES)
def test_step_with_fills_conserves_cash(state, orders, fees):
    after, results = step(state, orders, OPENS, fees)
    filled = [r for r in results if r.status == "filled"]
    bought = sum(r.price * r.order.quantity for r in filled if r.order.side == "buy")
    sold = sum(r.price * r.order.quantity for r in filled if r.order.side == "sell")
    commissions = sum(r.commission for r in filled)
    assert after.cash == pytest.approx(state.cash - bought + sold - commissions, rel=1e-9, abs=1e-6)
    for symbol in {r.order.symbol for r in filled}:
        delta = sum(
            r.order.quantity * (1 if r.order.side == "buy" else -1)
            for r in filled
            if r.order.symbol == symbol
        )
        assert after.shares(symbol) == state.shares(symbol) + delta


def test_step_with_exact_float_sequence_matches_ops_in_order():
    state = PortfolioState(cash=1000.0, positions={"B": 3})
    orders = [Order("A", "buy", 7), Order("B", "sell", 3), Order("A", "buy", 1)]
    fees = Fees(PercentCommission(0.001), FixedBpsSlippage(10))
    after, _ = step(state, orders, OPENS, fees)
    buy = 10.0 * (1 + 10 / 10_000.0)
    sell = 123.45 * (1 - 10 / 10_000.0)
    cash = 1000.0
    cash = cash - (buy * 7 + 0.001 * 7 * buy)
    cash = cash + (sell * 3 - 0.001 * 3 * sell)
    cash = cash - (buy * 1 + 0.001 * 1 * buy)
    assert after.cash == cash
    assert after.positions == {"A": 8}


# -- rejections, one reason each -----------------------------------------------------


@pytest.mark.parametrize(
    ("state", "order", "opens", "reason"),
    [
        (PortfolioState(100.0), Order("A", "buy", 11), {"A": 10.0}, INSUFFICIENT_CASH),
        (PortfolioState(100.0, {"A": 2}), Order("A", "sell", 3), {"A": 10.0}, INSUFFICIENT_SHARES),
        (PortfolioState(100.0), Order("A", "sell", 1), {"A": 10.0}, INSUFFICIENT_SHARES),
        (PortfolioState(100.0), Order("A", "buy", 1), {"A": float("nan")}, NO_PRICE),
        (PortfolioState(100.0), Order("A", "buy", 1), {"A": 0.0}, NO_PRICE),
        (PortfolioState(100.0), Order("A", "buy", 1), {"A": -5.0}, NO_PRICE),
        (PortfolioState(100.0, {"A": 1}), Order("A", "sell", 1), {"A": math.inf}, NO_PRICE),
        (PortfolioState(100.0), Order("A", "buy", 1), {"B": 10.0}, UNKNOWN_SYMBOL),
        (PortfolioState(100.0, {"A": 5}), Order("A", "sell", -1), {"A": 10.0}, INVALID_QUANTITY),
        (PortfolioState(100.0), Order("A", "short", 1), {"A": 10.0}, INVALID_QUANTITY),  # type: ignore[arg-type]
    ],
)
def test_step_with_bad_order_rejects_with_reason_and_changes_nothing(state, order, opens, reason):
    after, (result,) = step(state, [order], opens)
    assert result.status == "rejected"
    assert result.reason == reason
    assert result.price is None
    assert after == state


@pytest.mark.parametrize("opens", [{"A": 10.0}, {"A": float("nan")}, {}])
def test_step_with_quantity_zero_is_noop(opens):
    state = PortfolioState(50.0, {"A": 1})
    after, (result,) = step(state, [Order("A", "buy", 0)], opens)
    assert result == OrderResult(Order("A", "buy", 0), "noop")
    assert after == state


def test_step_with_no_orders_returns_same_state():
    state = PortfolioState(50.0, {"A": 1})
    assert step(state, [], {"A": 1.0}) == (state, ())


def test_step_with_buy_of_all_cash_fills_to_exactly_zero():
    after, (result,) = step(PortfolioState(1000.0), [Order("A", "buy", 100)], {"A": 10.0})
    assert result.status == "filled" and result.price == 10.0
    assert after == PortfolioState(0.0, {"A": 100})


def test_step_with_sell_then_buy_uses_proceeds_in_order():
    state = PortfolioState(0.0, {"A": 10})
    orders = [Order("A", "sell", 10), Order("B", "buy", 5)]
    after, results = step(state, orders, {"A": 10.0, "B": 20.0})
    assert [r.status for r in results] == ["filled", "filled"]
    assert after == PortfolioState(0.0, {"B": 5})
    reversed_after, reversed_results = step(state, orders[::-1], {"A": 10.0, "B": 20.0})
    assert reversed_results[0].reason == INSUFFICIENT_CASH
    assert reversed_after == PortfolioState(100.0, {})


def test_step_with_full_sell_removes_the_position():
    after, _ = step(PortfolioState(0.0, {"A": 4, "B": 1}), [Order("A", "sell", 4)], {"A": 2.5})
    assert after.positions == {"B": 1}
    assert after.cash == 10.0


def test_step_with_commission_exceeding_cash_rejects_buy_that_fits_without_it():
    fees = Fees(commission=PerShareCommission(0.0, minimum=1.0))
    after, (result,) = step(PortfolioState(1000.0), [Order("A", "buy", 100)], {"A": 10.0}, fees)
    assert result.reason == INSUFFICIENT_CASH
    assert after == PortfolioState(1000.0)


def test_step_with_commission_above_cash_and_proceeds_rejects_sell():
    fees = Fees(commission=PerShareCommission(0.0, minimum=1.0))
    state = PortfolioState(0.25, {"A": 1})
    after, (result,) = step(state, [Order("A", "sell", 1)], {"A": 0.5}, fees)
    assert result.reason == INSUFFICIENT_CASH
    assert after == state


def test_step_with_commission_equal_to_rounded_cash_plus_proceeds_keeps_cash_non_negative():
    # fl(0.1 + 0.2) == 0.30000000000000004 passes the check; 0.1 + (0.2 - 0.30000000000000004)
    # is -2.8e-17.
    fees = Fees(commission=PerShareCommission(0.0, minimum=0.1 + 0.2))
    after, (result,) = step(
        PortfolioState(0.1, {"A": 1}), [Order("A", "sell", 1)], {"A": 0.2}, fees
    )
    assert after.cash >= 0, f"{result.status}: cash {after.cash!r}"


def test_step_with_fractional_quantity_rejects_invalid_quantity():
    after, (result,) = step(PortfolioState(100.0), [Order("A", "buy", 1.5)], {"A": 10.0})  # type: ignore[arg-type]
    assert result.reason == INVALID_QUANTITY
    assert after == PortfolioState(100.0)


def test_step_with_numpy_integer_quantity_fills_whole_shares():
    after, (result,) = step(PortfolioState(100.0), [Order("A", "buy", np.int64(3))], {"A": 10.0})
    assert result.status == "filled"
    assert after == PortfolioState(70.0, {"A": 3})


# -- cost models -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantity", "expected"), [(1, 1.0), (100, 1.0), (200, 1.0), (201, 1.005), (1000, 5.0)]
)
def test_per_share_commission_with_minimum_charges_the_larger(quantity, expected):
    assert PerShareCommission(0.005, minimum=1.0).cost(quantity, 50.0) == pytest.approx(expected)


def test_percent_commission_with_rate_charges_fraction_of_traded_value():
    assert PercentCommission(0.001).cost(10, 50.0) == pytest.approx(0.5)
    assert PercentCommission(0.0).cost(10, 50.0) == 0.0


def test_fixed_bps_slippage_with_side_moves_price_against_the_trader():
    slip = FixedBpsSlippage(25)
    assert slip.fill_price("buy", 100.0) == pytest.approx(100.25)
    assert slip.fill_price("sell", 100.0) == pytest.approx(99.75)
    assert FixedBpsSlippage(0).fill_price("buy", 100.0) == 100.0


def test_default_cost_models_with_any_trade_cost_nothing():
    assert NoCommission().cost(1000, 99.0) == 0.0
    assert NoSlippage().fill_price("sell", 99.0) == 99.0


def test_step_with_slippage_and_commission_fills_at_adjusted_price():
    fees = Fees(PerShareCommission(0.01, minimum=1.0), FixedBpsSlippage(25))
    after, (result,) = step(PortfolioState(10_000.0), [Order("A", "buy", 10)], {"A": 100.0}, fees)
    assert result.price == pytest.approx(100.25)
    assert result.commission == 1.0
    assert after.cash == pytest.approx(10_000.0 - 1002.5 - 1.0)
    after, (result,) = step(after, [Order("A", "sell", 10)], {"A": 100.0}, fees)
    assert result.price == pytest.approx(99.75)
    assert after.cash == pytest.approx(10_000.0 - 1002.5 - 1.0 + 997.5 - 1.0)
    assert after.positions == {}


@pytest.mark.parametrize(
    ("config", "commission", "slippage"),
    [
        (FeesConfig(), NoCommission(), NoSlippage()),
        (FeesConfig(commission=CommissionConfig(rate=0.001)), PercentCommission(0.001), None),
        (
            FeesConfig(commission=CommissionConfig(per_share=0.005, minimum=1.0)),
            PerShareCommission(0.005, 1.0),
            None,
        ),
        (FeesConfig(slippage_bps=5), NoCommission(), FixedBpsSlippage(5)),
    ],
)
def test_fees_from_config_with_section_builds_matching_models(config, commission, slippage):
    fees = fees_from_config(config)
    assert fees.commission == commission
    assert fees.slippage == (slippage or NoSlippage())


# -- valuation ------------------------------------------------------------------------


def test_portfolio_value_with_positions_is_cash_plus_shares_times_close():
    state = PortfolioState(100.0, {"A": 3, "B": 2})
    assert state.value({"A": 10.0, "B": 2.5, "C": 99.0}) == 135.0
