"""The quant+LLM merge kernel: pure functions and frozen values, no Dagster, no I/O."""

from trading_assets.kernel.lanes import RATINGS, Lane, LaneFailure, LaneSignal
from trading_assets.kernel.merge import (
    DEFAULT_CONSTANTS,
    BothSignalsUnavailable,
    MergeConstants,
    MergeResult,
    merge,
)
from trading_assets.kernel.quality import DataQuality, DataQualityIssue
from trading_assets.kernel.ratings import lane_from_llm_rating, rating_for

__all__ = [
    "DEFAULT_CONSTANTS",
    "RATINGS",
    "BothSignalsUnavailable",
    "DataQuality",
    "DataQualityIssue",
    "Lane",
    "LaneFailure",
    "LaneSignal",
    "MergeConstants",
    "MergeResult",
    "lane_from_llm_rating",
    "merge",
    "rating_for",
]
