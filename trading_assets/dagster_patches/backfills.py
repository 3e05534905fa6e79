"""Cancelling an asset backfill: Dagster exports no public status enum for it.

`BulkActionStatus` lives in `dagster._core.execution.backfill`. The UI's cancel mutation
(`cancelPartitionBackfill`) sets CANCELING, and the daemon then cancels the backfill's
runs and marks it CANCELED; here the caller stops the runs itself (it may have no
daemon), so the backfill goes REQUESTED -> CANCELED at once: a status the daemon no longer
iterates, so it launches nothing more. Relies on the daemon iterating only REQUESTED,
CANCELING and FAILING backfills (`test_dagster_patches.py`). Upstream: bench/README.md,
"Dagster defects" 7.
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
