"""Cancelling an asset backfill: Dagster exports no public status enum for it.

`BulkActionStatus` lives in `dagster._core.execution.backfill`; the UI's cancel
mutation does the same update (REQUESTED -> CANCELED, the daemon then stops launching).
"""

from __future__ import annotations

import dagster as dg
from dagster._core.execution.backfill import BulkActionStatus

from trading_assets.dagster_patches import require_pinned_dagster

require_pinned_dagster(__name__)


def cancel_backfill(instance: dg.DagsterInstance, backfill_id: str | None) -> None:
    """Mark a still-requested backfill canceled (a finished or unknown one is left)."""
    backfill = instance.get_backfill(backfill_id) if backfill_id else None
    if backfill is not None and backfill.status == BulkActionStatus.REQUESTED:
        instance.update_backfill(backfill.with_status(BulkActionStatus.CANCELED))
