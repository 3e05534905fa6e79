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
from trading_assets.kernel.quality import worst_state
from trading_assets.kernel.reasons import PARTIAL_DATA, STALE_DATA
from trading_assets.market.history import PriceHistory
from trading_assets.market.view import PointInTimeView
from trading_assets.portfolio.actions import ActionEffect, apply_corporate_actions
from trading_assets.portfolio.fills import fill_at_open
from trading_assets.portfolio.orders import OrderResult
from trading_assets.portfolio.step import NO_FEES, Fees, PortfolioState
from trading_assets.vocab import DayStatus


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
    agent_reasons: tuple[str, ...] = ()

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def degraded(self) -> bool:
        return (
            bool(self.stale_symbols)
            or bool(self.missing_symbols)
            or bool(self.agent_reasons)
            or any(s.merged.degraded for s in self.signals)
        )

    # The day's status, reason codes and data quality: computed here only, and stored,
    # shown and checked from these (store/rows.py, the model-day metadata).
    @property
    def status(self) -> DayStatus:
        if self.failed:
            return DayStatus.FAILED
        return DayStatus.DEGRADED_SUCCESS if self.degraded else DayStatus.COMPLETED

    @property
    def reason_codes(self) -> tuple[str, ...]:
        """Every signal's reason codes, the agent's own, and stale_data / partial_data for
        the day's own valuation, sorted."""
        codes = {str(c) for s in self.signals for c in s.merged.reason_codes}
        codes |= set(self.agent_reasons)
        codes |= {STALE_DATA} if self.stale_symbols else set()
        codes |= {PARTIAL_DATA} if self.missing_symbols else set()
        return tuple(sorted(codes))

    @property
    def data_quality_state(self) -> str | None:
        """The worst data_quality state of the day: partial_data when a listed symbol had
        no close (the cause; a stale valuation is one of its effects), else stale_data
        when a holding was valued at an older close, else the worst of its signals'
        states (kernel/quality.py: worst_state); None when no signal has one."""
        if self.missing_symbols:
            return PARTIAL_DATA
        if self.stale_symbols:
            return STALE_DATA
        return worst_state(
            [s.merged.data_quality.state for s in self.signals if s.merged.data_quality]
        )


def _day_range(history: PriceHistory, row: int, symbol: str) -> tuple[float, float]:
    """The day's (low, high) of `symbol`: the bounds of its fill price (the agent never
    sees them; the fill happens during the day)."""
    j = history.symbol_index(symbol)
    return float(history.low[row, j]), float(history.high[row, j])


@dataclass(frozen=True, slots=True)
class StartState:
    state: PortfolioState
    value: float  # the previous day's end value (initial cash on a fresh start)
    # the highest of the initial cash and every stored end value before the day (the
    # running peak a drawdown falls from); None: not known (a hand-made start)
    peak: float | None = None


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
            # the day's low..high caps a slipped fill; the agent never sees it (its tools
            # quote without it: with slippage, a capped fill can differ from the quote)
            known = {o.symbol for o in decision.orders if o.symbol in history.symbols}
            ranges = {s: _day_range(history, row, s) for s in known}
            state, results = fill_at_open(view, state, decision.orders, fees, ranges)
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
            agent_reasons=decision.reason_codes,
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
