"""A day's fills at its open from a point-in-time view: the one rule the engine applies
and the llm_trader's buy/sell tools quote, so what a tool confirms is what is filled.

The opens are the view's (in D's shares); a symbol outside the history is left without
a price (`step` rejects it as unknown_symbol), and one not listed on D is rejected with
not_listed / delisted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from trading_assets.market.view import PointInTimeView
from trading_assets.portfolio.orders import DELISTED, NOT_LISTED, Order, OrderResult
from trading_assets.portfolio.step import NO_FEES, Fees, PortfolioState, step

_UNTRADABLE = {"listed": None, "not_listed": NOT_LISTED, "delisted": DELISTED}


def fill_at_open(
    view: PointInTimeView,
    state: PortfolioState,
    orders: Sequence[Order],
    fees: Fees = NO_FEES,
    ranges: Mapping[str, tuple[float, float]] | None = None,
) -> tuple[PortfolioState, tuple[OrderResult, ...]]:
    """`step` with the view's opens and listings for the ordered symbols; `ranges`: the
    day's (low, high) per symbol that caps a slipped fill (the engine's, never a view's)."""
    known = {o.symbol for o in orders if o.symbol in view.symbols}
    opens = {s: view.open(s) for s in known}
    untradable = {s: r for s in known if (r := _UNTRADABLE[view.listing(s)])}
    return step(state, orders, opens, fees, untradable, ranges)
