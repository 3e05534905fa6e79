"""The 5-tier rating scale: from a merged (direction, confidence), and from an LLM's answer."""

from __future__ import annotations

from trading_assets.kernel.lanes import RATINGS, LaneSignal
from trading_assets.kernel.reasons import LLM_UNKNOWN_RATING
from trading_assets.vocab import Rating

__all__ = ["RATINGS", "STRONG_CONFIDENCE", "action_rating", "lane_from_llm_rating", "rating_for"]

STRONG_CONFIDENCE = 0.7  # at or above: BUY / SELL; below: OVERWEIGHT / UNDERWEIGHT

_LLM_SIGNALS: dict[str, tuple[int, float]] = {
    "BUY": (1, 0.9),
    "OVERWEIGHT": (1, 0.6),
    "HOLD": (0, 0.5),
    "UNDERWEIGHT": (-1, 0.6),
    "SELL": (-1, 0.9),
}


def rating_for(direction: int, confidence: float) -> str:
    if direction > 0:
        return "BUY" if confidence >= STRONG_CONFIDENCE else "OVERWEIGHT"
    if direction < 0:
        return "SELL" if confidence >= STRONG_CONFIDENCE else "UNDERWEIGHT"
    return "HOLD"


def lane_from_llm_rating(text: str) -> LaneSignal:
    """The LLM lane's signal for its answer; an unknown rating is a degraded HOLD."""
    rating = text.strip().upper()
    known = _LLM_SIGNALS.get(rating)
    if known is None:
        # rating stays None: the raw answer is not a valid rating; the reason says why.
        return LaneSignal("llm", 0, 0.5, reason_code=LLM_UNKNOWN_RATING)
    return LaneSignal("llm", known[0], known[1], rating=rating)


def action_rating(side: str) -> Rating:
    """The LLM rating a trade an LLM agent made stands for: a buy is BUY, a sell SELL."""
    return Rating.BUY if side == "buy" else Rating.SELL
