"""What each lane hands the merge kernel: a signal, a failure, or nothing (absent by design).

Validated on construction (direction, confidence, rating, source), so `merge` can trust
its inputs and stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trading_assets.vocab import LaneSource, Rating

Source = Literal["quant", "llm"]
RATINGS: tuple[str, ...] = tuple(Rating)
_SOURCES: tuple[str, ...] = tuple(LaneSource)


@dataclass(frozen=True, slots=True)
class LaneSignal:
    """A lane that produced a signal. A reason_code or data_quality marks it degraded."""

    source: Source
    direction: int  # -1, 0, +1
    confidence: float  # [0, 1]
    rating: str | None = None  # the LLM's 5-tier rating, if any
    reason_code: str | None = None  # e.g. llm_unknown_rating
    data_quality: str | None = None  # e.g. stale_data, partial_data ("ok" counts as none)

    def __post_init__(self) -> None:
        if self.source not in _SOURCES:
            raise ValueError(f"lane source must be 'quant' or 'llm', got {self.source!r}")
        if self.direction not in (-1, 0, 1):
            raise ValueError(f"{self.source} direction must be -1, 0 or +1, got {self.direction!r}")
        if not 0.0 <= self.confidence <= 1.0:  # NaN fails too
            raise ValueError(
                f"{self.source} confidence must lie in [0, 1], got {self.confidence!r}"
            )
        if self.rating is not None and self.rating not in RATINGS:
            raise ValueError(f"{self.source} rating must be one of {RATINGS}, got {self.rating!r}")


@dataclass(frozen=True, slots=True)
class LaneFailure:
    """A configured lane that failed, timed out, answered nonsense or had no data."""

    source: Source
    reason_code: str  # e.g. llm_timeout, quant_no_data
    data_quality: str | None = None
    error: str | None = None  # a human message, never a secret

    def __post_init__(self) -> None:
        if self.source not in _SOURCES:
            raise ValueError(f"lane source must be 'quant' or 'llm', got {self.source!r}")
        if not self.reason_code:
            raise ValueError(f"a failed {self.source} lane needs a reason_code")


# None: the agent is configured without this lane. Absent by design is not a degradation.
Lane = LaneSignal | LaneFailure | None
