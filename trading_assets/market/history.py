"""PriceHistory: daily OHLCV for a set of symbols on one trading-day index.

Columnar numpy arrays (dates x symbols) so the engine and the point-in-time view
index without pandas on the hot path. Missing bars are NaN. A symbol is listed from
its first bar to its last (`listing`); before and after, it has no price and cannot be
traded. `actions` holds the source's corporate actions (splits, dividends; prices are
raw, in the shares of their day); None when the source carries none (legacy files).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from trading_assets.errors import MarketDataError
from trading_assets.market.actions import CorporateActions

FIELDS = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, eq=False)
class PriceHistory:
    dates: tuple[dt.date, ...]
    symbols: tuple[str, ...]
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    source: str = "unknown"
    actions: CorporateActions | None = None  # None: the source has no corporate actions
    _date_index: dict[dt.date, int] = field(init=False, repr=False)
    _symbol_index: dict[str, int] = field(init=False, repr=False)
    cache: dict = field(init=False, repr=False)  # derived arrays (indicators), see view.py

    def __post_init__(self) -> None:
        shape = (len(self.dates), len(self.symbols))
        for name in FIELDS:
            arr = getattr(self, name)
            if arr.shape != shape:
                raise ValueError(f"{name} has shape {arr.shape}, expected {shape}")
            arr.setflags(write=False)
        if list(self.dates) != sorted(set(self.dates)):
            raise ValueError("dates must be strictly increasing")
        object.__setattr__(self, "_date_index", {d: i for i, d in enumerate(self.dates)})
        object.__setattr__(self, "_symbol_index", {s: j for j, s in enumerate(self.symbols)})
        object.__setattr__(self, "cache", {})

    @classmethod
    def from_frame(
        cls, frame: pd.DataFrame, *, source: str, actions: CorporateActions | None = None
    ) -> PriceHistory:
        """Build from a long frame with columns date, symbol, open, high, low, close, volume."""
        frame = frame.copy()
        frame["date"] = pd.to_datetime(frame["date"]).dt.date
        dates = tuple(sorted(frame["date"].unique()))
        symbols = tuple(sorted(frame["symbol"].unique()))
        arrays = {}
        for name in FIELDS:
            wide = frame.pivot(index="date", columns="symbol", values=name)
            wide = wide.reindex(index=list(dates), columns=list(symbols))
            arrays[name] = wide.to_numpy(dtype=np.float64, na_value=np.nan)
        return cls(dates=dates, symbols=symbols, source=source, actions=actions, **arrays)

    def to_frame(self) -> pd.DataFrame:
        """Long frame (date, symbol, OHLCV) without the NaN rows."""
        n_dates, n_symbols = len(self.dates), len(self.symbols)
        frame = pd.DataFrame(
            {
                "date": np.repeat(np.array(self.dates, dtype=object), n_symbols),
                "symbol": np.tile(np.array(self.symbols, dtype=object), n_dates),
                **{name: getattr(self, name).reshape(-1) for name in FIELDS},
            }
        )
        return frame.dropna(subset=["close"]).reset_index(drop=True)

    def index_of(self, date: dt.date) -> int:
        try:
            return self._date_index[date]
        except KeyError:
            raise MarketDataError(
                f"no prices for {date} in {self.source}",
                fix="pick a trading day the market data covers, or add the missing day's prices",
            ) from None

    def has_date(self, date: dt.date) -> bool:
        return date in self._date_index

    def symbol_index(self, symbol: str) -> int:
        try:
            return self._symbol_index[symbol]
        except KeyError:
            known = ", ".join(self.symbols[:12]) + (" ..." if len(self.symbols) > 12 else "")
            raise MarketDataError(
                f"unknown symbol {symbol!r} in {self.source} (known: {known})",
                fix="remove it from the universe or add its price file",
            ) from None

    def select(self, symbols: Sequence[str]) -> PriceHistory:
        """The same history restricted to `symbols` (each must be known)."""
        cols = [self.symbol_index(s) for s in symbols]
        return PriceHistory(
            dates=self.dates,
            symbols=tuple(symbols),
            source=self.source,
            actions=None if self.actions is None else self.actions.for_symbols(symbols),
            **{name: getattr(self, name)[:, cols].copy() for name in FIELDS},
        )

    def with_actions(self, actions: CorporateActions | None) -> PriceHistory:
        """The same bars with other corporate actions (None: raw prices, no actions)."""
        if actions is not None:
            actions = actions.for_symbols(self.symbols)
        arrays = {name: getattr(self, name) for name in FIELDS}
        return PriceHistory(
            dates=self.dates, symbols=self.symbols, source=self.source, actions=actions, **arrays
        )

    def listing(self, symbol: str) -> tuple[dt.date, dt.date] | None:
        """(first, last) date with a bar (an open or a close) for `symbol`; None when none."""
        first, last = self.listing_rows()
        j = self.symbol_index(symbol)
        return None if first[j] < 0 else (self.dates[first[j]], self.dates[last[j]])

    def listing_dates(self) -> dict[str, tuple[dt.date, dt.date] | None]:
        return {s: self.listing(s) for s in self.symbols}

    def listing_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Row of each symbol's first and last bar (-1 when none). Cached. A bar is an open
        or a close: on its first day a symbol's open is known before its close."""
        key = ("listing",)
        if key not in self.cache:
            has = ~np.isnan(self.close) | ~np.isnan(self.open)
            any_bar = has.any(axis=0)
            first = np.where(any_bar, has.argmax(axis=0), -1)
            last = np.where(any_bar, len(self.dates) - 1 - has[::-1].argmax(axis=0), -1)
            self.cache[key] = (first, last)
        return self.cache[key]
