"""Walk one model's days: corporate actions -> view -> agent -> step -> valuation, no I/O.

A day starts from the previous day's end state. With corporate actions applied (the
default), the day's splits and dividends (`history.actions`, ex-dates since the
previous bar) change holdings and cash before the open, and are recorded on the day's
result; agents then see split-adjusted history (market/view.py) and order in the day's
shares. With `ignore` (or a source without corporate actions) prices are raw and
nothing happens on an ex-date. An order for a symbol that is not listed that day
(before its first bar, after its last) is rejected as not_listed / delisted.

The first failed day stops the walk (the chain after it would rest on a state nobody
trusts); everything before it is returned so the caller can store it and nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from trading_assets.agents.base import Agent, Signal
from trading_assets.config import CorporateActionsMode
from trading_assets.errors import MarketDataError, TradingAssetsError
from trading_assets.market.history import PriceHistory
from trading_assets.market.view import PointInTimeView
from trading_assets.portfolio.actions import ActionEffect, apply_corporate_actions
from trading_assets.portfolio.fills import fill_at_open
from trading_assets.portfolio.orders import OrderResult
from trading_assets.portfolio.step import NO_FEES, Fees, PortfolioState


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
    # what the day's splits and dividends did to the holdings, before the open
    actions: tuple[ActionEffect, ...] = ()
    # listed symbols of the universe without a close today: the day ran on partial data
    missing_symbols: tuple[str, ...] = ()
    # the agent's own reasons the day is degraded (Decision.reason_codes)
    reason_codes: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def degraded(self) -> bool:
        return (
            bool(self.stale_symbols)
            or bool(self.missing_symbols)
            or bool(self.reason_codes)
            or any(s.merged.degraded for s in self.signals)
        )


@dataclass(frozen=True, slots=True)
class StartState:
    state: PortfolioState
    value: float  # the previous day's end value (initial cash on a fresh start)
    peak: float | None = None  # highest stored end value before the day; None: none stored


def simulate(
    agent: Agent,
    history: PriceHistory,
    dates: Sequence[dt.date],
    start: StartState,
    fees: Fees = NO_FEES,
    corporate_actions: CorporateActionsMode = "apply",
) -> Iterator[DayResult]:
    """Yield one DayResult per date, in order; stop after the first failed day."""
    if corporate_actions == "ignore":
        history = history.with_actions(None)
    state, prev_value = start.state, start.value
    prev_date: dt.date | None = None
    for date in dates:
        effects: tuple[ActionEffect, ...] = ()
        try:
            row = history.index_of(date)
            state, effects = _apply_actions(history, row, state, prev_date)
            view = PointInTimeView(history, date)
            decision = agent.decide(view, state)
            state, results = fill_at_open(view, state, decision.orders, fees)
            closes, stale, positions_value = _valuation(history, row, date, state)
        except TradingAssetsError as exc:
            yield _failed(date, state, prev_value, exc, effects)
            return
        except Exception as exc:  # an agent bug must not take the stored history with it
            err = TradingAssetsError(
                f"{type(exc).__name__}: {exc}",
                where=f"agent on {date}",
                fix="fix the agent and re-run from this day",
            )
            yield _failed(date, state, prev_value, err, effects)
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
            stale,
            actions=effects,
            missing_symbols=_missing_bars(history, row),
            reason_codes=decision.reason_codes,
        )
        prev_value, prev_date = value, date


def _apply_actions(
    history: PriceHistory, row: int, state: PortfolioState, after: dt.date | None
) -> tuple[PortfolioState, tuple[ActionEffect, ...]]:
    """The splits and dividends with ex-date in (after, D], before D's open. `after` is
    the previous simulated day (None: the bar before D, or just D on the first bar)."""
    if history.actions is None or not state.positions:
        return state, ()
    if after is None:
        after = history.dates[row - 1] if row else history.dates[0] - dt.timedelta(days=1)
    pending = history.actions.between(after, history.dates[row])
    if not pending:
        return state, ()
    symbols = history.symbols
    prev = forward_filled_closes(history)[row - 1].tolist() if row else [math.nan] * len(symbols)
    prev_closes = dict(zip(symbols, prev, strict=True))
    opens = dict(zip(symbols, history.open[row].tolist(), strict=True))
    effects: list[ActionEffect] = []
    for todays in pending:
        state, done = apply_corporate_actions(state, todays, prev_closes, opens)
        effects += done
    return state, tuple(effects)


def _valuation(
    history: PriceHistory, row: int, date: dt.date, state: PortfolioState
) -> tuple[dict[str, float], tuple[str, ...], float]:
    """Close per held symbol (the last earlier close when today's is missing: stale)."""
    closes, stale, positions_value = {}, [], 0.0
    if not state.positions:
        return closes, (), positions_value
    filled_row, close_row = (
        forward_filled_closes(history)[row].tolist(),
        history.close[row].tolist(),
    )
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
    return closes, tuple(stale), positions_value


def failed_start(date: dt.date, start: StartState, error: TradingAssetsError) -> DayResult:
    """The first day of a chain that could not start (its agent or market data no longer
    loads): stored as that model's failed day, with the reason."""
    return _failed(date, start.state, start.value, error)


def _missing_bars(history: PriceHistory, row: int) -> tuple[str, ...]:
    """Symbols listed today (between their first and last bar) with no close today. A day
    no symbol has a bar for is not in the history at all: that day fails (index_of)."""
    first, last = history.listing_rows()
    closes = history.close[row]
    return tuple(
        symbol
        for j, symbol in enumerate(history.symbols)
        if 0 <= first[j] <= row <= last[j] and math.isnan(closes[j])
    )


def _failed(
    date: dt.date,
    state: PortfolioState,
    prev_value: float,
    error: TradingAssetsError,
    effects: tuple[ActionEffect, ...] = (),
) -> DayResult:
    return DayResult(
        date, state, (), (), {}, prev_value - state.cash, prev_value, 0.0, (), error, effects
    )


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
