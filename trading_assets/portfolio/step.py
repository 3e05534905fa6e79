"""The pure daily step: state(D-1) + orders(D) -> state(D).

Contract (the legacy rules, plus optional costs):
- orders fill in the given order at D's open, adjusted by the slippage model, and
  capped to D's low..high range when the caller gives it (as backtrader caps a fill at
  the bar): slippage never fills a buy above the day's high or a sell below its low;
- whole shares only; quantity 0 is a no-op; a negative quantity is rejected;
- no shorting: a sell of more shares than held is rejected (insufficient_shares);
- cash never goes negative: a buy whose cost plus commission exceeds cash is rejected
  (insufficient_cash); a symbol with no open price is rejected (no_price);
- a symbol the caller marks untradable (not listed yet, delisted) is rejected with the
  reason given (not_listed, delisted);
- valuation is cash + sum(shares x D's close).
No I/O, no clock: the same inputs always give the same state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from trading_assets.portfolio.costs import CommissionModel, NoCommission, NoSlippage, SlippageModel
from trading_assets.portfolio.orders import (
    INSUFFICIENT_CASH,
    INSUFFICIENT_SHARES,
    INVALID_QUANTITY,
    NO_PRICE,
    UNKNOWN_SYMBOL,
    Order,
    OrderResult,
)


@dataclass(frozen=True, slots=True)
class PortfolioState:
    cash: float
    positions: Mapping[str, int] = field(default_factory=dict)  # symbol -> shares (> 0 only)

    def shares(self, symbol: str) -> int:
        return self.positions.get(symbol, 0)

    def value(self, closes: Mapping[str, float]) -> float:
        return self.cash + sum(q * closes[s] for s, q in self.positions.items())


@dataclass(frozen=True, slots=True)
class Fees:
    commission: CommissionModel = field(default_factory=NoCommission)
    slippage: SlippageModel = field(default_factory=NoSlippage)


NO_FEES = Fees()


def step(
    state: PortfolioState,
    orders: Sequence[Order],
    opens: Mapping[str, float],
    fees: Fees = NO_FEES,
    untradable: Mapping[str, str] | None = None,
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[PortfolioState, tuple[OrderResult, ...]]:
    """Fill `orders` at the open; return the end-of-day state and one result per order.
    `untradable` maps a symbol that cannot trade today to its rejection reason; `ranges`
    maps a symbol to its (low, high) of the day, the bounds of a fill price (a NaN bound
    is no bound)."""
    if not orders:
        return state, ()
    cash = state.cash
    positions = dict(state.positions)
    results = []
    for order in orders:
        reason = untradable.get(order.symbol) if untradable else None
        if reason is not None and order.quantity:
            result = OrderResult(order, "rejected", reason=reason)
        else:
            bounds = ranges.get(order.symbol) if ranges else None
            result = _fill(order, cash, positions.get(order.symbol, 0), opens, fees, bounds)
        cash = apply_fill(result, cash, positions)
        results.append(result)
    return PortfolioState(cash=cash, positions=positions), tuple(results)


def apply_fill(result: OrderResult, cash: float, positions: dict[str, int]) -> float:
    """Book one order's result: update `positions` in place and return the cash after it.

    The one home of the fill arithmetic (the legacy dual write replays a day with it, so
    its per-order states end in exactly the engine's floats). Not filled: no change.
    """
    if result.status != "filled":
        return cash
    order = result.order
    left = positions.get(order.symbol, 0) + (
        order.quantity if order.side == "buy" else -order.quantity
    )
    if left:
        positions[order.symbol] = left
    else:
        del positions[order.symbol]
    return _cash_after(order, cash, result.price, result.commission)


def _fill(
    order: Order,
    cash: float,
    held: int,
    opens: Mapping[str, float],
    fees: Fees,
    bounds: tuple[float, float] | None = None,
) -> OrderResult:
    if order.quantity == 0:
        return OrderResult(order, "noop")
    if (
        order.quantity < 0
        or order.quantity != int(order.quantity)
        or order.side
        not in (
            "buy",
            "sell",
        )
    ):
        return OrderResult(order, "rejected", reason=INVALID_QUANTITY)
    if order.symbol not in opens:
        return OrderResult(order, "rejected", reason=UNKNOWN_SYMBOL)
    open_price = opens[order.symbol]
    if not (open_price > 0) or math.isinf(open_price):  # NaN fails the comparison
        return OrderResult(order, "rejected", reason=NO_PRICE)
    price = _within(fees.slippage.fill_price(order.side, open_price), bounds)
    commission = fees.commission.cost(order.quantity, price)
    if order.side == "sell" and order.quantity > held:
        return OrderResult(order, "rejected", reason=INSUFFICIENT_SHARES)
    # the same expression as the update in step(), so rounding cannot sneak cash below 0
    if _cash_after(order, cash, price, commission) < 0:
        return OrderResult(order, "rejected", reason=INSUFFICIENT_CASH)
    return OrderResult(order, "filled", price=price, commission=commission)


def _within(price: float, bounds: tuple[float, float] | None) -> float:
    """`price` capped to the day's (low, high); a missing (NaN) bound does not cap."""
    if bounds is None:
        return price
    low, high = bounds
    if high == high and price > high:  # NaN != NaN
        return high
    if low == low and price < low:
        return low
    return price


def _cash_after(order: Order, cash: float, price: float, commission: float) -> float:
    notional = price * order.quantity
    return cash - (notional + commission) if order.side == "buy" else cash + (notional - commission)
