"""The default benchmark: buy and hold the model's universe, equal weight, total return.

`buy_and_hold_returns` is pure: it takes total-return closes and opens (adjusted for
splits and dividends) as wide frames, one column per symbol, indexed by date.
`total_return_prices(history)` and `total_return_opens(history)` build them from a
source's raw bars and its corporate actions (`PriceHistory.actions`), the same splits and
dividends the simulation applies, so every source with actions gets a total-return
benchmark (the bundled one reproduces bokeh-sampledata's `adj_close` returns).

The benchmark is held over the account's own period, from the same first open: a model
starts with its cash at its first day's open, so the benchmark puts 1/N of the same
capital into each symbol at that open and never rebalances. Its value at a close is the
mean of each symbol's total-return close relative to its buying open, and its first
day's return is that day's open-to-close move (not 0). A symbol not yet trading on the
first date (GOOG before 2004-08-19 in the bundled data) keeps its 1/N in cash until its
first open, then buys in there, as the buy_and_hold agent does. A missing close later is
carried forward from the symbol's last one; a bar without an open buys at its close.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from trading_assets.market.history import PriceHistory


def buy_and_hold_returns(
    prices: pd.DataFrame,
    universe: Sequence[str] | None = None,
    dates: Sequence | None = None,
    *,
    opens: pd.DataFrame,
) -> pd.Series:
    """Daily returns of an equal-weight buy-and-hold of `universe` (default: every column)
    over `dates` (default: every row), bought at the first open (`opens`, the same shape
    as the closes `prices`), named 'benchmark'."""
    symbols = list(universe) if universe is not None else list(prices.columns)
    missing = [s for s in symbols if s not in prices.columns or s not in opens.columns]
    if missing:
        raise ValueError(
            f"no prices for {', '.join(missing)}; the benchmark needs every symbol of the "
            "universe (pass closes and opens with one column per symbol)"
        )
    close, open_ = (_frame(f, symbols, dates) for f in (prices, opens))
    open_ = open_.reindex(close.index).fillna(close)
    bought_at = open_.bfill().iloc[0] if len(close) else pd.Series(dtype=float)
    never = [s for s in symbols if pd.isna(bought_at.get(s))]
    if len(close) == 0 or never:
        raise ValueError(
            f"no price at all for {', '.join(never) or 'any symbol'} between the "
            "benchmark's first and last date; pass prices covering the model's dates"
        )
    value = (close.ffill() / bought_at).fillna(1.0).mean(axis=1)
    returns = value / value.shift(1, fill_value=1.0) - 1.0
    return returns.rename("benchmark")


def _frame(prices: pd.DataFrame, symbols: list[str], dates: Sequence | None) -> pd.DataFrame:
    frame = prices[symbols].sort_index()
    frame.index = pd.DatetimeIndex(frame.index)
    return frame if dates is None else frame.reindex(pd.DatetimeIndex(sorted(dates)))


def total_return_prices(history: PriceHistory) -> pd.DataFrame:
    """Each symbol's close, compounded with its splits and reinvested dividends, wide.

    Between two consecutive bars of a symbol, one share held at the earlier close
    becomes `split_ratio` shares and collects `dividend` in cash for each ex-date in
    between (in date order), so the day's gross return is (shares x close + cash) /
    previous close. The first bar is the raw close; no actions (None) leaves raw closes.
    """
    close = np.asarray(history.close, dtype=float)
    adjusted = np.full_like(close, np.nan)
    actions = history.actions
    for j, symbol in enumerate(history.symbols):
        rows = np.flatnonzero(~np.isnan(close[:, j]))
        if not len(rows):
            continue
        level, previous = close[rows[0], j], rows[0]
        adjusted[previous, j] = level
        for row in rows[1:]:
            shares, cash = 1.0, 0.0
            if actions is not None:
                for day in actions.between(history.dates[previous], history.dates[row]):
                    if symbol in day:
                        cash += shares * day[symbol].dividend
                        shares *= day[symbol].split_ratio
            level *= (shares * close[row, j] + cash) / close[previous, j]
            adjusted[row, j], previous = level, row
    index = pd.DatetimeIndex(pd.to_datetime(list(history.dates)))
    return pd.DataFrame(adjusted, index=index, columns=list(history.symbols))


def total_return_opens(history: PriceHistory) -> pd.DataFrame:
    """Each symbol's open on the total-return scale of `total_return_prices`: a day's open
    and close are in the same shares (the day's actions happen before the open), so the
    open is the total-return close times the raw open / close. NaN where either is missing."""
    closes = total_return_prices(history)
    ratio = np.asarray(history.open, dtype=float) / np.asarray(history.close, dtype=float)
    return closes * ratio
