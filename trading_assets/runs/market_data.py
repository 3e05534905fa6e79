"""Pick the market-data source a models config names (legacy files among them, so this
sits above legacy/)."""

from __future__ import annotations

from trading_assets.config import MarketDataConfig
from trading_assets.legacy.prices import LegacyPriceSource
from trading_assets.market.sources import BundledSource, FolderSource, MarketDataSource


def source_for(config: MarketDataConfig) -> MarketDataSource:
    if config.source == "bundled":
        return BundledSource()
    if config.source == "folder":
        return FolderSource(config.path or "")
    return LegacyPriceSource(config.path or "")
