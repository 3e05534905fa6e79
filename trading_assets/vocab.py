"""The shared vocabulary: every name, code and constant more than one layer speaks.

The bottom layer: it imports nothing of ours, so any package may use it. StrEnum
members are `str`s, so they compare equal to, and are stored as, their plain values.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Protocol

CONTRACT_VERSION = "v1alpha1"  # the result store's contract; every payload and model row
DEFAULT_STORE_PATH = ".data/trading_assets.duckdb"  # when neither --store nor the env says
STORE_ENV = "TRADING_ASSETS_STORE"
# Model signatures name folders (legacy layout) and partitions: a safe file name.
SIGNATURE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class DayStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"
    DEGRADED_SUCCESS = "degraded_success"
    FAILED = "failed"
    CANCELLED = "cancelled"


# A finished day has a result (and a state the next day may start from).
FINISHED_STATUSES: tuple[DayStatus, ...] = (DayStatus.COMPLETED, DayStatus.DEGRADED_SUCCESS)


class JobStatus(StrEnum):
    """A job's life, as the legacy job API's users knew it: pending -> running -> one end."""

    PENDING = "pending"
    RUNNING = "running"
    COMPLETED = "completed"  # every model-day completed
    PARTIAL = "partial"  # some model-days completed, some failed
    FAILED = "failed"  # no model-day completed
    INTERRUPTED = "interrupted"  # stopped (Ctrl-C, a dead daemon or worker); re-trigger it


ACTIVE_JOB_STATUSES: tuple[JobStatus, ...] = (JobStatus.PENDING, JobStatus.RUNNING)
# A job's model-days use DayStatus: pending, running, completed, failed.


class Rating(StrEnum):
    """The 5-tier scale, strongest buy first."""

    BUY = "BUY"
    OVERWEIGHT = "OVERWEIGHT"
    HOLD = "HOLD"
    UNDERWEIGHT = "UNDERWEIGHT"
    SELL = "SELL"


class LaneSource(StrEnum):
    """Where a signal comes from: the merge kernel's two lanes."""

    QUANT = "quant"
    LLM = "llm"


class ReasonCode(StrEnum):
    """Why a signal (or a model-day) is degraded; consumers must tolerate new codes."""

    # Configuration and lane start-up.
    CONFIG_INVALID = "config_invalid"
    QUANT_NOT_CONFIGURED = "quant_not_configured"  # the agent wants a quant lane, none set up
    QUANT_INIT_FAILED = "quant_init_failed"
    LLM_NOT_CONFIGURED = "llm_not_configured"  # the agent wants an LLM lane, none set up
    LLM_INIT_FAILED = "llm_init_failed"
    # A lane that ran and produced nothing usable.
    QUANT_SIGNAL_FAILED = "quant_signal_failed"
    QUANT_NO_DATA = "quant_no_data"
    LLM_SIGNAL_FAILED = "llm_signal_failed"
    LLM_TIMEOUT = "llm_timeout"
    LLM_RATE_LIMITED = "llm_rate_limited"
    LLM_SERVER_ERROR = "llm_server_error"
    LLM_UNPARSEABLE = "llm_unparseable"
    # A lane that produced a signal, but a doubtful one.
    LLM_UNKNOWN_RATING = "llm_unknown_rating"
    # Data and provider problems (also data_quality states).
    NON_TRADING_DAY = "non_trading_day"
    PARTIAL_DATA = "partial_data"
    STALE_DATA = "stale_data"
    PROVIDER_MISMATCH = "provider_mismatch"
    PROVIDER_AUTH_FAILED = "provider_auth_failed"
    PROVIDER_API_KEY_MISSING = "provider_api_key_missing"
    # An llm_trader whose provider failed mid-day under `on_failure: hold`: no trades.
    LLM_TRADER_HELD = "llm_trader_held"
    # An llm_trader day on or before its model's knowledge_cutoff: it may remember the day.
    BEFORE_KNOWLEDGE_CUTOFF = "before_knowledge_cutoff"
    # Neither lane produced a signal: always the last code of BothSignalsUnavailable.
    BOTH_SIGNALS_UNAVAILABLE = "both_signals_unavailable"


class Clock(Protocol):
    """Where time is read; injected so runs and tests can pin it."""

    def now(self) -> dt.datetime:
        """Naive UTC (the store's TIMESTAMP columns have no zone)."""
        ...


class SystemClock:
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC).replace(tzinfo=None)


SYSTEM_CLOCK: Clock = SystemClock()
