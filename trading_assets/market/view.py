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
import itertools
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
        """`not_listed` before the symbol's first bar, `delisted` after its last one. A bar
        is an open or a close, so a listing day is known at its open; that no bar comes
        any more is taken as public on the day it happens, as a delisting is."""
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

    The mean is backtrader's SMA, math.fsum(window) / window: the window's sum exactly
    rounded, so equal windows give equal means and a tie of two averages is a tie, not
    rounding noise (`exact_window_sums` computes the same sums in one pass)."""
    cache = history.cache
    key = ("close", kind, window)
    if key not in cache:
        closes = history.close
        out = np.full(closes.shape, np.nan)
        if window <= len(closes):
            if kind == "mean":
                for j, prefix in enumerate(_exact_prefix_sums(history)):
                    out[window - 1 :, j] = exact_window_sums(prefix, window)
                out /= window
            else:
                windows = np.lib.stride_tricks.sliding_window_view(closes, window, axis=0)
                out[window - 1 :] = windows.std(axis=-1)
        out.setflags(write=False)
        cache[key] = out
    return cache[key]


PrefixSums = tuple[list[int], list[int], int]  # exact sums, NaN counts, scale


def exact_prefix_sums(values: list[float]) -> PrefixSums:
    """Prefix sums of `values` as exact integers: every finite float is an integer
    multiple of 1 / scale (a power of two), so the sums lose nothing. NaNs are counted."""
    finite = [v for v in values if math.isfinite(v)]
    shift = max((v.as_integer_ratio()[1].bit_length() - 1 for v in finite), default=0)
    ints = [_scaled(v, shift) if math.isfinite(v) else 0 for v in values]
    bad = [0 if math.isfinite(v) else 1 for v in values]
    sums = list(itertools.accumulate(ints, initial=0))
    return sums, list(itertools.accumulate(bad, initial=0)), 1 << shift


def exact_window_sums(prefix: PrefixSums, window: int) -> list[float]:
    """math.fsum of each full window (NaN when it holds a NaN), in O(n): the difference
    of two exact prefix sums, and int / int is correctly rounded, as fsum is."""
    sums, bads, scale = prefix
    return [
        (sums[t] - sums[t - window]) / scale if bads[t] == bads[t - window] else math.nan
        for t in range(window, len(sums))
    ]


def _exact_prefix_sums(history: PriceHistory) -> list[PrefixSums]:
    key = ("close", "prefix")
    if key not in history.cache:
        history.cache[key] = [exact_prefix_sums(col) for col in history.close.T.tolist()]
    return history.cache[key]


def _scaled(value: float, shift: int) -> int:
    num, den = value.as_integer_ratio()
    return num << (shift - (den.bit_length() - 1))


def crossovers(history: PriceHistory, fast: int, slow: int) -> np.ndarray:
    """backtrader's CrossOver(SMA(fast), SMA(slow)) per row: +1 when the fast average is
    above the slow one and the last non-zero difference before this row was below 0,
    -1 for the mirror case, 0 otherwise, NaN while either average is missing. A row where
    the averages tie exactly carries the difference before it (NonZeroDifference). Cached.
    """
    key = ("crossover", fast, slow)
    if key not in history.cache:
        diff = rolling_closes(history, "mean", fast) - rolling_closes(history, "mean", slow)
        # last row at or before t whose difference is not 0 (NaN counts: it ends a run)
        rows = np.where(diff != 0, np.arange(len(diff))[:, None], 0)
        np.maximum.accumulate(rows, axis=0, out=rows)
        nzd = np.take_along_axis(diff, rows, axis=0)
        out = np.full(diff.shape, np.nan)
        with np.errstate(invalid="ignore"):
            before, now = nzd[:-1], diff[1:]
            cross = ((before < 0) & (now > 0)).astype(float) - ((before > 0) & (now < 0))
            out[1:] = np.where(np.isnan(before) | np.isnan(now), np.nan, cross)
        out.setflags(write=False)
        history.cache[key] = out
    return history.cache[key]


def split_adjusted(history: PriceHistory, row: int) -> PriceHistory:
    """`history` in the shares of `row`'s date: adjusted for the splits whose ex-date is
    on or before it (the raw history when there is none). Cached per set of splits."""
    if history.actions is None:
        return history
    ex_rows, splits = _split_rows(history)
    epoch = bisect.bisect_right(ex_rows, row)
    if epoch == 0:
        return history
    key = ("split-adjusted", epoch)
    if key not in history.cache:
        factor = np.ones(history.close.shape)
        for ex_row, col, ratio in splits[:epoch]:
            factor[:ex_row, col] /= ratio
        arrays = {
            name: getattr(history, name) * (1.0 / factor if name == "volume" else factor)
            for name in FIELDS
        }
        history.cache[key] = PriceHistory(
            dates=history.dates, symbols=history.symbols, source=history.source, **arrays
        )
    return history.cache[key]


def _split_rows(history: PriceHistory) -> tuple[list[int], list[tuple[int, int, float]]]:
    """(first row on or after the ex-date, column, ratio) of each split, by row. Cached."""
    key = ("split-rows",)
    if key not in history.cache:
        splits = sorted(
            (
                bisect.bisect_left(history.dates, a.ex_date),
                history.symbol_index(a.symbol),
                a.split_ratio,
            )
            for a in (history.actions.splits() if history.actions is not None else ())
        )
        history.cache[key] = ([r for r, _, _ in splits], splits)
    return history.cache[key]
