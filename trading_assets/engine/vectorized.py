"""Many variants of a built-in quant agent at once: the per-day engine's walk
(engine/simulate.py) for every trial in a numba kernel (trials x days), for studies.

The agents with a fast path (sma_crossover, bollinger) share one order rule: a buy
signal buys `size` shares when flat, a sell signal sells the whole position. Each gives
its signals for every day and symbol as one array (+1, -1, 0 or NaN), and the kernel
walks the portfolio. buy_and_hold has no fast path (it sizes from cash, and a sweep of
its one parameter is a few trials).

Equal to `simulate` float for float on a fresh start: the same signals (the view's own
cached rolling closes on the split-adjusted history of each day, point in time), the same
fills (the day's open through the fee model's slippage, capped to the day's low..high by
`portfolio.step._within`, whole shares, no shorting, a buy that would take cash below 0
rejected), the same corporate actions (`apply_corporate_actions` itself, once per
distinct holding) and the same valuation, summed in the order the engine's positions
dict holds the symbols (insertion order), so even the last bit agrees. The rules that
must run per trial are restated in array form; each says which function it mirrors, and
trading_assets_tests/test_study_fast_path.py proves they agree with the per-day engine.

A trial the fast path cannot finish the way the engine would (a held symbol without any
close: the engine fails that day) comes back `needs_engine`; the caller runs it through
the per-day engine, which gives the failed day and its reason.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit

from trading_assets.agents.base import parse_params
from trading_assets.agents.quant import Bollinger, SmaCrossover
from trading_assets.agents.registry import agent_class
from trading_assets.config import CorporateActionsMode, ModelSpec
from trading_assets.engine.simulate import forward_filled_closes
from trading_assets.market.history import PriceHistory
from trading_assets.market.view import crossovers, rolling_closes, split_adjusted
from trading_assets.portfolio.actions import apply_corporate_actions
from trading_assets.portfolio.costs import (
    CommissionModel,
    NoCommission,
    PercentCommission,
    PerShareCommission,
)
from trading_assets.portfolio.orders import Side
from trading_assets.portfolio.step import Fees, PortfolioState, _within


def bollinger_signals(history: PriceHistory, window: int, k: float) -> np.ndarray:
    """Bollinger.decide's rule on every row of `history` at once: +1 (buy when flat)
    where the close is more than k standard deviations below the mean, -1 (sell all)
    where it is above the mean, 0 between, NaN where decide skips the symbol (no mean,
    no close, no spread). The same doubles as decide's: z is (close - mid) / std."""
    mid, std = rolling_closes(history, "mean", window), rolling_closes(history, "std", window)
    close = history.close
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (close - mid) / std
        out = np.where(z < -k, 1.0, np.where(z > 0, -1.0, 0.0))
        out[np.isnan(mid) | np.isnan(close) | ~(std > 0)] = np.nan
    return out


@dataclass(frozen=True)
class FastAgent:
    """A built-in agent the kernel reproduces: its class (its decide() is what is
    mirrored), the parameters its signals depend on, and those signals on a history."""

    cls: type
    key: Callable[[Any], tuple]
    signals: Callable[..., np.ndarray]


# agent name -> its fast path (a plugin cannot take the name: built-ins win in
# agents/registry.py)
FAST_AGENTS: dict[str, FastAgent] = {
    SmaCrossover.name: FastAgent(SmaCrossover, lambda p: (p.fast, p.slow), crossovers),
    Bollinger.name: FastAgent(Bollinger, lambda p: (p.window, p.k), bollinger_signals),
}


def has_fast_path(spec: ModelSpec) -> bool:
    fast = FAST_AGENTS.get(spec.agent)
    return fast is not None and agent_class(spec.agent) is fast.cls


@dataclass(frozen=True)
class FastTrial:
    values: np.ndarray  # end-of-day portfolio value per simulated date
    returns: np.ndarray  # daily return per simulated date
    filled_orders: int
    needs_engine: bool  # the engine would fail a day: run this trial through it instead
    # with `record`: each fill as (day position, symbol, side, quantity, price, commission)
    trades: tuple[tuple[int, str, str, int, float, float], ...] = ()


def simulate_many(
    specs: Sequence[ModelSpec],
    history: PriceHistory,
    dates: Sequence[dt.date],
    fees: Fees,
    corporate_actions: CorporateActionsMode = "apply",
    chunk: int = 250,
    record: bool = False,
) -> list[FastTrial]:
    """`simulate` of each spec (all of one fast agent, with these fees and corporate
    actions) from a fresh start over `dates`, as arrays, `chunk` trials at a time (so
    the arrays of one chunk are what is held besides the results); `record` keeps every
    fill (for tests: days x symbols slots per trial)."""
    names = {s.agent for s in specs}
    if len(names) != 1 or not names <= FAST_AGENTS.keys():
        raise ValueError(f"no fast path for agents {sorted(names)}")
    agent = FAST_AGENTS[names.pop()]
    if corporate_actions == "ignore":  # as simulate() does
        history = history.with_actions(None)
    params = [parse_params(agent.cls, s.agent, s.params, where=s.signature) for s in specs]
    rows = np.array([history.index_of(d) for d in dates], dtype=np.int64)
    epochs = _epochs(history, rows)
    buy, sell = (_fill_prices(history, rows, side, fees) for side in ("buy", "sell"))
    closes = np.ascontiguousarray(forward_filled_closes(history)[rows])
    bounds = [*_action_days(history, rows), len(rows)]
    out: list[FastTrial] = []
    for at in range(0, len(specs), chunk):  # (trials x days) arrays of `chunk` trials
        part = params[at : at + chunk]
        pairs = sorted({agent.key(p) for p in part})  # the distinct signals' parameters
        pair_of = {pair: i for i, pair in enumerate(pairs)}
        n_sym = len(history.symbols)
        cross = np.stack([_signals_by_day(epochs, rows, n_sym, agent, p) for p in pairs])
        state = _State.fresh([s.initial_cash for s in specs[at : at + chunk]], n_sym, len(rows))
        book = np.zeros((len(part), len(rows) * n_sym if record else 0, 5))
        pair_idx = np.array([pair_of[agent.key(p)] for p in part], dtype=np.int64)
        sizes = np.array([p.size for p in part], dtype=np.int64)
        prev_value = state.cash.copy()
        for t0, t1 in zip([0, *bounds[:-1]], bounds, strict=True):
            if t0 and history.actions is not None:
                prev = history.dates[rows[t0 - 1]]
                state.cash = _corporate_actions(history, int(rows[t0]), prev, state)
            if t1 > t0:
                _signal_days(
                    t0, t1, cross, pair_idx, sizes, buy, sell, closes,
                    *_commission_terms(fees.commission),
                    state.cash, state.shares, state.order, state.count, state.filled,
                    state.broken,
                    prev_value, state.values, state.returns, book,
                )  # fmt: skip
        out += [
            FastTrial(
                state.values[k],
                state.returns[k],
                int(state.filled[k]),
                bool(state.broken[k]),
                _trades(book[k, : state.filled[k]], history.symbols) if record else (),
            )
            for k in range(len(part))
        ]
    return out


@dataclass
class _State:
    """Every trial's portfolio (one row per trial), updated in place day by day."""

    cash: np.ndarray
    shares: np.ndarray  # (trials, symbols), whole shares
    order: np.ndarray  # (trials, symbols): the positions dict's keys in order, `count` used
    count: np.ndarray
    filled: np.ndarray
    broken: np.ndarray
    values: np.ndarray  # (trials, days)
    returns: np.ndarray

    @classmethod
    def fresh(cls, cash: list[float], n_sym: int, n_days: int) -> _State:
        n = len(cash)
        return cls(
            cash=np.array(cash, dtype=float),
            shares=np.zeros((n, n_sym), dtype=np.int64),
            order=np.zeros((n, n_sym), dtype=np.int64),
            count=np.zeros(n, dtype=np.int64),
            filled=np.zeros(n, dtype=np.int64),
            broken=np.zeros(n, dtype=np.bool_),
            values=np.empty((n, n_days)),
            returns=np.empty((n, n_days)),
        )


def _epochs(history: PriceHistory, rows: np.ndarray) -> list[tuple[PriceHistory, np.ndarray]]:
    """The histories the views of the simulated days see (one per set of splits on or
    before the day: market/view.py split_adjusted), each with its days' positions."""
    adjusted = [split_adjusted(history, int(r)) for r in rows]
    return [
        (h, np.array([a is h for a in adjusted])) for h in {id(a): a for a in adjusted}.values()
    ]


def _signals_by_day(epochs, rows: np.ndarray, n_sym: int, agent: FastAgent, key) -> np.ndarray:
    """(days, symbols): the agent's signals on each simulated day D as its view gives
    them (`crossover_row`, `sma_row`, `rolling_std_row`, `last_close_row`): those of the
    history in D's shares, at D-1; none on the history's first day."""
    out = np.full((len(rows), n_sym), np.nan)
    for h, days in epochs:
        mine = days & (rows > 0)
        out[mine] = agent.signals(h, *key)[rows[mine] - 1]
    return out


def _fill_prices(history: PriceHistory, rows: np.ndarray, side: Side, fees: Fees) -> np.ndarray:
    """(days, symbols): the fill price of any order of `side` on each day, the same for
    every trial (portfolio/step.py `_fill`: untradable, no_price, then the slippage model
    and the low..high cap of `_within`); NaN where every such order is rejected. The open
    is the view's: D's own row is never split-adjusted, so it is the raw open."""
    first, last = history.listing_rows()
    out = np.full((len(rows), len(history.symbols)), np.nan)
    for t, row in enumerate(rows.tolist()):
        for j in range(len(history.symbols)):
            if first[j] < 0 or not first[j] <= row <= last[j]:  # PointInTimeView.listing
                continue
            open_price = float(history.open[row, j])
            if not (open_price > 0) or math.isinf(open_price):
                continue
            bounds = (float(history.low[row, j]), float(history.high[row, j]))  # _day_range
            out[t, j] = _within(fees.slippage.fill_price(side, open_price), bounds)
    return out


_NO_COMMISSION, _PERCENT, _PER_SHARE = 0, 1, 2


def _commission_terms(model: CommissionModel) -> tuple[int, float, float]:
    """The commission model as (kind, rate or per-share, minimum) for `_commission`."""
    if isinstance(model, NoCommission):
        return _NO_COMMISSION, 0.0, 0.0
    if isinstance(model, PercentCommission):
        return _PERCENT, model.rate, 0.0
    if isinstance(model, PerShareCommission):
        return _PER_SHARE, model.per_share, model.minimum
    raise ValueError(f"no fast path for commission model {type(model).__name__}")


@njit(cache=True)
def _commission(kind: int, rate: float, minimum: float, quantity: int, price: float) -> float:
    """portfolio/costs.py `cost` of each commission model, restated for the kernel."""
    if kind == _PERCENT:
        return rate * quantity * price  # PercentCommission.cost
    if kind == _PER_SHARE:
        return max(rate * quantity, minimum)  # PerShareCommission.cost
    return 0.0


@njit(cache=True)
def _signal_days(
    t0, t1, cross, pair_idx, sizes, buy, sell, closes, kind, rate, minimum,
    cash, shares, order, count, filled, broken, prev_value, values, returns, book,
):  # fmt: skip
    """Days t0..t1-1 of every trial: the orders SmaCrossover.decide or Bollinger.decide
    makes of its signals, portfolio/step.py `step` for them (in symbol order), then
    simulate._valuation and the daily return."""
    n_sym = shares.shape[1]
    for k in range(len(cash)):
        p, c = pair_idx[k], cash[k]
        for t in range(t0, t1):
            for j in range(n_sym):
                signal, held = cross[p, t, j], shares[k, j]
                if signal > 0 and held == 0:  # decide(): buy `size` when flat
                    price, q = buy[t, j], sizes[k]
                    if price == price:  # NaN: rejected (not listed, no price)
                        # step._cash_after; a buy taking cash below 0 is rejected
                        fee = _commission(kind, rate, minimum, q, price)
                        after = c - (price * q + fee)
                        if after >= 0:
                            c, shares[k, j] = after, q
                            order[k, count[k]] = j  # enters the positions dict last
                            count[k] += 1
                            _book(book, k, filled[k], t, j, q, price, fee)
                            filled[k] += 1
                elif signal < 0 and held > 0:  # decide(): sell the whole position
                    price = sell[t, j]
                    if price == price:
                        fee = _commission(kind, rate, minimum, held, price)
                        after = c + (price * held - fee)
                        if after >= 0:
                            _book(book, k, filled[k], t, j, -held, price, fee)
                            c, shares[k, j] = after, 0
                            _leave(order, count, k, j)
                            filled[k] += 1
            # simulate._valuation: shares x close added from 0.0 in positions-dict order
            total = 0.0
            for i in range(count[k]):
                j = order[k, i]
                if closes[t, j] != closes[t, j]:  # no close at all: the engine fails
                    broken[k] = True
                total += shares[k, j] * closes[t, j]
            value = c + total
            values[k, t] = value
            returns[k, t] = value / prev_value[k] - 1.0 if prev_value[k] != 0 else 0.0
            prev_value[k] = value
        cash[k] = c


@njit(cache=True)
def _leave(order, count, k, j):
    """Symbol j leaves trial k's positions dict; the others keep their order."""
    i = 0
    while order[k, i] != j:
        i += 1
    order[k, i : count[k] - 1] = order[k, i + 1 : count[k]].copy()
    count[k] -= 1


@njit(cache=True)
def _book(book, k, i, t, j, quantity, price, commission):
    """Record fill i of trial k (a buy's quantity > 0, a sell's < 0) when recording."""
    if book.shape[1]:
        book[k, i, 0], book[k, i, 1], book[k, i, 2] = t, j, quantity
        book[k, i, 3], book[k, i, 4] = price, commission


def _trades(book: np.ndarray, symbols: tuple[str, ...]):
    """The recorded fills as (day position, symbol, side, quantity, price, commission)."""
    return tuple(
        (int(t), symbols[int(j)], "buy" if q > 0 else "sell", int(abs(q)), price, fee)
        for t, j, q, price, fee in book.tolist()
    )


def _action_days(history: PriceHistory, rows: np.ndarray) -> list[int]:
    """The simulated days (positions in rows) with a split or dividend since the day
    before (simulate._apply_actions' `between`); the kernel stops before each."""
    if history.actions is None:
        return []
    dates = history.dates
    return [
        t
        for t in range(1, len(rows))
        if history.actions.between(dates[rows[t - 1]], dates[rows[t]])
    ]


def _corporate_actions(
    history: PriceHistory, row: int, prev_date: dt.date, state: _State
) -> np.ndarray:
    """simulate._apply_actions: the splits and dividends with ex-date in (previous day, D],
    each through `apply_corporate_actions` once per distinct holding (in place on the
    shares and the positions' order; returns the cash)."""
    assert history.actions is not None
    shares, cash = state.shares, state.cash
    pending = history.actions.between(prev_date, history.dates[row])
    if not pending:
        return cash
    symbols = history.symbols
    prev = forward_filled_closes(history)[row - 1].tolist() if row else [math.nan] * len(symbols)
    prev_closes = dict(zip(symbols, prev, strict=True))
    opens = dict(zip(symbols, history.open[row].tolist(), strict=True))
    cash = cash.copy()
    for todays in pending:
        for symbol in sorted(todays):  # apply_corporate_actions' order
            j = history.symbol_index(symbol)
            held = shares[:, j].copy()  # the holdings before this action
            for q in np.unique(held[held > 0]).tolist():
                probe = PortfolioState(cash=0.0, positions={symbol: q})
                _, (effect,) = apply_corporate_actions(
                    probe, {symbol: todays[symbol]}, prev_closes, opens
                )
                who = held == q
                cash[who] += effect.dividend_cash + effect.fraction_cash
                if not effect.shares_after:  # the symbol leaves the positions dict
                    for k in np.flatnonzero(who).tolist():
                        _leave(state.order, state.count, k, j)
                shares[who, j] = effect.shares_after
    return cash
