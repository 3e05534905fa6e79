"""The point-in-time view: what an agent may know on simulated date D.

On D an agent sees OHLCV through D-1 and D's open, never D's high, low, close or
volume, nor anything later. The view holds the clock; agents never pass a date, and
every accessor slices the arrays so the last visible row is D-1 (D for `open`).
Indicators are causal rolling windows computed once per history and cached; the view
only hands out their values as of D-1.

Splits, point in time: prices before a split's ex-date are in old shares. The view shows
every price in the shares of D: history adjusted for the splits whose ex-date is on or
before D (prices divided by the ratio, volumes multiplied), never for later ones, so a
backtest of 2004 does not know about a 2005 split and an SMA does not jump on a split
day. Dividends do not adjust prices (they are paid in cash). Orders are in D's shares.
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from typing import Literal

import numpy as np

from trading_assets.errors import LookAheadError
from trading_assets.market.history import FIELDS, PriceHistory

Listing = Literal["listed", "not_listed", "delisted"]


class PointInTimeView:
    __slots__ = ("_h", "_i", "date")

    def __init__(self, history: PriceHistory, date: dt.date):
        self._i = history.index_of(date)
        self._h = split_adjusted(history, self._i)
        self.date = date

    def listing(self, symbol: str) -> Listing:
        """`not_listed` before the symbol's first bar, `delisted` after its last one."""
        first, last = self._h.listing_rows()
        j = self._h.symbol_index(symbol)
        if first[j] < 0 or self._i < first[j]:
            return "not_listed"
        return "delisted" if self._i > last[j] else "listed"

    @property
    def symbols(self) -> tuple[str, ...]:
        return self._h.symbols

    @property
    def previous_date(self) -> dt.date | None:
        return self._h.dates[self._i - 1] if self._i > 0 else None

    def open(self, symbol: str) -> float:
        """Today's opening price (NaN when the symbol has no bar today)."""
        return float(self._h.open[self._i, self._h.symbol_index(symbol)])

    def history(self, field: str, symbol: str, lookback: int | None = None) -> np.ndarray:
        """`field` for `symbol` through D-1, oldest first (read-only, at most `lookback` rows)."""
        if field not in FIELDS:
            raise ValueError(f"unknown field {field!r}; expected one of {FIELDS}")
        col = getattr(self._h, field)[: self._i, self._h.symbol_index(symbol)]
        return col if lookback is None else col[max(0, len(col) - lookback) :]

    def closes(self, symbol: str, lookback: int | None = None) -> np.ndarray:
        return self.history("close", symbol, lookback)

    def last_close(self, symbol: str) -> float:
        """D-1's close (NaN on the first day of the history)."""
        return (
            float(self._h.close[self._i - 1, self._h.symbol_index(symbol)]) if self._i else np.nan
        )

    def price(self, field: str, symbol: str, date: dt.date) -> float:
        """One value by date; raises LookAheadError for anything not yet known on D."""
        if date > self.date or (date == self.date and field != "open"):
            raise LookAheadError(
                f"{field} of {symbol} on {date} is not known on {self.date}",
                where=f"point-in-time view at {self.date}",
                fix="use data through the previous trading day, or today's open",
            )
        return float(getattr(self._h, field)[self._h.index_of(date), self._h.symbol_index(symbol)])

    def sma(self, symbol: str, window: int, lag: int = 0) -> float:
        """Mean of the `window` closes ending `lag` days before D-1 (NaN if not enough data)."""
        return self._indicator("mean", symbol, window, lag)

    def rolling_std(self, symbol: str, window: int, lag: int = 0) -> float:
        """Population std of the `window` closes ending `lag` days before D-1."""
        return self._indicator("std", symbol, window, lag)

    def sma_row(self, window: int, lag: int = 0) -> list[float]:
        """`sma` for every symbol (in `symbols` order) in one call."""
        return self._row("mean", window, lag)

    def crossover_row(self, fast: int, slow: int) -> list[float]:
        """`crossovers` of SMA(fast) over SMA(slow) at D-1's close, for every symbol."""
        if self._i == 0:
            return [np.nan] * len(self.symbols)
        return crossovers(self._h, fast, slow)[self._i - 1].tolist()

    def rolling_std_row(self, window: int, lag: int = 0) -> list[float]:
        return self._row("std", window, lag)

    def last_close_row(self) -> list[float]:
        return self._h.close[self._i - 1].tolist() if self._i else [np.nan] * len(self.symbols)

    def _row(self, kind: str, window: int, lag: int) -> list[float]:
        row = self._i - 1 - lag
        if row < 0:
            return [np.nan] * len(self.symbols)
        return rolling_closes(self._h, kind, window)[row].tolist()

    def _indicator(self, kind: str, symbol: str, window: int, lag: int) -> float:
        row = self._i - 1 - lag
        if row < 0:
            return np.nan
        return float(rolling_closes(self._h, kind, window)[row, self._h.symbol_index(symbol)])


def rolling_closes(history: PriceHistory, kind: str, window: int) -> np.ndarray:
    """Causal rolling mean/std of closes: row t uses rows t-window+1..t only. Cached.

    The mean is math.fsum(window) / window, backtrader's SMA: exactly rounded, so equal
    windows give equal means and a tie of two averages is a tie, not rounding noise."""
    cache = history.cache
    key = ("close", kind, window)
    if key not in cache:
        closes = history.close
        out = np.full(closes.shape, np.nan)
        if window <= len(closes):
            windows = np.lib.stride_tricks.sliding_window_view(closes, window, axis=0)
            if kind == "mean":
                rows = [[math.fsum(w) / window for w in row] for row in windows.tolist()]
                out[window - 1 :] = rows
            else:
                out[window - 1 :] = windows.std(axis=-1)
        out.setflags(write=False)
        cache[key] = out
    return cache[key]


def crossovers(history: PriceHistory, fast: int, slow: int) -> np.ndarray:
    """backtrader's CrossOver(SMA(fast), SMA(slow)) per row: +1 when the fast average is
    above the slow one and the last non-zero difference before this row was below 0,
    -1 for the mirror case, 0 otherwise, NaN while either average is missing. A row where
    the averages tie exactly carries the difference before it (NonZeroDifference). Cached.
    """
    key = ("crossover", fast, slow)
    if key not in history.cache:
        diff = rolling_closes(history, "mean", fast) - rolling_closes(history, "mean", slow)
        nzd = diff.copy()
        for t in range(1, len(nzd)):
            tie = nzd[t] == 0
            nzd[t, tie] = nzd[t - 1, tie]  # NaN before it stays NaN: not seeded yet
            # a run's first valid row seeds with its own difference, zero included
            seed = tie & np.isnan(nzd[t - 1])
            nzd[t, seed] = 0.0
        out = np.full(diff.shape, np.nan)
        with np.errstate(invalid="ignore"):
            before, now = nzd[:-1], diff[1:]
            cross = (before < 0) & (now > 0)
            cross = cross.astype(float) - ((before > 0) & (now < 0))
            out[1:] = np.where(np.isnan(before) | np.isnan(now), np.nan, cross)
        out.setflags(write=False)
        history.cache[key] = out
    return history.cache[key]


def split_adjusted(history: PriceHistory, row: int) -> PriceHistory:
    """`history` in the shares of `row`'s date: adjusted for the splits whose ex-date is
    on or before it (the raw history when there is none). Cached per set of splits."""
    rows = _split_rows(history)
    epoch = bisect.bisect_right([r for r, _, _ in rows], row)
    if epoch == 0:
        return history
    key = ("split-adjusted", epoch)
    if key not in history.cache:
        factor = np.ones(history.close.shape)
        for ex_row, col, ratio in rows[:epoch]:
            factor[:ex_row, col] /= ratio
        arrays = {
            name: getattr(history, name) * (1.0 / factor if name == "volume" else factor)
            for name in FIELDS
        }
        history.cache[key] = PriceHistory(
            dates=history.dates, symbols=history.symbols, source=history.source, **arrays
        )
    return history.cache[key]


def _split_rows(history: PriceHistory) -> list[tuple[int, int, float]]:
    """(first row on or after the ex-date, column, ratio) of each split, by row."""
    key = ("split-rows",)
    if key not in history.cache:
        splits = history.actions.splits() if history.actions is not None else ()
        history.cache[key] = sorted(
            (
                bisect.bisect_left(history.dates, a.ex_date),
                history.symbol_index(a.symbol),
                a.split_ratio,
            )
            for a in splits
        )
    return history.cache[key]
