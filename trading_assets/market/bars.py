"""The one rule for a valid daily bar, used by every market-data source (legacy files too).

A bar is valid when its date is a YYYY-MM-DD weekday no later than today (the caller's
clock) and open, high, low and close are numbers in [MIN_PRICE, MAX_PRICE] with
low <= open, close <= high, and volume is in [0, MAX_VOLUME]. An open-only bar (the
legacy merged.jsonl's newest date: not valuable yet) needs a valid date and an open in
bounds, and keeps NaN elsewhere. A (symbol, date) may appear once.

The bounds keep every figure derived from a bar exact and finite: with initial_cash at
most 1e12 (config.py) and a price at least 1e-4, a position is at most 1e16 shares,
inside the store's BIGINT; no listed share has traded above 1e6 (a price of 1e308 would
value a position at inf). A bar dated after today would move the date partitions'
range into the future; a weekend bar is no session of any exchange we simulate.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from trading_assets.errors import MarketDataError
from trading_assets.market.history import FIELDS

MIN_PRICE = 1e-4
MAX_PRICE = 1e7
MAX_VOLUME = 1e15
RULE = (
    f"dates must be YYYY-MM-DD and prices positive numbers in [{MIN_PRICE:g}, {MAX_PRICE:g}] with "
    "low <= open, close <= high"
)


def check_bars(
    frame: pd.DataFrame,
    where: Sequence[str],
    *,
    fix: str,
    today: dt.date,
    open_only: np.ndarray | None = None,
) -> pd.DataFrame:
    """Parse `frame` (date, symbol, OHLCV as text or numbers) into date objects and floats.

    `where[i]` names row i for the user (e.g. "prices/AAPL.csv:4"); the first bad,
    weekend, future or repeated bar raises MarketDataError naming it, with `fix` as what
    to do. `today` is the clock's date: no bar may be dated after it.
    """
    only = np.zeros(len(frame), dtype=bool) if open_only is None else np.asarray(open_only)
    dates = pd.to_datetime(frame["date"].astype(str), errors="coerce", format="%Y-%m-%d")
    v = {c: pd.to_numeric(frame[c], errors="coerce").astype(float).to_numpy() for c in FIELDS}
    finite = np.logical_and.reduce([np.isfinite(v[c]) for c in FIELDS])
    with np.errstate(invalid="ignore"):
        prices = np.stack([v["open"], v["high"], v["low"], v["close"]])
        in_bounds = ((prices >= MIN_PRICE) & (prices <= MAX_PRICE)).all(axis=0)
    full = (
        finite
        & in_bounds
        & (v["volume"] >= 0)
        & (v["volume"] <= MAX_VOLUME)
        & (v["high"] >= np.maximum.reduce([v["open"], v["close"], v["low"]]))
        & (v["low"] <= np.minimum(v["open"], v["close"]))
    )
    opened = (v["open"] >= MIN_PRICE) & (v["open"] <= MAX_PRICE)
    bad = dates.isna().to_numpy() | np.where(only, ~opened, ~full)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        row = frame.iloc[pos][["date", *FIELDS]].to_dict()
        raise MarketDataError(f"bad bar {row}: {RULE}", where=where[pos], fix=fix)
    out = pd.DataFrame({"date": dates.dt.date.to_numpy(), "symbol": frame["symbol"].to_numpy()})
    _check_dates(out, where, today)
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


def _check_dates(bars: pd.DataFrame, where: Sequence[str], today: dt.date) -> None:
    days = pd.to_datetime(bars["date"])
    future = (days > pd.Timestamp(today)).to_numpy()
    weekend = (days.dt.weekday >= 5).to_numpy()
    for mask, problem, fix in (
        (future, f"after today ({today})", "a bar is a day that has closed"),
        (weekend, "a weekend day", "no exchange session falls on a weekend"),
    ):
        if mask.any():
            pos = int(np.flatnonzero(mask)[0])
            day = bars["date"].iloc[pos]
            raise MarketDataError(
                f"bar dated {day} ({day:%A}) for {bars['symbol'].iloc[pos]}: {problem}",
                where=where[pos],
                fix=f"correct the date or delete that line ({fix})",
            )
