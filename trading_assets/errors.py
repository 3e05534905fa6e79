"""Errors users see. Each names where the problem is and what to do about it."""

from __future__ import annotations


class TradingAssetsError(Exception):
    """Base class: `where` names the file, line, key or partition; `fix` says what to do."""

    def __init__(self, message: str, *, where: str | None = None, fix: str | None = None):
        self.message = message
        self.where = where
        self.fix = fix
        parts = [f"{where}: {message}" if where else message]
        if fix:
            parts.append(f"Fix: {fix}")
        super().__init__(" ".join(parts))


class ConfigError(TradingAssetsError):
    """A models config file is invalid."""


class MarketDataError(TradingAssetsError):
    """A price file is malformed, or a price needed for a fill or valuation is missing."""


class LookAheadError(TradingAssetsError):
    """An agent asked for data it could not have known on the simulated date."""


class UnknownAgentError(ConfigError):
    """A config names an agent that is neither built in nor registered by a plugin."""


class StoreError(TradingAssetsError):
    """The result store is missing state a model-day needs, or has a schema it cannot read."""


class LegacyFormatError(TradingAssetsError):
    """A legacy AI-Trader file breaks the legacy format rules."""


class RunStopped(TradingAssetsError):
    """The run stops cleanly before a day (no row for it; the days before are kept), e.g.
    a model's budget is reached. `reason_code` says why (vocab.ReasonCode)."""

    def __init__(self, reason_code: str, message: str, *, where=None, fix=None):
        self.reason_code = reason_code
        super().__init__(f"{reason_code}: {message}", where=where, fix=fix)
