"""Reason codes: why a signal (or a model-day) is degraded.

Stored verbatim in the `reason_codes` columns and the `*_reason_code` lane columns.
Consumers must tolerate codes not listed here: later versions add codes.
"""

from __future__ import annotations

# Configuration and lane start-up.
CONFIG_INVALID = "config_invalid"
QUANT_NOT_CONFIGURED = "quant_not_configured"  # the agent wants a quant lane, none is set up
QUANT_INIT_FAILED = "quant_init_failed"
LLM_NOT_CONFIGURED = "llm_not_configured"  # the agent wants an LLM lane, no LLM is set up
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

# Neither lane produced a signal: always the last code of BothSignalsUnavailable.
BOTH_SIGNALS_UNAVAILABLE = "both_signals_unavailable"

REASON_CODES: tuple[str, ...] = (
    CONFIG_INVALID,
    QUANT_NOT_CONFIGURED,
    QUANT_INIT_FAILED,
    LLM_NOT_CONFIGURED,
    LLM_INIT_FAILED,
    QUANT_SIGNAL_FAILED,
    QUANT_NO_DATA,
    LLM_SIGNAL_FAILED,
    LLM_TIMEOUT,
    LLM_RATE_LIMITED,
    LLM_SERVER_ERROR,
    LLM_UNPARSEABLE,
    LLM_UNKNOWN_RATING,
    NON_TRADING_DAY,
    PARTIAL_DATA,
    STALE_DATA,
    PROVIDER_MISMATCH,
    PROVIDER_AUTH_FAILED,
    PROVIDER_API_KEY_MISSING,
    BOTH_SIGNALS_UNAVAILABLE,
)
