"""The data_quality summary of one merge: the worst lane state, its lane, and every issue.

Priority (worst first): provider_mismatch > non_trading_day > stale_data > partial_data >
any other state; ties go to the first issue in lane order (quant, then llm). A lane that
is absent by design is no issue: it is listed under `not_configured` so a reader can tell
"llm lane not configured" (state ok, not_configured ["llm"]) from "llm lane failed"
(a reason code and a source diagnostic, and an issue when the failure saw bad data).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from trading_assets.kernel.lanes import Source
from trading_assets.kernel.reasons import (  # states that are reason codes too
    NON_TRADING_DAY,
    PARTIAL_DATA,
    PROVIDER_AUTH_FAILED,
    PROVIDER_MISMATCH,
    STALE_DATA,
)

OK = "ok"
RESEARCH_DEGRADED = "research_degraded"
UNKNOWN = "unknown"
STATES = (
    OK,
    NON_TRADING_DAY,
    STALE_DATA,
    PARTIAL_DATA,
    PROVIDER_MISMATCH,
    PROVIDER_AUTH_FAILED,
    RESEARCH_DEGRADED,
    UNKNOWN,
)

_PRIORITY = {PROVIDER_MISMATCH: 0, NON_TRADING_DAY: 1, STALE_DATA: 2, PARTIAL_DATA: 3}
_OTHER = len(_PRIORITY)


@dataclass(frozen=True, slots=True)
class DataQualityIssue:
    """One lane's data state (also the v1alpha1 payload's `data_quality.issues[]` item)."""

    source: Source
    state: str


@dataclass(frozen=True, slots=True)
class DataQuality:
    state: str  # the worst issue's state, or "ok" when there is none
    source: str | None  # the lane of `state`; None when ok
    issues: tuple[DataQualityIssue, ...] = ()
    not_configured: tuple[str, ...] = ()  # lanes absent by design

    def to_dict(self) -> dict[str, object]:
        """The JSON shape stored in `signals.data_quality` and shown in payloads."""
        return {
            "state": self.state,
            "source": self.source,
            "issues": [{"source": i.source, "state": i.state} for i in self.issues],
            "not_configured": list(self.not_configured),
        }


def priority(state: str) -> int:
    """Lower is worse."""
    return _PRIORITY.get(state, _OTHER)


def worst_state(states: Sequence[str]) -> str | None:
    """The worst of several data_quality states (a day's, over its signals): by
    `priority`, "ok" below any issue, the first of equals; None when there are none."""
    if not states:
        return None
    return min(states, key=lambda state: (state == OK, priority(state)))


def summarize(
    issues: Sequence[DataQualityIssue], not_configured: Sequence[str] = ()
) -> DataQuality | None:
    """None when no lane has an issue and every lane is configured."""
    if not issues:
        return DataQuality(OK, None, (), tuple(not_configured)) if not_configured else None
    worst = min(issues, key=lambda i: priority(i.state))  # min keeps the first of equals
    return DataQuality(worst.state, worst.source, tuple(issues), tuple(not_configured))
