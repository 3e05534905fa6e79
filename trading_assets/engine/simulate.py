"""Walk one model's days: view -> agent -> step -> valuation, without I/O.

A day starts from the previous day's end state. The first failed day stops the walk
(the chain after it would rest on a state nobody trusts); everything before it is
returned so the caller can store it and nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from trading_assets.agents.base import Agent, Signal
from trading_assets.errors import MarketDataError, TradingAssetsError
from trading_assets.market.history import PriceHistory
from trading_assets.market.view import PointInTimeView
from trading_assets.portfolio.orders import OrderResult
from trading_assets.portfolio.step import NO_FEES, Fees, PortfolioState, step


@dataclass(frozen=True, slots=True)
class DayResult:
    date: dt.date
    state: PortfolioState
    orders: tuple[OrderResult, ...]
    signals: tuple[Signal, ...]
    closes: dict[str, float]  # valuation price per held symbol
    positions_value: float
    value: float
    daily_return: float
    stale_symbols: tuple[str, ...] = ()  # valued at an older close: the day's close is missing
    error: TradingAssetsError | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def degraded(self) -> bool:
        return bool(self.stale_symbols) or any(s.merged.degraded for s in self.signals)


@dataclass(frozen=True, slots=True)
class StartState:
    state: PortfolioState
    value: float  # the previous day's end value (initial cash on a fresh start)


def simulate(
    agent: Agent,
    history: PriceHistory,
    dates: Sequence[dt.date],
    start: StartState,
    fees: Fees = NO_FEES,
) -> Iterator[DayResult]:
    """Yield one DayResult per date, in order; stop after the first failed day."""
    state, prev_value = start.state, start.value
    filled_close = forward_filled_closes(history)
    close = history.close
    for date in dates:
        try:
            view = PointInTimeView(history, date)
            decision = agent.decide(view, state)
            opens = {
                o.symbol: view.open(o.symbol)
                for o in decision.orders
                if o.symbol in history.symbols
            }
            state, results = step(state, decision.orders, opens, fees)
            row = history.index_of(date)
            closes, stale, positions_value = {}, [], 0.0
            if state.positions:
                filled_row, close_row = filled_close[row].tolist(), close[row].tolist()
            for symbol, shares in state.positions.items():
                col = history.symbol_index(symbol)
                price = filled_row[col]
                if math.isnan(price):
                    raise MarketDataError(
                        f"no close for held symbol {symbol} on or before {date}",
                        where=f"partition {date}",
                        fix="add the missing prices to the market data and re-run this day",
                    )
                if math.isnan(close_row[col]):
                    stale.append(symbol)
                closes[symbol] = price
                positions_value += shares * price
        except TradingAssetsError as exc:
            yield _failed(date, state, prev_value, exc)
            return
        except Exception as exc:  # an agent bug must not take the stored history with it
            err = TradingAssetsError(
                f"{type(exc).__name__}: {exc}",
                where=f"agent on {date}",
                fix="fix the agent and re-run from this day",
            )
            yield _failed(date, state, prev_value, err)
            return
        value = state.cash + positions_value
        daily_return = value / prev_value - 1.0 if prev_value else 0.0
        yield DayResult(
            date,
            state,
            results,
            decision.signals,
            closes,
            positions_value,
            value,
            daily_return,
            tuple(stale),
        )
        prev_value = value


def _failed(
    date: dt.date, state: PortfolioState, prev_value: float, error: TradingAssetsError
) -> DayResult:
    return DayResult(date, state, (), (), {}, prev_value - state.cash, prev_value, 0.0, (), error)


def forward_filled_closes(history: PriceHistory) -> np.ndarray:
    """Closes with each gap filled by the last earlier close (cached per history)."""
    key = ("close", "ffill")
    if key not in history.cache:
        closes = history.close
        idx = np.where(~np.isnan(closes), np.arange(len(closes))[:, None], 0)
        np.maximum.accumulate(idx, axis=0, out=idx)
        filled = closes[idx, np.arange(closes.shape[1])]
        filled.setflags(write=False)
        history.cache[key] = filled
    return history.cache[key]
