"""Migration flags as a resource: dual-write of the legacy layout after each model's write."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

import dagster as dg


class MigrationResource(dg.ConfigurableResource):
    """Reads the TA_* migration flags from the environment when a run starts."""

    def flags(self):
        from trading_assets.legacy.flags import MigrationFlags

        return MigrationFlags.from_env(os.environ)

    def after_write(self, log: logging.Logger, run_id: str | None = None) -> Callable | None:
        flags = self.flags()
        if not flags.dual_write:
            return None
        from trading_assets.legacy.dual_write import dual_write_model_run

        def write(spec, run) -> None:
            # The new store is authoritative: a failed legacy write is logged, never fatal.
            try:
                path = dual_write_model_run(flags, spec, run, run_id=run_id)
                if path is not None:
                    log.info(f"legacy dual-write: {spec.signature} -> {path}")
            except Exception as exc:
                log.warning(f"legacy dual-write failed for {spec.signature}: {exc}")

        return write
