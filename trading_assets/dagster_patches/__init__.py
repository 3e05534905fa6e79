"""Every use of Dagster internals, in one package, behind one version gate.

Each module here works around a measured Dagster 1.13.27 cost with private Dagster
names; nothing else in the project imports `dagster._*`
(`test_architecture.py` checks that). Importing any of them on another Dagster version
fails at once with what to check, instead of misbehaving later.

- `chain_mapping`: the date x model self-dependency is mapped key by key for run
  provenance (0.88 s per 3,392 keys). Relies on the signature of
  `MultiPartitionMapping.get_upstream_mapped_partitions_result_for_partitions`,
  `partition_loading_context`, `UpstreamPartitionsResult`, and serdes writing a mapping
  by its class name. Upstream: bench/README.md, "Dagster defects" 1.
- `partition_metadata`: `add_asset_metadata(partition_key=)` re-lists the run's range on
  every call (642 of 664 s of a demo backfill). Relies on
  `StepExecutionContext._metadata_accumulator`, `OutputMetadataAccumulator
  (per_output_metadata=)` and `AssetMetadataHandle`. Upstream: "Dagster defects" 5.
- `event_log`: the SQLite event log writes each event of a batch in its own
  transactions (8.5-15 ms an event). Relies on `SqliteEventLogStorage`'s
  `index_connection`, `run_connection`, `_event_to_row`, `_store_asset_event_tags`,
  `_store_asset_event`, `store_asset_check_event` and
  `_store_asset_check_evaluation_planned` (overridden: the stock one stores the whole
  range's planned subset in every per-partition row, 199 MB for one model's history
  with the partitioned legacy_parity check). Upstream: "Dagster defects" 4.
- `check_targets`: a partitioned check's evaluation must point at its partition's latest
  materialization; the target type (`AssetCheckEvaluationTargetMaterializationData`)
  is not exported. Relies on `get_latest_storage_id_by_partition` and on
  `AssetCheckPartitionInfo.is_current` comparing the target's storage id. Upstream:
  "Dagster defects" 6.
- `celery_launcher`: dagster-celery's run launcher reports a run RUNNING for as long
  as its task is STARTED, so a dead worker host's run never ends. Relies on
  `CheckRunHealthResult` and `WorkerStatus` (`dagster._core.launcher`), the stock
  `CeleryRunLauncher.check_run_worker_health` answering RUNNING for a STARTED task,
  the `dagster-celery/task_id` run tag, and Celery's STARTED meta naming the worker's
  `hostname`. Upstream: "Dagster defects" 8.
- `backfills`: cancelling a backfill needs `BulkActionStatus`, which Dagster does not
  export publicly. Relies on the daemon iterating only REQUESTED, CANCELING and FAILING
  backfills (CANCELED: it launches nothing more). Upstream: "Dagster defects" 7.

`trading_assets_tests/test_dagster_patches.py` holds one test per patch that fails if
the upstream behaviour it relies on changes (names, signatures, or the result equal to
Dagster's own method). On a PostgreSQL instance (deploy/) `event_log` is not used:
dagster-postgres writes event batches itself.
"""

from __future__ import annotations

import dagster

PINNED_DAGSTER = "1.13.27"


def require_pinned_dagster(module: str) -> None:
    """The one version gate: raise ImportError naming what to do on another Dagster."""
    if dagster.__version__ != PINNED_DAGSTER:
        raise ImportError(
            f"{module} uses Dagster {PINNED_DAGSTER} internals, but Dagster "
            f"{dagster.__version__} is installed. Install dagster=={PINNED_DAGSTER} "
            "(constraints.txt), or, upgrading on purpose, re-check each patch listed in "
            "trading_assets/dagster_patches/__init__.py and run "
            "trading_assets_tests/test_dagster_patches.py."
        )


require_pinned_dagster(__name__)
