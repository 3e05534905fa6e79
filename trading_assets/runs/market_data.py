"""Pick the market-data source a models config names (legacy files among them, so this
sits above legacy/)."""

from __future__ import annotations

from pathlib import Path

from trading_assets.config import MarketDataConfig
from trading_assets.errors import MarketDataError
from trading_assets.legacy.prices import LegacyPriceSource
from trading_assets.market.actions import CorporateActions
from trading_assets.market.sources import BundledSource, FolderSource, MarketDataSource


def source_for(config: MarketDataConfig) -> MarketDataSource:
    if config.source == "bundled":
        return BundledSource()
    if config.source == "folder":
        return FolderSource(config.path or "")
    return LegacyPriceSource(config.path or "")


def corporate_actions_for(config: MarketDataConfig) -> CorporateActions | None:
    """The source's splits and dividends, read from the source itself (the store holds
    bars only); None for a source that has none (the legacy Alpha Vantage price files
    carry neither, so nothing is loaded for them)."""
    if config.source == "legacy":
        return None
    if config.source == "folder" and not Path(config.path or "").is_dir():
        raise MarketDataError(
            "market data folder does not exist: corporate_actions: apply reads the "
            "splits and dividends from it",
            where=str(config.path),
            fix="restore the folder, or set corporate_actions: ignore in the models config",
        )
    return source_for(config).load().actions
