"""The prompt: built only from a PointInTimeView and the current position.

Everything in it is known at D's open: closes through D-1, D's open, returns over 5 and
20 days, the date and the symbol. The view enforces that (it slices arrays to D-1), so
a price on or after D other than D's open cannot reach the prompt. Numbers are rounded
and NaN becomes null, so the same market state always yields the same bytes, and
`prompt_hash` (sha256 of canonical JSON) is a stable cache key.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from trading_assets.market.view import PointInTimeView

CLOSES_SHOWN = 20
RETURN_WINDOWS = (5, 20)

SYSTEM_PROMPT = (
    "You are an equity analyst giving a one-day trading rating for a single stock. "
    "Use only the market data you are given; it is everything known at today's open. "
    "Reply with one JSON object and nothing else: "
    '{"rating": "BUY" | "OVERWEIGHT" | "HOLD" | "UNDERWEIGHT" | "SELL", '
    '"rationale": "at most 2 sentences"}.'
)


def build_messages(view: PointInTimeView, symbol: str, shares_held: float) -> list[dict[str, str]]:
    """System + user messages for `symbol` on the view's date."""
    closes = view.closes(symbol, lookback=max(CLOSES_SHOWN, *RETURN_WINDOWS) + 1)
    previous = view.previous_date
    facts: dict[str, Any] = {
        "date": view.date.isoformat(),
        "symbol": symbol,
        "shares_held": _number(shares_held),
        "open_today": _price(view.open(symbol)),
        "previous_trading_day": previous.isoformat() if previous else None,
        "closes_through_previous_day": [_price(c) for c in closes[-CLOSES_SHOWN:]],
    }
    for window in RETURN_WINDOWS:
        facts[f"return_{window}d_pct"] = _return_pct(closes, window)
    user = (
        f"Market data for {symbol} at the open of {view.date.isoformat()} "
        "(closes are oldest first, null = no trade that day):\n"
        f"{json.dumps(facts, separators=(', ', ': '))}\n"
        "Rate the stock for today as JSON with the fields rating and rationale."
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def prompt_hash(messages: Sequence[Mapping[str, str]]) -> str:
    """sha256 hex of the messages as canonical JSON (sorted keys, no spaces, UTF-8)."""
    return canonical_hash([dict(m) for m in messages])


def canonical_hash(value: Any) -> str:
    """sha256 hex of `value` as canonical JSON (sorted keys, no spaces, UTF-8): the cache
    key of a prompt, or of a whole chat-completions request (llm_trader)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _price(value: float) -> float | None:
    return None if math.isnan(value) else round(float(value), 4)


def _number(value: float) -> int | float:
    # 10 and 10.0 shares must hash the same.
    value = float(value)
    return int(value) if value.is_integer() else round(value, 6)


def _return_pct(closes: np.ndarray, window: int) -> float | None:
    if len(closes) <= window:
        return None
    start, end = float(closes[-window - 1]), float(closes[-1])
    if math.isnan(start) or math.isnan(end) or start == 0:
        return None
    return round((end / start - 1.0) * 100.0, 2)
