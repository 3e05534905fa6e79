"""Many variants of a built-in quant agent at once: the per-day engine's walk
(engine/simulate.py) with the trials as a numpy axis, for studies.

Equal to `simulate` float for float on a fresh start: the same signals (the view's own
cached `crossovers` on the split-adjusted history of each day, point in time), the same
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

import numpy as np

from trading_assets.agents.base import parse_params
from trading_assets.agents.quant import SmaCrossover
from trading_assets.agents.registry import agent_class
from trading_assets.config import CorporateActionsMode, ModelSpec
from trading_assets.engine.simulate import forward_filled_closes
from trading_assets.market.history import PriceHistory
from trading_assets.market.view import crossovers, split_adjusted
from trading_assets.portfolio.actions import apply_corporate_actions
from trading_assets.portfolio.costs import CommissionModel
from trading_assets.portfolio.step import Fees, PortfolioState, _within

# agent name -> the class whose decide() the fast path reproduces (a plugin cannot take
# the name: built-ins win in agents/registry.py)
FAST_AGENTS: dict[str, type] = {SmaCrossover.name: SmaCrossover}
_NOT_HELD = np.iinfo(np.int64).max  # insertion stamp of a symbol not in the positions dict


def has_fast_path(spec: ModelSpec) -> bool:
    cls = FAST_AGENTS.get(spec.agent)
    return cls is not None and agent_class(spec.agent) is cls


@dataclass(frozen=True)
class FastTrial:
    values: np.ndarray  # end-of-day portfolio value per simulated date
    returns: np.ndarray  # daily return per simulated date
    filled_orders: int
    needs_engine: bool  # the engine would fail a day: run this trial through it instead


def simulate_many(
    specs: Sequence[ModelSpec],
    history: PriceHistory,
    dates: Sequence[dt.date],
    fees: Fees,
    corporate_actions: CorporateActionsMode = "apply",
) -> list[FastTrial]:
    """`simulate` of each spec (all of one fast agent, with these fees and corporate
    actions) from a fresh start over `dates`, as arrays."""
    names = {s.agent for s in specs}
    if names != {SmaCrossover.name}:
        raise ValueError(f"no fast path for agents {sorted(names)}")
    if corporate_actions == "ignore":  # as simulate() does
        history = history.with_actions(None)
    params = [parse_params(SmaCrossover, s.agent, s.params, where=s.signature) for s in specs]
    rows = np.array([history.index_of(d) for d in dates])
    pairs = sorted({(p.fast, p.slow) for p in params})
    pair_of = {pair: i for i, pair in enumerate(pairs)}
    cross = np.stack([_crossover_by_day(history, rows, f, s) for f, s in pairs])
    return _walk(
        history,
        rows,
        lambda t: cross[[pair_of[(p.fast, p.slow)] for p in params], t],
        np.array([p.size for p in params], dtype=np.int64),
        np.array([s.initial_cash for s in specs], dtype=float),
        fees,
    )


def _crossover_by_day(history: PriceHistory, rows: np.ndarray, fast: int, slow: int):
    """(days, symbols): what `PointInTimeView(history, D).crossover_row(fast, slow)` gives
    on each simulated day D: the crossovers of the history in D's shares, at D-1."""
    out = np.full((len(rows), len(history.symbols)), np.nan)
    adjusted = [split_adjusted(history, int(r)) for r in rows]
    for h in {id(a): a for a in adjusted}.values():
        mine = np.array([a is h for a in adjusted]) & (rows > 0)
        out[mine] = crossovers(h, fast, slow)[rows[mine] - 1]
    return out


def _walk(
    history: PriceHistory,
    rows: np.ndarray,
    signals: Callable[[int], np.ndarray],
    sizes: np.ndarray,
    cash: np.ndarray,
    fees: Fees,
) -> list[FastTrial]:
    """The day loop of `simulate` for sma_crossover's decide(), over all trials at once."""
    n, n_sym = len(cash), len(history.symbols)
    shares = np.zeros((n, n_sym), dtype=np.int64)
    stamp = np.full((n, n_sym), _NOT_HELD, dtype=np.int64)  # positions dict order
    filled = np.zeros(n, dtype=np.int64)
    broken = np.zeros(n, dtype=bool)
    values = np.empty((len(rows), n))
    returns = np.empty((len(rows), n))
    prev_value = cash.copy()
    first, last = history.listing_rows()
    closes = forward_filled_closes(history)
    prev_date: dt.date | None = None
    for t, row in enumerate(rows.tolist()):
        if history.actions is not None and shares.any():
            cash = _corporate_actions(history, row, prev_date, shares, stamp, cash)
        cross = signals(t)
        for j in range(n_sym):
            held = shares[:, j].copy()  # the holding decide() saw
            # SmaCrossover.decide: buy `size` when flat on a cross up, sell all on a cross down
            for side, wants, quantity in (
                ("buy", (cross[:, j] > 0) & (held == 0), sizes),
                ("sell", (cross[:, j] < 0) & (held > 0), held),
            ):
                if not wants.any():
                    continue
                price = _fill_price(history, row, j, side, fees, first, last)
                if price is None:  # not listed / no price: every such order is rejected
                    continue
                q = quantity[wants]
                after = _cash_after(
                    side, cash[wants], price, q, _commission(fees.commission, q, price)
                )
                ok = after >= 0  # a sell never exceeds the holding here (it sells `held`)
                who = np.flatnonzero(wants)[ok]
                cash[who] = after[ok]
                filled[who] += 1
                left = held[who] + (q[ok] if side == "buy" else -q[ok])
                stamp[who] = _restamp(stamp[who], held[who], left, j, t * n_sym + j)
                shares[who, j] = left
        value = cash + _positions_value(shares, stamp, closes[row], broken)
        values[t] = value
        # daily_return = value / prev_value - 1.0 if prev_value else 0.0 (simulate)
        with np.errstate(divide="ignore", invalid="ignore"):
            returns[t] = np.where(prev_value != 0, value / prev_value - 1.0, 0.0)
        prev_value, prev_date = value, history.dates[row]
    return [
        FastTrial(values[:, k], returns[:, k], int(filled[k]), bool(broken[k])) for k in range(n)
    ]


def _fill_price(
    history: PriceHistory,
    row: int,
    j: int,
    side: str,
    fees: Fees,
    first: np.ndarray,
    last: np.ndarray,
) -> float | None:
    """The fill price of any order of `side` in column j today, the same for every trial
    (portfolio/step.py `_fill`: untradable, no_price, slippage, the low..high cap); None
    when every such order is rejected. The open is the view's: in D's shares, D's own row
    is never adjusted, so it is the raw open."""
    if first[j] < 0 or not first[j] <= row <= last[j]:  # PointInTimeView.listing
        return None
    open_price = float(history.open[row, j])
    if not (open_price > 0) or math.isinf(open_price):
        return None
    bounds = (float(history.low[row, j]), float(history.high[row, j]))  # simulate._day_range
    return _within(fees.slippage.fill_price(side, open_price), bounds)  # type: ignore[arg-type]


def _commission(model: CommissionModel, quantity: np.ndarray, price: float) -> np.ndarray:
    """`model.cost` per order, called once per distinct quantity (the model is the rule)."""
    distinct, where = np.unique(quantity, return_inverse=True)
    return np.array([model.cost(int(q), price) for q in distinct], dtype=float)[where]


def _cash_after(
    side: str, cash: np.ndarray, price: float, quantity: np.ndarray, commission: np.ndarray
) -> np.ndarray:
    """portfolio/step.py `_cash_after` in array form (the same expression, so the same floats)."""
    notional = price * quantity
    return cash - (notional + commission) if side == "buy" else cash + (notional - commission)


def _restamp(
    stamp: np.ndarray, before: np.ndarray, after: np.ndarray, j: int, now: int
) -> np.ndarray:
    """The positions dict's order (step.apply_fill, actions.apply_corporate_actions): a
    symbol enters at the end when first held, leaves when its shares reach 0."""
    stamp = stamp.copy()
    stamp[:, j] = np.where(after == 0, _NOT_HELD, np.where(before == 0, now, stamp[:, j]))
    return stamp


def _corporate_actions(
    history: PriceHistory,
    row: int,
    prev_date: dt.date | None,
    shares: np.ndarray,
    stamp: np.ndarray,
    cash: np.ndarray,
) -> np.ndarray:
    """simulate._apply_actions: the splits and dividends with ex-date in (previous day, D],
    each through `apply_corporate_actions` once per distinct holding (in place on shares
    and stamp; returns the cash)."""
    assert history.actions is not None
    after = prev_date
    if after is None:
        after = history.dates[row - 1] if row else history.dates[0] - dt.timedelta(days=1)
    pending = history.actions.between(after, history.dates[row])
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
                state = PortfolioState(cash=0.0, positions={symbol: q})
                _, (effect,) = apply_corporate_actions(
                    state, {symbol: todays[symbol]}, prev_closes, opens
                )
                who = held == q
                cash[who] += effect.dividend_cash + effect.fraction_cash
                if not effect.shares_after:
                    stamp[who, j] = _NOT_HELD
                shares[who, j] = effect.shares_after
    return cash


def _positions_value(
    shares: np.ndarray, stamp: np.ndarray, closes: np.ndarray, broken: np.ndarray
) -> np.ndarray:
    """simulate._valuation: the sum of shares x (forward-filled) close over the held
    symbols, added in the positions dict's order from 0.0, as the engine's loop adds them.
    A held symbol without any close marks its trial `broken` (the engine fails the day)."""
    held = shares > 0
    broken |= (held & np.isnan(closes)).any(axis=1)
    part = np.where(held, shares * np.where(np.isnan(closes), 0.0, closes), 0.0)
    order = np.argsort(stamp, axis=1, kind="stable")
    part = np.take_along_axis(part, order, axis=1)
    total = np.zeros(len(shares))
    for j in range(part.shape[1]):
        total = total + part[:, j]  # not-held symbols sort last and add 0.0: no change
    return total
