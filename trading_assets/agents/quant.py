"""Built-in quant agents: buy_and_hold, sma_crossover, bollinger.

Each emits a quant-lane signal per symbol through the merge kernel (no LLM lane by
design, so the result is not degraded) and orders for the next fill at today's open.
"""

from __future__ import annotations

import math
from typing import ClassVar

from pydantic import Field, model_validator

from trading_assets.agents.base import NO_DECISION, AgentContext, AgentParams, Decision, Signal
from trading_assets.kernel.merge import LaneSignal, merge
from trading_assets.market.view import PointInTimeView
from trading_assets.portfolio.orders import Order
from trading_assets.portfolio.step import PortfolioState


def quant_signal(
    symbol: str, direction: int, confidence: float, reasoning: str | None, merge_fn=merge
) -> Signal:
    lane = LaneSignal(source="quant", direction=direction, confidence=confidence)
    return Signal(symbol=symbol, merged=merge_fn(lane, None), reasoning=reasoning)


def kernel_merge(context: AgentContext):
    """The merge kernel resource's merge when one is configured, else the pure default."""
    kernel = context.services.get("merge_kernel")
    return kernel.merge if kernel is not None else merge


class BuyAndHold:
    """Spend the cash equally across the universe, each symbol from the open of its first
    listed day, then hold. On each day, the symbols not held yet share `fraction` of the
    cash equally; a listed one is bought with its part, one not listed yet keeps its part
    in cash and gets a HOLD signal saying so (GOOG in the demo until 2004-08-19)."""

    name: ClassVar[str] = "buy_and_hold"

    class Params(AgentParams):
        fraction: float = Field(0.99, gt=0, le=1, description="share of cash to invest")

    def __init__(self, params: Params, context: AgentContext):
        self.params = params
        self._merge = kernel_merge(context)
        self.universe = context.universe

    def decide(self, view: PointInTimeView, portfolio: PortfolioState) -> Decision:
        waiting = [s for s in self.universe if not portfolio.shares(s)]
        if not waiting:
            return NO_DECISION
        budget = portfolio.cash * self.params.fraction / len(waiting)
        orders, signals = [], []
        for symbol in waiting:
            listing = view.listing(symbol)
            if listing != "listed":
                why = f"{listing.replace('_', ' ')}: its share of the cash waits"
                signals.append(quant_signal(symbol, 0, 0.0, why, self._merge))
                continue
            price = view.open(symbol)
            if price > 0:
                shares = math.floor(budget / price)
                if shares:
                    orders.append(Order(symbol, "buy", shares))
                    signals.append(quant_signal(symbol, 1, 1.0, "initial allocation", self._merge))
        return Decision(tuple(orders), tuple(signals))


class SmaCrossover:
    """Buy `size` shares when the fast SMA of closes crosses above the slow one (if flat);
    sell the whole position when it crosses below. Crosses are seen at D-1's close and
    traded at D's open. A cross is backtrader 1.9.78's CrossOver: the averages are
    math.fsum means, and a day on which they tie exactly carries the last non-zero
    difference before it (so down, tie, up is one cross up, on the day it goes up)."""

    name: ClassVar[str] = "sma_crossover"

    class Params(AgentParams):
        fast: int = Field(10, ge=1)
        slow: int = Field(30, ge=2)
        size: int = Field(100, ge=1)

        @model_validator(mode="after")
        def _fast_below_slow(self) -> SmaCrossover.Params:
            if self.fast >= self.slow:
                raise ValueError(f"fast ({self.fast}) must be smaller than slow ({self.slow})")
            return self

    def __init__(self, params: Params, context: AgentContext):
        self.params = params
        self._merge = kernel_merge(context)

    def decide(self, view: PointInTimeView, portfolio: PortfolioState) -> Decision:
        p = self.params
        held_by_symbol = portfolio.positions
        orders, signals = [], []
        for symbol, cross in zip(view.symbols, view.crossover_row(p.fast, p.slow), strict=True):
            held = held_by_symbol.get(symbol, 0)
            if cross > 0:  # NaN (not enough history yet) compares False
                signals.append(
                    quant_signal(symbol, 1, 1.0, "fast SMA crossed above slow SMA", self._merge)
                )
                if held == 0:
                    orders.append(Order(symbol, "buy", p.size))
            elif cross < 0:
                signals.append(
                    quant_signal(symbol, -1, 1.0, "fast SMA crossed below slow SMA", self._merge)
                )
                if held > 0:
                    orders.append(Order(symbol, "sell", held))
        return Decision(tuple(orders), tuple(signals))


class Bollinger:
    """Mean reversion: buy `size` when the last close is below the lower band (if flat),
    sell everything when it is back above the middle band. Confidence grows with the
    distance from the band, in standard deviations."""

    name: ClassVar[str] = "bollinger"

    class Params(AgentParams):
        window: int = Field(20, ge=2)
        k: float = Field(2.0, gt=0)
        size: int = Field(100, ge=1)

    def __init__(self, params: Params, context: AgentContext):
        self.params = params
        self._merge = kernel_merge(context)

    def decide(self, view: PointInTimeView, portfolio: PortfolioState) -> Decision:
        p = self.params
        orders, signals = [], []
        mids, stds = view.sma_row(p.window), view.rolling_std_row(p.window)
        closes = view.last_close_row()
        for j, symbol in enumerate(view.symbols):
            mid, std, close = mids[j], stds[j], closes[j]
            if math.isnan(mid) or math.isnan(close) or not std > 0:
                continue
            z = (close - mid) / std
            confidence = min(abs(z) / (2 * p.k), 1.0)
            held = portfolio.shares(symbol)
            if z < -p.k:
                signals.append(
                    quant_signal(symbol, 1, confidence, f"close {z:.2f} sd below mean", self._merge)
                )
                if held == 0:
                    orders.append(Order(symbol, "buy", p.size))
            elif z > 0 and held > 0:
                signals.append(
                    quant_signal(symbol, -1, confidence, "close back above the mean", self._merge)
                )
                orders.append(Order(symbol, "sell", held))
        return Decision(tuple(orders), tuple(signals))
