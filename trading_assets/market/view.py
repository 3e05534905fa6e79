"""The point-in-time view: what an agent may know on simulated date D.

On D an agent sees OHLCV through D-1 and D's open, never D's high, low, close or
volume, nor anything later. The view holds the clock; agents never pass a date, and
every accessor slices the arrays so the last visible row is D-1 (D for `open`).
Indicators are causal rolling windows computed once per history and cached; the view
only hands out their values as of D-1.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

from trading_assets.errors import LookAheadError
from trading_assets.market.history import FIELDS, PriceHistory


class PointInTimeView:
    __slots__ = ("_h", "_i", "date")

    def __init__(self, history: PriceHistory, date: dt.date):
        self._h = history
        self._i = history.index_of(date)
        self.date = date

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
    """Causal rolling mean/std of closes: row t uses rows t-window+1..t only. Cached."""
    cache = history.cache
    key = ("close", kind, window)
    if key not in cache:
        closes = history.close
        out = np.full(closes.shape, np.nan)
        if window <= len(closes):
            windows = np.lib.stride_tricks.sliding_window_view(closes, window, axis=0)
            out[window - 1 :] = windows.mean(axis=-1) if kind == "mean" else windows.std(axis=-1)
        out.setflags(write=False)
        cache[key] = out
    return cache[key]
