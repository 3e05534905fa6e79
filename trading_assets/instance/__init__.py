"""Dagster instance infrastructure (storages, event settings), configured in dagster.yaml.

Part of the Dagster layer, not of the Dagster-free core: `event_log` subclasses Dagster's
own storage and is pinned to the Dagster version the project pins.
"""

# A single-run backfill of N partitions otherwise writes N "planned" events and N
# materializations one row at a time. These Dagster settings record one planned event
# per run and hand materializations to the storage in batches (store_event_batch).
# Trade-off (Dagster's): a failed range run does not mark each partition failed.
DAGSTER_EVENT_SETTINGS = {
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
    "DAGSTER_EVENT_BATCH_SIZE": "1000",
}

# A process that runs many events (a range-run worker, the backfill command) holds its
# storage connections open. Dagster's PostgreSQL storages otherwise open a new connection
# for every statement (NullPool): 310 connects for two models' runs, 22 ms each under
# load (bench/README.md). This is what the webserver does for itself (Dagster's
# `optimize_for_webserver`); a no-op for SQLite. No statement timeout: a run's batch
# insert must not be cut off on a busy host.
POOL = {"statement_timeout": 0, "pool_recycle": 3600, "max_overflow": 5}


def hold_connections(instance):
    """The instance, its storages now keeping a pooled connection (PostgreSQL)."""
    instance.optimize_for_webserver(**POOL)
    return instance
