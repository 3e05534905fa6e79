"""The result store as a Dagster resource (its path comes from config or TRADING_ASSETS_STORE)."""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg

from trading_assets.store.db import REPORT_EVERY_S, WAIT_TIMEOUT_S, StoreWait
from trading_assets.store.results import ResultStore
from trading_assets.vocab import DEFAULT_STORE_PATH


class StoreResource(dg.ConfigurableResource):
    path: str = DEFAULT_STORE_PATH
    # A busy store (another run writing, a notebook reading) is waited for, never a
    # failed model-day: up to wait_timeout_s, logging the holder's PID every wait_report_s.
    wait_timeout_s: float = WAIT_TIMEOUT_S
    wait_report_s: float = REPORT_EVERY_S

    def store(self, report: Callable[[str], None] | None = None) -> ResultStore:
        """The store; `report` (e.g. context.log.info) hears who holds it while waiting."""
        wait = StoreWait(self.wait_timeout_s, self.wait_report_s, report)
        return ResultStore(self.path, wait=wait)
