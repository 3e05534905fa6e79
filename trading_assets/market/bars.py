"""The one rule for a valid daily bar, used by every market-data source (legacy files too).

A bar is valid when its date is YYYY-MM-DD and open, high, low and close are finite
positive numbers with low <= open, close <= high, and volume is finite and >= 0. An
open-only bar (the legacy merged.jsonl's newest date: not valuable yet) needs a valid
date and a positive open, and keeps NaN elsewhere. A (symbol, date) may appear once.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from trading_assets.errors import MarketDataError
from trading_assets.market.history import FIELDS

RULE = "dates must be YYYY-MM-DD and prices positive numbers with low <= open, close <= high"


def check_bars(
    frame: pd.DataFrame,
    where: Sequence[str],
    *,
    fix: str,
    open_only: np.ndarray | None = None,
) -> pd.DataFrame:
    """Parse `frame` (date, symbol, OHLCV as text or numbers) into date objects and floats.

    `where[i]` names row i for the user (e.g. "prices/AAPL.csv:4"); the first bad or
    repeated bar raises MarketDataError naming it, with `fix` as what to do.
    """
    only = np.zeros(len(frame), dtype=bool) if open_only is None else np.asarray(open_only)
    dates = pd.to_datetime(frame["date"].astype(str), errors="coerce", format="%Y-%m-%d")
    v = {c: pd.to_numeric(frame[c], errors="coerce").astype(float).to_numpy() for c in FIELDS}
    finite = np.logical_and.reduce([np.isfinite(v[c]) for c in FIELDS])
    full = (
        finite
        & (np.minimum.reduce([v["open"], v["high"], v["low"], v["close"]]) > 0)
        & (v["volume"] >= 0)
        & (v["high"] >= np.maximum.reduce([v["open"], v["close"], v["low"]]))
        & (v["low"] <= np.minimum(v["open"], v["close"]))
    )
    opened = np.isfinite(v["open"]) & (v["open"] > 0)
    bad = dates.isna().to_numpy() | np.where(only, ~opened, ~full)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        row = frame.iloc[pos][["date", *FIELDS]].to_dict()
        raise MarketDataError(f"bad bar {row}: {RULE}", where=where[pos], fix=fix)
    out = pd.DataFrame({"date": dates.dt.date.to_numpy(), "symbol": frame["symbol"].to_numpy()})
    dup = out.duplicated(["symbol", "date"]).to_numpy()
    if dup.any():
        pos = int(np.flatnonzero(dup)[0])
        raise MarketDataError(
            f"duplicate date {out['date'].iloc[pos]} for {out['symbol'].iloc[pos]}: "
            "it appears twice",
            where=where[pos],
            fix="keep one bar per symbol and date (one price file per symbol)",
        )
    for c in FIELDS:
        out[c] = v[c]
    return out
