"""What a per-partition check evaluation points at: its partition's latest materialization.

Dagster counts a partitioned check's evaluation as current only when it targets the
partition's latest materialization; an evaluation built by hand targets nothing and is
stale at once. The target type is not exported in 1.13.27
(`AssetCheckEvaluationTargetMaterializationData`), so it lives here, behind the gate.
Relies on the check's partition status reading the target's storage id
(`AssetCheckPartitionInfo.is_current`; `test_dagster_patches.py`). Upstream:
bench/README.md, "Dagster defects" 6.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData as Target,
)

from trading_assets.dagster_patches import require_pinned_dagster

require_pinned_dagster(__name__)

__all__ = ["Target", "latest_materializations"]


def latest_materializations(
    instance: dg.DagsterInstance, asset_key: dg.AssetKey, keys: Iterable[str]
) -> dict[str, Target]:
    """Each partition's latest materialization (what an evaluation of it targets)."""
    keys = {str(k) for k in keys}
    if not keys:
        return {}
    ids = instance.event_log_storage.get_latest_storage_id_by_partition(
        asset_key, dg.DagsterEventType.ASSET_MATERIALIZATION, keys
    )
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=asset_key, storage_ids=list(ids.values())), limit=len(ids)
    ).records
    return {
        r.partition_key: Target(storage_id=r.storage_id, run_id=r.run_id, timestamp=r.timestamp)
        for r in records
    }
