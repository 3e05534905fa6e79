"""Reason codes: why a signal (or a model-day) is degraded.

Stored verbatim in the `reason_codes` columns and the `*_reason_code` lane columns.
Consumers must tolerate codes not listed here: later versions add codes. The codes are
defined once, in `trading_assets.vocab.ReasonCode`; these names are its members.
"""

from __future__ import annotations

from trading_assets.vocab import ReasonCode

CONFIG_INVALID = ReasonCode.CONFIG_INVALID
QUANT_NOT_CONFIGURED = ReasonCode.QUANT_NOT_CONFIGURED
QUANT_INIT_FAILED = ReasonCode.QUANT_INIT_FAILED
LLM_NOT_CONFIGURED = ReasonCode.LLM_NOT_CONFIGURED
LLM_INIT_FAILED = ReasonCode.LLM_INIT_FAILED
QUANT_SIGNAL_FAILED = ReasonCode.QUANT_SIGNAL_FAILED
QUANT_NO_DATA = ReasonCode.QUANT_NO_DATA
LLM_SIGNAL_FAILED = ReasonCode.LLM_SIGNAL_FAILED
LLM_TIMEOUT = ReasonCode.LLM_TIMEOUT
LLM_RATE_LIMITED = ReasonCode.LLM_RATE_LIMITED
LLM_SERVER_ERROR = ReasonCode.LLM_SERVER_ERROR
LLM_UNPARSEABLE = ReasonCode.LLM_UNPARSEABLE
LLM_UNKNOWN_RATING = ReasonCode.LLM_UNKNOWN_RATING
NON_TRADING_DAY = ReasonCode.NON_TRADING_DAY
PARTIAL_DATA = ReasonCode.PARTIAL_DATA
STALE_DATA = ReasonCode.STALE_DATA
PROVIDER_MISMATCH = ReasonCode.PROVIDER_MISMATCH
PROVIDER_AUTH_FAILED = ReasonCode.PROVIDER_AUTH_FAILED
PROVIDER_API_KEY_MISSING = ReasonCode.PROVIDER_API_KEY_MISSING
LLM_TRADER_HELD = ReasonCode.LLM_TRADER_HELD
BEFORE_KNOWLEDGE_CUTOFF = ReasonCode.BEFORE_KNOWLEDGE_CUTOFF
BOTH_SIGNALS_UNAVAILABLE = ReasonCode.BOTH_SIGNALS_UNAVAILABLE

REASON_CODES: tuple[str, ...] = tuple(ReasonCode)
