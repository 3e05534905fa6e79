"""The sma_crossover rules run by our engine and by two peers (backtrader, vectorbt).

Shared by the differential test (test_backtrader_parity.py) and the benchmark
(bench/bench_engine.py), so both check and time one implementation of each peer.

The rules, identical in all three: on each day D, for each symbol in universe order,
with backtrader 1.9.78's CrossOver of SMA(fast) over SMA(slow) of closes at D-1 (SMA =
math.fsum of the window / window; a cross up is fast > slow with the last non-zero
difference before it < 0, a day where the averages tie carries that difference), buy
`size` shares at D's open on a cross up when the symbol is flat; sell the whole
position at D's open on a cross down; no signal while either SMA is NaN (not enough
bars, e.g. GOOG before it listed). No commission, no slippage; a buy that costs more
than the cash left after the day's earlier fills is rejected. Valuation is
cash + shares x close. Our engine runs with `corporate_actions: ignore` (raw prices, as
the peers see them).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import backtrader as bt
import numpy as np
import pandas as pd

from trading_assets.agents.base import AgentContext
from trading_assets.agents.registry import create_agent
from trading_assets.engine.simulate import DayResult, StartState, simulate
from trading_assets.market.history import PriceHistory
from trading_assets.portfolio.step import PortfolioState

Fill = tuple[dt.date, str, str, int, float]  # date, symbol, side, quantity, price


@dataclass(frozen=True)
class PeerResult:
    final_value: float
    fills: list[Fill]
    rejected: list[tuple[dt.date, str, str, int]]  # date, symbol, side, quantity
    positions: dict[str, int]


# -- ours ---------------------------------------------------------------------
def ours_days(
    history: PriceHistory, universe: Sequence[str], fast: int, slow: int, size: int, cash: float
) -> list[DayResult]:
    agent = create_agent(
        "sma_crossover",
        {"fast": fast, "slow": slow, "size": size},
        AgentContext(signature="parity", universe=tuple(universe)),
    )
    start = StartState(PortfolioState(cash=cash), cash)
    raw = history.select(universe).with_actions(None)  # corporate_actions: ignore
    return list(simulate(agent, raw, history.dates, start))


def run_ours(
    history: PriceHistory, universe: Sequence[str], fast: int, slow: int, size: int, cash: float
) -> PeerResult:
    days = ours_days(history, universe, fast, slow, size, cash)
    fills, rejected = [], []
    for day in days:
        for r in day.orders:
            o = r.order
            if r.status == "filled":
                fills.append((day.date, o.symbol, o.side, o.quantity, r.price))
            elif r.status == "rejected":
                rejected.append((day.date, o.symbol, o.side, o.quantity))
    last = days[-1]
    return PeerResult(last.value, fills, rejected, dict(last.state.positions))


# -- backtrader ---------------------------------------------------------------
class SmaCrossStrategy(bt.Strategy):
    """sma_crossover in backtrader: signals in next() on bar D-1, market orders that the
    broker fills at bar D's open (no cheat-on-open, no cheat-on-close)."""

    params = (("fast", 10), ("slow", 50), ("size", 100))

    def __init__(self) -> None:
        self.crosses = [
            (
                d,
                bt.indicators.CrossOver(
                    bt.indicators.SMA(d.close, period=self.p.fast),
                    bt.indicators.SMA(d.close, period=self.p.slow),
                ),
            )
            for d in self.datas
        ]
        self.fills: list[Fill] = []
        self.rejected: list[tuple[dt.date, str, str, int]] = []

    def prenext(self) -> None:
        # backtrader waits for every feed's minimum period (GOOG lists in 2004); we trade
        # the listed symbols meanwhile, as our engine does.
        self.next()

    def next(self) -> None:
        for d, cross in self.crosses:
            # A feed that has not started yet has len 0; with preloaded buffers, [0]
            # would then wrap around to the end of the array.
            if len(d) < 2:
                continue
            signal = cross[0]
            if math.isnan(signal):
                continue
            held = self.getposition(d).size
            if signal > 0 and held == 0:
                self.buy(data=d, size=self.p.size)
            elif signal < 0 and held > 0:
                self.sell(data=d, size=held)

    def notify_order(self, order: bt.Order) -> None:
        side = "buy" if order.isbuy() else "sell"
        if order.status == order.Completed:
            # executed.price is a size-weighted average, (0 + q*p)/q, which can be off by
            # an ulp; each execution bit keeps the raw fill price.
            for bit in order.executed.exbits:
                day = bt.num2date(bit.dt).date()
                self.fills.append((day, order.data._name, side, abs(int(bit.size)), bit.price))
        elif order.status in (order.Margin, order.Rejected):
            day = order.data.datetime.date(0)
            self.rejected.append((day, order.data._name, side, abs(int(order.created.size))))


def backtrader_feed(history: PriceHistory, symbol: str) -> bt.feeds.PandasData:
    """The symbol's real bars only (rows with a close), so a late listing starts late."""
    j = history.symbol_index(symbol)
    frame = pd.DataFrame(
        {name: getattr(history, name)[:, j] for name in ("open", "high", "low", "close", "volume")},
        index=pd.DatetimeIndex(history.dates),
    ).dropna(subset=["close"])
    return bt.feeds.PandasData(dataname=frame, openinterest=None, name=symbol)


def backtrader_cerebro(
    history: PriceHistory, universe: Sequence[str], fast: int, slow: int, size: int, cash: float
) -> bt.Cerebro:
    cerebro = bt.Cerebro(stdstats=False)
    for symbol in universe:  # feed order = order of next()'s loop = order of fills
        cerebro.adddata(backtrader_feed(history, symbol))
    cerebro.addstrategy(SmaCrossStrategy, fast=fast, slow=slow, size=size)
    cerebro.broker.setcash(cash)
    cerebro.broker.setcommission(commission=0.0)
    cerebro.broker.set_coc(False)
    cerebro.broker.set_coo(False)
    # The submission-time check prices a market order at D-1's close, not D's open, so it
    # could reject a buy that our engine (and backtrader's own execution check) accepts.
    cerebro.broker.set_checksubmit(False)
    return cerebro


def run_backtrader(
    history: PriceHistory, universe: Sequence[str], fast: int, slow: int, size: int, cash: float
) -> PeerResult:
    cerebro = backtrader_cerebro(history, universe, fast, slow, size, cash)
    strategy = cerebro.run()[0]
    broker = cerebro.broker
    positions = {d._name: int(broker.getposition(d).size) for d in cerebro.datas}
    return PeerResult(
        broker.getvalue(),
        strategy.fills,
        strategy.rejected,
        {s: q for s, q in positions.items() if q},
    )


# -- vectorbt -----------------------------------------------------------------
@dataclass(frozen=True)
class VectorbtInputs:
    close: pd.DataFrame
    open: pd.DataFrame
    entries: pd.DataFrame  # True on D: buy at D's open (the cross was at D-1's close)
    exits: pd.DataFrame


def window_means(close: np.ndarray, window: int) -> np.ndarray:
    """Mean of each full window of rows (NaN before; NaN while a window holds a NaN).

    A vectorized mean of each window. Not pandas' rolling mean nor vbt.MA: both keep a
    running sum whose last bits differ, and on this data that flips the sign of
    fast - slow at exact ties (MSFT 2011-08-12, (10, 50): the decimal difference is 0,
    the binary one +5e-16; backtrader's fsum and our view say +, pandas says -), which
    would compare rounding noise, not portfolios.
    """
    out = np.full(close.shape, np.nan)
    if window <= len(close):
        windows = np.lib.stride_tricks.sliding_window_view(close, window, axis=0)
        out[window - 1 :] = windows.mean(axis=-1)
    return out


def vectorbt_signals(
    history: PriceHistory, universe: Sequence[str], fast: int, slow: int
) -> VectorbtInputs:
    """Crosses of the SMAs of closes, shifted one bar so they trade at the next open.

    "before <= 0 < now" equals backtrader's CrossOver except around an exact tie of the
    averages; the vectorbt cases (AAPL 10/50, IBM 5/20) have none, so this compares
    vectorbt's portfolio accounting on the same signals."""
    cols = [history.symbol_index(s) for s in universe]
    index = pd.DatetimeIndex(history.dates)
    closes = history.close[:, cols]
    diff = window_means(closes, fast) - window_means(closes, slow)
    now, before = diff[1:], diff[:-1]
    signals = np.zeros((2, *diff.shape), dtype=bool)
    with np.errstate(invalid="ignore"):  # NaN compares False: no signal
        # cross seen at row t (before = t-1) -> order on row t+1
        signals[0, 2:] = ((before <= 0) & (now > 0))[:-1]
        signals[1, 2:] = ((before >= 0) & (now < 0))[:-1]
    frame = lambda a: pd.DataFrame(a, index=index, columns=list(universe))  # noqa: E731
    return VectorbtInputs(
        frame(closes), frame(history.open[:, cols]), frame(signals[0]), frame(signals[1])
    )


def vectorbt_portfolio(inputs: VectorbtInputs, size: int, cash: float):  # -> vbt.Portfolio
    import vectorbt as vbt  # heavy import (numba); only the callers that need it pay

    return vbt.Portfolio.from_signals(
        close=inputs.close,
        entries=inputs.entries,
        exits=inputs.exits,
        price=inputs.open,
        size=float(size),
        size_type="amount",
        direction="longonly",
        accumulate=False,
        init_cash=cash,
        cash_sharing=True,  # one cash pot, orders in column (= universe) order
        group_by=True,
        fees=0.0,
        slippage=0.0,
        allow_partial=False,  # ours rejects a buy it cannot afford; it never shrinks it
        freq="1D",
    )


def run_vectorbt(
    history: PriceHistory, universe: Sequence[str], fast: int, slow: int, size: int, cash: float
) -> PeerResult:
    inputs = vectorbt_signals(history, universe, fast, slow)
    pf = vectorbt_portfolio(inputs, size, cash)
    records = pf.orders.values  # structured array: col, idx, size, price, side
    columns = inputs.close.columns
    fills: list[Fill] = [
        (
            inputs.close.index[r["idx"]].date(),
            columns[r["col"]],
            "buy" if r["side"] == 0 else "sell",
            int(r["size"]),  # whole shares, stored as float
            float(r["price"]),
        )
        for r in records
    ]
    fills.sort(key=lambda f: (f[0], list(columns).index(f[1])))
    held = pf.assets().iloc[-1]
    return PeerResult(
        float(pf.value().iloc[-1]),
        fills,
        [],
        {s: int(q) for s, q in held.items() if q},
    )
