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
