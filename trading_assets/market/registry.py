"""Pick the market-data source a models config names."""

from __future__ import annotations

from trading_assets.config import MarketDataConfig
from trading_assets.market.sources import BundledSource, FolderSource, MarketDataSource


def source_for(config: MarketDataConfig) -> MarketDataSource:
    if config.source == "bundled":
        return BundledSource()
    if config.source == "folder":
        return FolderSource(config.path or "")
    from trading_assets.legacy.prices import LegacyPriceSource

    return LegacyPriceSource(config.path or "")


def source_id(config: MarketDataConfig) -> str:
    """The key a source's bars are stored under in the `prices` table."""
    return config.source if config.source == "bundled" else f"{config.source}:{config.path}"
