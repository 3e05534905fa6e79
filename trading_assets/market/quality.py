"""Data-quality rules on a price history, pure (the `market_prices` asset checks call them).

Each rule returns one `Finding` per symbol at fault, with the dates that show it:
- `missing_days`: XNYS sessions between a symbol's first and last bar (its listing) with
  no bar (neither an open nor a close);
- `bad_prices`: an open, high, low or close that is present but not a number in
  [MIN_PRICE, MAX_PRICE] (market.bars; the sources reject these on load, naming file and
  line; this guards the store and what older versions stored);
- `impossible_actions`: a corporate action for a symbol without bars, a split ratio
  outside [MIN_SPLIT_RATIO, MAX_SPLIT_RATIO], or a dividend not below the close it is
  paid on (the previous bar's: a dividend takes value from the share, it cannot exceed
  it). The folder source refuses these on load, naming file and line;
- `unexplained_jumps`: an open more than JUMP_THRESHOLD away from the previous close
  with no corporate action whose ex-date lies in between (a split the source does not
  record, or a bad tick). A source without corporate actions (legacy) explains none;
- `stale_symbols`: a symbol whose last bar is older than the source's last date (its file
  stopped updating, or it was delisted).
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass

import numpy as np

from trading_assets.market.actions import MAX_SPLIT_RATIO, MIN_SPLIT_RATIO, CorporateAction
from trading_assets.market.bars import MAX_PRICE, MIN_PRICE
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
    with np.errstate(invalid="ignore"):
        in_bounds = (prices >= MIN_PRICE) & (prices <= MAX_PRICE)
    bad = (~np.isnan(prices) & ~in_bounds).any(axis=0)
    return [
        Finding(
            symbol,
            tuple(history.dates[i] for i in np.flatnonzero(bad[:, j])),
            f"a price that is not a number in [{MIN_PRICE:g}, {MAX_PRICE:g}]",
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


def action_problem(history: PriceHistory, action: CorporateAction) -> str | None:
    """What makes `action` impossible against `history`'s bars, or None."""
    if action.symbol not in history.symbols:
        return f"no bars for {action.symbol}"
    j = history.symbol_index(action.symbol)
    if not MIN_SPLIT_RATIO <= action.split_ratio <= MAX_SPLIT_RATIO:
        bounds = f"[{MIN_SPLIT_RATIO:g}, {MAX_SPLIT_RATIO:g}]"
        return f"split_ratio {action.split_ratio:g} outside {bounds}"
    if action.dividend > 0:
        closes = history.close[: bisect.bisect_left(history.dates, action.ex_date), j]
        closes = closes[~np.isnan(closes)]
        if len(closes) and action.dividend >= closes[-1]:
            return (
                f"dividend {action.dividend:g} per share is not below the previous close "
                f"{closes[-1]:g}"
            )
    return None


def impossible_actions(history: PriceHistory) -> list[Finding]:
    if history.actions is None:
        return []
    found: dict[str, list[tuple[dt.date, str]]] = {}
    for action in history.actions:
        problem = action_problem(history, action)
        if problem:
            found.setdefault(action.symbol, []).append((action.ex_date, problem))
    return [
        Finding(symbol, tuple(d for d, _ in items), f"impossible corporate action ({items[0][1]})")
        for symbol, items in sorted(found.items())
    ]
