"""The default benchmark: buy and hold the model's universe, equal weight, total return.

`buy_and_hold_returns` is pure: it takes total-return prices (adjusted for splits and
dividends) as a wide frame, one column per symbol, indexed by date. For the bundled data
those are bokeh-sampledata's `adj_close` (`bundled_total_return_prices`); another source
passes its own adjusted prices once it has corporate actions.

The benchmark puts 1/N of its capital into each symbol at the first date's close and never
rebalances, so its value is the mean of each symbol's price relative to its buying price.
Its first day's return is 0. A symbol not yet trading on the first date (GOOG before
2004-08-19 in the bundled data) keeps its 1/N in cash until its first close, then buys
in there. A missing price later is carried forward from the symbol's last one.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from trading_assets.market.sources import BUNDLED_SYMBOLS


def buy_and_hold_returns(
    prices: pd.DataFrame,
    universe: Sequence[str] | None = None,
    dates: Sequence | None = None,
) -> pd.Series:
    """Daily returns of an equal-weight buy-and-hold of `universe` (default: every column)
    over `dates` (default: every row), named 'benchmark'."""
    symbols = list(universe) if universe is not None else list(prices.columns)
    missing = [s for s in symbols if s not in prices.columns]
    if missing:
        raise ValueError(
            f"no prices for {', '.join(missing)}; the benchmark needs every symbol of the "
            "universe (pass prices with one column per symbol)"
        )
    frame = prices[symbols].sort_index()
    frame.index = pd.DatetimeIndex(frame.index)
    if dates is not None:
        frame = frame.reindex(pd.DatetimeIndex(sorted(dates)))
    bought_at = frame.bfill().iloc[0] if len(frame) else pd.Series(dtype=float)
    never = [s for s in symbols if pd.isna(bought_at.get(s))]
    if len(frame) == 0 or never:
        raise ValueError(
            f"no price at all for {', '.join(never) or 'any symbol'} between the "
            "benchmark's first and last date; pass prices covering the model's dates"
        )
    value = (frame.ffill() / bought_at).fillna(1.0).mean(axis=1)
    returns = value.pct_change().fillna(0.0)
    return returns.rename("benchmark")


def bundled_total_return_prices() -> pd.DataFrame:
    """The bundled symbols' split- and dividend-adjusted closes (`adj_close`), wide."""
    from bokeh_sampledata import stocks

    columns = {}
    for symbol in BUNDLED_SYMBOLS:
        data = getattr(stocks, symbol)
        columns[symbol] = pd.Series(
            data["adj_close"], index=pd.DatetimeIndex(data["date"]), dtype=float
        )
    return pd.DataFrame(columns).sort_index()
