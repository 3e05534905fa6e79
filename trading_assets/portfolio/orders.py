"""Orders and what became of them (the blotter's vocabulary)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Side = Literal["buy", "sell"]
OrderStatus = Literal["filled", "rejected", "noop"]

# Rejection reasons, stored verbatim in the `orders.reason` column.
INSUFFICIENT_CASH = "insufficient_cash"
INSUFFICIENT_SHARES = "insufficient_shares"
NO_PRICE = "no_price"
UNKNOWN_SYMBOL = "unknown_symbol"
INVALID_QUANTITY = "invalid_quantity"
NOT_LISTED = "not_listed"  # no price yet: before the symbol's first bar
DELISTED = "delisted"  # no price any more: after the symbol's last bar


@dataclass(frozen=True, slots=True)
class Order:
    """Buy or sell `quantity` whole shares of `symbol` at the day's open."""

    symbol: str
    side: Side
    quantity: int


@dataclass(frozen=True, slots=True)
class OrderResult:
    order: Order
    status: OrderStatus
    price: float | None = None  # fill price after slippage (None when not filled)
    commission: float = 0.0
    reason: str | None = None
