"""The result store as a Dagster resource (its path comes from config or TRADING_ASSETS_STORE)."""

from __future__ import annotations

import dagster as dg

from trading_assets.store.results import ResultStore
from trading_assets.vocab import DEFAULT_STORE_PATH


class StoreResource(dg.ConfigurableResource):
    path: str = DEFAULT_STORE_PATH

    def store(self) -> ResultStore:
        return ResultStore(self.path)
