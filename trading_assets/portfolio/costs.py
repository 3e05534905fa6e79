"""Commission and slippage: one-method models with do-nothing defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from trading_assets.portfolio.orders import Side


class CommissionModel(Protocol):
    def cost(self, quantity: int, price: float) -> float: ...


class SlippageModel(Protocol):
    def fill_price(self, side: Side, price: float) -> float: ...


@dataclass(frozen=True, slots=True)
class NoCommission:
    def cost(self, quantity: int, price: float) -> float:
        return 0.0


@dataclass(frozen=True, slots=True)
class PerShareCommission:
    per_share: float
    minimum: float = 0.0

    def cost(self, quantity: int, price: float) -> float:
        return max(self.per_share * quantity, self.minimum)


@dataclass(frozen=True, slots=True)
class PercentCommission:
    rate: float  # fraction of traded value, e.g. 0.001 = 10 bps

    def cost(self, quantity: int, price: float) -> float:
        return self.rate * quantity * price


@dataclass(frozen=True, slots=True)
class NoSlippage:
    def fill_price(self, side: Side, price: float) -> float:
        return price


@dataclass(frozen=True, slots=True)
class FixedBpsSlippage:
    """Buys fill `bps` basis points above the open, sells below."""

    bps: float

    def fill_price(self, side: Side, price: float) -> float:
        sign = 1.0 if side == "buy" else -1.0
        return price * (1.0 + sign * self.bps / 10_000.0)
