"""Result contract v1alpha1: the public payloads (pydantic) and their store rows.

Payloads: ModelDayStatus (one per model-day) and SymbolDecision (one per model-day-symbol).
Every payload carries contract_version "v1alpha1". Enumerations that describe our own
machinery (status, stage, rating, lane) are closed; reason codes and data_quality states
are open strings, because later versions add to them. docs/contracts/ explains each field.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trading_assets.kernel.lanes import Lane, LaneFailure, LaneSignal
from trading_assets.kernel.lanes import Source as LaneName
from trading_assets.kernel.merge import MergeResult
from trading_assets.kernel.quality import DataQualityIssue
from trading_assets.kernel.ratings import rating_for
from trading_assets.vocab import CONTRACT_VERSION, FINISHED_STATUSES
from trading_assets.vocab import DayStatus as _DayStatus
from trading_assets.vocab import Rating as _Rating

# Closed enumerations as Literals (the JSON Schema lists their values), built from vocab.
ContractVersion = Literal[CONTRACT_VERSION]
Rating = Literal[tuple(r.value for r in _Rating)]
Direction = Literal[-1, 0, 1]
DayStatus = Literal[tuple(s.value for s in _DayStatus)]
Stage = Literal["load_state", "decide", "fill", "value", "write"]
StageState = Literal["pending", "running", "completed", "failed", "cancelled"]
STAGES: tuple[str, ...] = get_args(Stage)
# `progress` once a stage is done; the engine reports these, so progress never goes back.
STAGE_PROGRESS = {"load_state": 10, "decide": 60, "fill": 75, "value": 90, "write": 100}
_compact_json = json.JSONEncoder(separators=(",", ":")).encode
FINISHED = FINISHED_STATUSES


class _Payload(BaseModel):
    # Fields with defaults are still always emitted, so the schema marks them required.
    model_config = ConfigDict(frozen=True, json_schema_serialization_defaults_required=True)


class StageInfo(_Payload):
    name: Stage
    status: StageState
    completed_at: dt.datetime | None = None  # only the last stage's time is recorded


class ErrorInfo(_Payload):
    code: str  # e.g. model_day_failed, market_data_error, cancelled
    message: str = Field(min_length=1)
    retryable: bool


class DayFigures(_Payload):
    cash: float
    portfolio_value: float
    positions_value: float | None = None
    daily_return: float | None = None  # None on a model's first day
    cumulative_return: float | None = None
    n_orders: int | None = None
    n_filled: int | None = None
    n_rejected: int | None = None


class DayDataQuality(_Payload):
    state: str  # the worst state among the day's symbol decisions


class ModelDayStatus(_Payload):
    """Where one model's simulation of one date stands, and its outcome (v1alpha1)."""

    contract_version: ContractVersion = CONTRACT_VERSION
    model: str
    date: dt.date
    status: DayStatus
    stage: Stage | None = None
    progress: int = Field(ge=0, le=100)
    stages: list[StageInfo]
    error: ErrorInfo | None = None
    result: DayFigures | None = None
    degraded: bool = False
    reason_codes: list[str] = Field(default_factory=list)
    data_quality: DayDataQuality | None = None
    run_id: str | None = None
    config_hash: str | None = None
    started_at: dt.datetime | None = None
    completed_at: dt.datetime | None = None

    @model_validator(mode="after")
    def _status_is_consistent(self) -> ModelDayStatus:
        finished, stopped = self.status in FINISHED, self.status in ("failed", "cancelled")
        if finished != (self.result is not None):
            raise ValueError(f"a {self.status} day {'needs' if finished else 'has no'} result")
        if stopped != (self.error is not None):
            raise ValueError(f"a {self.status} day {'needs' if stopped else 'has no'} error")
        if finished and self.degraded != (self.status == "degraded_success"):
            raise ValueError("a finished day is degraded_success exactly when degraded is true")
        return self


class MergedSignal(_Payload):
    direction: Direction
    rating: Rating


class LaneView(_Payload):
    available: bool  # false: the lane was configured and failed
    direction: Direction | None = None
    rating: Rating | None = None
    confidence: float | None = Field(default=None, ge=0, le=1)

    @model_validator(mode="after")
    def _values_iff_available(self) -> LaneView:
        values = (self.direction, self.rating, self.confidence)
        if self.available and None in values:
            raise ValueError("an available lane needs direction, rating and confidence")
        if not self.available and values != (None, None, None):
            raise ValueError("an unavailable lane has no direction, rating or confidence")
        return self


class Signals(_Payload):
    merged: MergedSignal
    quant: LaneView | None = None  # None: the agent has no quant lane (by design)
    llm: LaneView | None = None  # None: the agent has no LLM lane (by design)


class SourceDiagnostic(_Payload):
    reason_code: str | None = None
    data_quality: str | None = None
    error: str | None = None


class Degradation(_Payload):
    degraded: bool
    reason_codes: list[str] = Field(default_factory=list)
    source_diagnostics: dict[LaneName, SourceDiagnostic] = Field(default_factory=dict)


class DataQualitySummary(_Payload):
    state: str  # "ok", or the worst issue's state
    source: LaneName | None = None
    issues: list[DataQualityIssue] = Field(default_factory=list)
    not_configured: list[LaneName] = Field(default_factory=list)


class SymbolDecision(_Payload):
    """One model's merged decision on one symbol for one date, with its lanes (v1alpha1)."""

    contract_version: ContractVersion = CONTRACT_VERSION
    model: str
    date: dt.date
    symbol: str
    decision: Rating
    confidence: float = Field(ge=0, le=1)
    signals: Signals
    degradation: Degradation
    data_quality: DataQualitySummary | None = None
    rationale: str | None = None

    @model_validator(mode="after")
    def _decision_is_merged_rating(self) -> SymbolDecision:
        if self.decision != self.signals.merged.rating:
            raise ValueError(
                f"decision {self.decision} differs from signals.merged.rating "
                f"{self.signals.merged.rating}"
            )
        return self


def decision_row(
    model: str, date: dt.date, symbol: str, merged: MergeResult, reasoning: str | None
) -> dict[str, Any]:
    """One `signals` row from a kernel result (plain Python; runs once per signal)."""
    dq = merged.data_quality
    diagnostics = {lane: dict(d) for lane, d in merged.source_diagnostics.items()}
    return {
        "model": model,
        "date": date,
        "symbol": symbol,
        "direction": merged.direction,
        "confidence": merged.confidence,
        "rating": merged.rating,
        "reasoning": reasoning,
        "degraded": merged.degraded,
        "reason_codes": list(merged.reason_codes),
        **_lane_columns("quant", merged.quant),
        **_lane_columns("llm", merged.llm),
        "source_diagnostics": _compact_json(diagnostics) if diagnostics else None,
        "data_quality_state": dq.state if dq is not None else None,
        "data_quality": _compact_json(dq.to_dict()) if dq is not None else None,
        "contract_version": CONTRACT_VERSION,
    }


def _lane_columns(name: str, lane: Lane) -> dict[str, Any]:
    if isinstance(lane, LaneSignal):
        rating = lane.rating or rating_for(lane.direction, lane.confidence)
        values = (True, lane.direction, lane.confidence, rating, lane.reason_code)
    elif isinstance(lane, LaneFailure):
        values = (False, None, None, None, lane.reason_code)
    else:  # absent by design: null columns
        values = (False, None, None, None, None)
    keys = ("available", "direction", "confidence", "rating", "reason_code")
    return {f"{name}_{key}": value for key, value in zip(keys, values, strict=True)}


def _loads(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value  # JSON text, or parsed


def _lane_view(row: Mapping[str, Any], name: str) -> LaneView | None:
    if row[f"{name}_available"]:
        return LaneView(
            available=True,
            direction=row[f"{name}_direction"],
            rating=row[f"{name}_rating"],
            confidence=row[f"{name}_confidence"],
        )
    failed = row[f"{name}_reason_code"] is not None  # absent by design leaves no code
    return LaneView(available=False) if failed else None


def decision_from_row(row: Mapping[str, Any]) -> SymbolDecision:
    """The SymbolDecision payload of one `signals` row, as DuckDB returns it."""
    return SymbolDecision(
        contract_version=row["contract_version"],
        model=row["model"],
        date=row["date"],
        symbol=row["symbol"],
        decision=row["rating"],
        confidence=row["confidence"],
        signals=Signals(
            merged=MergedSignal(direction=row["direction"], rating=row["rating"]),
            quant=_lane_view(row, "quant"),
            llm=_lane_view(row, "llm"),
        ),
        degradation=Degradation(
            degraded=bool(row["degraded"]),
            reason_codes=list(row["reason_codes"] or ()),
            source_diagnostics=_loads(row["source_diagnostics"]) or {},
        ),
        data_quality=_loads(row["data_quality"]),
        rationale=row["reasoning"],
    )


def _stages(status: str, stage: str | None, completed_at: dt.datetime | None) -> list[StageInfo]:
    """The stage list from the current stage: earlier ones completed, later ones pending."""
    n = len(STAGES)
    if status in FINISHED:
        done, now = n, "completed"
    elif status == "pending":
        done, now = 0, "pending"
    else:  # running, failed or cancelled in `stage` (the first one when unknown)
        done, now = (STAGES.index(stage) if stage in STAGES else 0), status
    states = ["completed"] * done + [now] * (done < n) + ["pending"] * (n - done - 1)
    last = completed_at if status in FINISHED else None  # per-stage times are not stored
    return [
        StageInfo(name=name, status=state, completed_at=last if name == STAGES[-1] else None)
        for name, state in zip(STAGES, states, strict=True)
    ]


def status_from_row(row: Mapping[str, Any]) -> ModelDayStatus:
    """The ModelDayStatus payload of one `model_days` row, as DuckDB returns it."""
    status = row["status"]
    finished = status in FINISHED
    result = DayFigures(**{key: row[key] for key in DayFigures.model_fields}) if finished else None
    error = None
    if row["error_code"] is not None:
        error = ErrorInfo(
            code=row["error_code"],
            message=row["error_message"] or row["error_code"],
            retryable=bool(row["error_retryable"]),
        )
    state = row["data_quality_state"]
    return ModelDayStatus(
        contract_version=row["contract_version"],
        model=row["model"],
        date=row["date"],
        status=status,
        stage=row["stage"],
        progress=row["progress"] if row["progress"] is not None else 0,
        stages=_stages(status, row["stage"], row["completed_at"]),
        error=error,
        result=result,
        degraded=bool(row["degraded"]),
        reason_codes=list(row["reason_codes"] or ()),
        data_quality=DayDataQuality(state=state) if state is not None else None,
        run_id=row["run_id"],
        config_hash=row["config_hash"],
        started_at=row["started_at"],
        completed_at=row["completed_at"],
    )
