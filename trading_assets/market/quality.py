"""Data-quality rules on a price history, pure (the `market_prices` asset checks call them).

Each rule returns one `Finding` per symbol at fault, with the dates that show it:
- `missing_days`: XNYS sessions between a symbol's first and last bar (its listing) with
  no bar (neither an open nor a close);
- `bad_prices`: an open, high, low or close that is present but not a finite positive
  number (the sources reject these on load, naming file and line; this guards the store);
- `unexplained_jumps`: an open more than JUMP_THRESHOLD away from the previous close
  with no corporate action whose ex-date lies in between (a split the source does not
  record, or a bad tick). A source without corporate actions (legacy) explains none;
- `stale_symbols`: a symbol whose last bar is older than the source's last date (its file
  stopped updating, or it was delisted).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from trading_assets.market.calendar import trading_days
from trading_assets.market.history import PriceHistory

JUMP_THRESHOLD = 0.25  # |open / previous close - 1| above this needs a corporate action
MAX_DATES_SHOWN = 10


@dataclass(frozen=True)
class Finding:
    symbol: str
    dates: tuple[dt.date, ...]
    detail: str  # what is wrong, in a few words

    def __str__(self) -> str:
        shown = ", ".join(d.isoformat() for d in self.dates[:MAX_DATES_SHOWN])
        hidden = len(self.dates) - MAX_DATES_SHOWN
        more = f" (+{hidden} more)" if hidden > 0 else ""
        return f"{self.symbol}: {self.detail} on {shown}{more}"


def missing_days(history: PriceHistory) -> list[Finding]:
    first, last = history.listing_rows()
    has_bar = ~np.isnan(history.close) | ~np.isnan(history.open)
    findings = []
    for j, symbol in enumerate(history.symbols):
        if first[j] < 0:
            continue
        present = {history.dates[i] for i in np.flatnonzero(has_bar[:, j])}
        sessions = trading_days(history.dates[first[j]], history.dates[last[j]])
        gaps = tuple(d for d in sessions if d not in present)
        if gaps:
            findings.append(Finding(symbol, gaps, f"{len(gaps)} XNYS session(s) without a bar"))
    return findings


def bad_prices(history: PriceHistory) -> list[Finding]:
    prices = np.stack([history.open, history.high, history.low, history.close])
    bad = (~np.isnan(prices) & ~(np.isfinite(prices) & (prices > 0))).any(axis=0)
    return [
        Finding(
            symbol,
            tuple(history.dates[i] for i in np.flatnonzero(bad[:, j])),
            "a price that is not a finite positive number",
        )
        for j, symbol in enumerate(history.symbols)
        if bad[:, j].any()
    ]


def unexplained_jumps(history: PriceHistory, threshold: float = JUMP_THRESHOLD) -> list[Finding]:
    rows = np.arange(len(history.dates))[:, None]
    last_close = np.where(~np.isnan(history.close), rows, -1)
    np.maximum.accumulate(last_close, axis=0, out=last_close)
    prev = np.vstack([np.full((1, last_close.shape[1]), -1), last_close[:-1]])  # before row i
    cols = np.arange(len(history.symbols))
    with np.errstate(invalid="ignore"):
        ratio = history.open / history.close[np.maximum(prev, 0), cols]
        jumps = (prev >= 0) & (np.abs(ratio - 1.0) > threshold)
    findings = []
    for j, symbol in enumerate(history.symbols):
        days = tuple(
            history.dates[i]
            for i in np.flatnonzero(jumps[:, j])
            if not _has_action(history, symbol, history.dates[prev[i, j]], history.dates[i])
        )
        if days:
            detail = f"open moved > {threshold:.0%} from the previous close, no corporate action"
            findings.append(Finding(symbol, days, detail))
    return findings


def _has_action(history: PriceHistory, symbol: str, after: dt.date, upto: dt.date) -> bool:
    if history.actions is None:
        return False
    return any(symbol in day for day in history.actions.between(after, upto))


def stale_symbols(history: PriceHistory) -> list[Finding]:
    _, last = history.listing_rows()
    newest = len(history.dates) - 1
    return [
        Finding(
            symbol,
            (history.dates[last[j]],),
            f"last bar older than the source's last date {history.dates[-1]}",
        )
        for j, symbol in enumerate(history.symbols)
        if 0 <= last[j] < newest
    ]
