"""The quant+LLM merge kernel: two lanes in, one rated signal out.

Contract (pure: no I/O, no clock, no randomness; the same inputs give the same result):
- Both lanes signal: qc = min(q.conf, quant_weight_cap), lc = min(l.conf, llm_weight_cap),
  S = q.dir*qc + l.dir*lc; direction = sign(S) (0 -> HOLD); confidence = |S| / (qc + lc),
  0 when qc + lc == 0.
- One lane signals: its direction; confidence min(conf * solo_penalty, weight_cap).
- No lane signals (failed or absent): raise BothSignalsUnavailable.
- rating = rating_for(direction, confidence).
Degraded means a reason code on the result. The reason codes are each lane's reason_code
and data_quality state (quant first, no duplicates): so a failed configured lane
(LaneFailure) or a doubtful signal degrades, while a lane that is None (absent by design)
does not; it is named in data_quality.not_configured instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from trading_assets.kernel.lanes import Lane, LaneFailure, LaneSignal
from trading_assets.kernel.quality import OK, DataQuality, DataQualityIssue, summarize
from trading_assets.kernel.ratings import action_rating, lane_from_llm_rating, rating_for
from trading_assets.kernel.reasons import BOTH_SIGNALS_UNAVAILABLE

__all__ = [
    "DEFAULT_CONSTANTS",
    "BothSignalsUnavailable",
    "Lane",
    "LaneFailure",
    "LaneSignal",
    "MergeConstants",
    "MergeResult",
    "merge",
]

Diagnostics = Mapping[str, Mapping[str, str | None]]


def _constant(default: float, doc: str) -> Any:
    return field(default=default, metadata={"doc": doc})


@dataclass(frozen=True, slots=True)
class MergeConstants:
    """The kernel's four constants, each in [0, 1] (the Dagster resource derives from these)."""

    quant_weight_cap: float = _constant(
        0.8, "Cap on the quant lane's confidence (also caps a quant-only signal)."
    )
    llm_weight_cap: float = _constant(
        0.9, "Cap on the LLM lane's confidence (also caps an LLM-only signal)."
    )
    quant_solo_penalty: float = _constant(
        0.8, "Multiplier on the quant confidence when only the quant lane signals."
    )
    llm_solo_penalty: float = _constant(
        0.7, "Multiplier on the LLM confidence when only the LLM lane signals."
    )

    def __post_init__(self) -> None:
        for name in (f.name for f in fields(self)):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:  # NaN fails too
                raise ValueError(f"merge constant {name} must lie in [0, 1], got {value!r}")


DEFAULT_CONSTANTS = MergeConstants()


@dataclass(frozen=True, slots=True)
class MergeResult:
    direction: int
    confidence: float
    rating: str  # BUY / OVERWEIGHT / HOLD / UNDERWEIGHT / SELL
    degraded: bool
    reason_codes: tuple[str, ...]
    quant: Lane  # the inputs, kept for the store's per-lane columns
    llm: Lane
    data_quality: DataQuality | None = None
    source_diagnostics: Diagnostics = field(default_factory=dict)  # lanes with problems


class BothSignalsUnavailable(Exception):
    """Neither lane produced a signal; reason_codes end with both_signals_unavailable."""

    message = "both quant and llm signals are None"

    def __init__(
        self,
        reason_codes: tuple[str, ...],
        source_diagnostics: Diagnostics,
        data_quality: DataQuality | None,
    ):
        super().__init__(self.message)
        self.reason_codes = reason_codes
        self.source_diagnostics = source_diagnostics
        self.data_quality = data_quality

    def __reduce__(self):  # picklable across Dagster's process boundaries
        return type(self), (self.reason_codes, self.source_diagnostics, self.data_quality)


def merge(quant: Lane, llm: Lane, constants: MergeConstants = DEFAULT_CONSTANTS) -> MergeResult:
    """Merge the quant and LLM lanes into one signal (see the module docstring)."""
    if (isinstance(quant, LaneSignal) and quant.source != "quant") or (
        isinstance(llm, LaneSignal) and llm.source != "llm"
    ):
        raise ValueError(f"lanes swapped: quant={quant!r}, llm={llm!r}")
    if isinstance(quant, LaneSignal) and isinstance(llm, LaneSignal):
        qc = min(quant.confidence, constants.quant_weight_cap)
        lc = min(llm.confidence, constants.llm_weight_cap)
        s = quant.direction * qc + llm.direction * lc
        direction = (s > 0) - (s < 0)
        total = qc + lc
        confidence = abs(s) / total if total > 0 else 0.0
        if _clean(quant) and _clean(llm):  # the common case: nothing to report
            rating = rating_for(direction, confidence)
            return MergeResult(direction, confidence, rating, False, (), quant, llm, None, {})
    elif isinstance(quant, LaneSignal):
        direction = quant.direction
        confidence = min(
            quant.confidence * constants.quant_solo_penalty, constants.quant_weight_cap
        )
    elif isinstance(llm, LaneSignal):
        direction = llm.direction
        confidence = min(llm.confidence * constants.llm_solo_penalty, constants.llm_weight_cap)
    else:
        codes, diagnostics, quality = _degradation(quant, llm)
        raise BothSignalsUnavailable((*codes, BOTH_SIGNALS_UNAVAILABLE), diagnostics, quality)
    codes, diagnostics, quality = _degradation(quant, llm)
    rating = rating_for(direction, confidence)
    return MergeResult(
        direction, confidence, rating, bool(codes), codes, quant, llm, quality, diagnostics
    )


def _clean(lane: LaneSignal) -> bool:
    return lane.reason_code is None and (lane.data_quality is None or lane.data_quality == OK)


def _degradation(quant: Lane, llm: Lane) -> tuple[tuple[str, ...], Diagnostics, DataQuality | None]:
    """Reason codes, per-lane diagnostics and the data_quality summary of both lanes."""
    codes: list[str] = []
    diagnostics: dict[str, Mapping[str, str | None]] = {}
    issues: list[DataQualityIssue] = []
    not_configured: list[str] = []
    for name, lane in (("quant", quant), ("llm", llm)):
        if lane is None:
            not_configured.append(name)
            continue
        if not isinstance(lane, LaneSignal | LaneFailure):
            raise TypeError(
                f"the {name} lane must be a LaneSignal, a LaneFailure or None, "
                f"got {type(lane).__name__}"
            )
        state = None if lane.data_quality in (None, OK) else lane.data_quality
        for code in (lane.reason_code, state):
            if code is not None and code not in codes:
                codes.append(code)
        if state is not None:
            issues.append(DataQualityIssue(name, state))
        error = lane.error if isinstance(lane, LaneFailure) else None
        if isinstance(lane, LaneFailure) or lane.reason_code is not None or state is not None:
            diagnostics[name] = {
                "reason_code": lane.reason_code,
                "data_quality": state,
                "error": error,
            }
    return tuple(codes), diagnostics, summarize(issues, not_configured)


def action_signal(side: str) -> MergeResult:
    """A trade an LLM agent made (a legacy replay's, an llm_trader's) as a decision: an
    LLM-lane signal of its rating, merged LLM-only. The one home of this rule: replay and
    llm_trader decide with it and the legacy parity check expects it."""
    return merge(None, lane_from_llm_rating(action_rating(side)))
