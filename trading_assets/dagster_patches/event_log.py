"""SQLite event-log storage that writes a batch of events in one transaction per shard.

Dagster's `SqliteEventLogStorage` inherits `store_event_batch` as a loop over
`store_event`: every event opens fresh engines and connections to its run shard and the
index shard and commits twice (8.5-10.7 ms an event, measured). With
`DAGSTER_EVENT_BATCH_SIZE` set, Dagster hands a range run's materializations to
`store_event_batch`; here they cost one transaction on the run shard and one on the
index shard, the way `dagster-postgres` writes them.

Every row the stock `store_event` writes is written, with the same values: the event row
in the run shard; for asset events its mirror, tags and asset-key entry in the index
shard; for check-planned events the check-execution rows. Dagster's own private helpers
build those rows, which is why the class is pinned to one Dagster version (the
package's gate, `dagster_patches/__init__.py`).

Atomicity: the two shards are separate SQLite files (WAL), so no transaction spans both.
The run shard commits first; if the index transaction then fails (it rolls back whole),
the run-shard rows just committed are deleted again before the error reaches Dagster,
which then falls back to writing the events one by one. Each event is therefore stored
exactly once either way.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from typing import Any

import sqlalchemy as db
from dagster._config import Field, StringSource
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS, BATCH_WRITABLE_EVENTS
from dagster._core.events.log import EventLogEntry
from dagster._core.storage.asset_check_execution_record import AssetCheckExecutionRecordStatus
from dagster._core.storage.event_log import SqliteEventLogStorage
from dagster._core.storage.event_log.schema import (
    AssetCheckExecutionsTable,
    SqlEventLogStorageTable,
)
from dagster._serdes import ConfigurableClassData, serialize_value
from dagster_shared.record import replace

from trading_assets.dagster_patches import require_pinned_dagster
from trading_assets.instance import DAGSTER_EVENT_SETTINGS

require_pinned_dagster(__name__)

_ID = SqlEventLogStorageTable.c.id

# Dagster only hands events to store_event_batch when DAGSTER_EVENT_BATCH_SIZE > 0, read
# at each event. Every process that loads an instance with this storage imports this
# module (CLI, daemon, run workers, `dagster dev`, tests), so it turns batching on here
# unless the environment chose a size (0 turns it off).
os.environ.setdefault(
    "DAGSTER_EVENT_BATCH_SIZE", DAGSTER_EVENT_SETTINGS["DAGSTER_EVENT_BATCH_SIZE"]
)


def default_base_dir() -> str:
    """Where the stock storage keeps event logs: $DAGSTER_HOME/history/runs."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        raise ValueError(
            "BatchedSqliteEventLogStorage without base_dir needs DAGSTER_HOME: set it, or "
            "give event_log_storage.config.base_dir in dagster.yaml"
        )
    return os.path.join(home, "history", "runs", "")


class BatchedSqliteEventLogStorage(SqliteEventLogStorage):
    """`SqliteEventLogStorage` with a one-transaction-per-shard `store_event_batch`."""

    def __init__(self, base_dir: str | None = None, inst_data: ConfigurableClassData | None = None):
        # the index connection of the batch in progress, per thread (see index_connection);
        # set first: the parent's constructor already opens index connections
        self._batch = threading.local()
        super().__init__(base_dir or default_base_dir(), inst_data=inst_data)

    @classmethod
    def config_type(cls) -> dict:
        return {"base_dir": Field(StringSource, is_required=False)}

    @classmethod
    def from_config_value(  # the stock one builds a plain SqliteEventLogStorage
        cls, inst_data: ConfigurableClassData | None, config_value: dict[str, Any]
    ) -> BatchedSqliteEventLogStorage:
        return cls(inst_data=inst_data, **config_value)

    def index_connection(self):
        # Dagster's helpers open their own index connection (a non-reentrant lock guards
        # it); inside a batch they join the batch's transaction instead.
        conn = getattr(self._batch, "conn", None)
        return nullcontext(conn) if conn is not None else super().index_connection()

    def _store_asset_check_evaluation_planned(
        self, event: EventLogEntry, event_id: int | None
    ) -> None:
        """The stock method's rows, one per planned partition, each row's event planned
        for its own partition. The stock one stores in every row the whole event, the
        range's partition subset included, serialized once per row: for one model's 3,393
        days with the partitioned legacy_parity check that was 199 MB in the index shard
        and 48 s (quadratic). Rows are read by partition and run id, never by the
        event's subset (`AssetCheckPartitionInfo`, the execution history)."""
        planned = event.get_dagster_event().event_specific_data
        subset = planned.partitions_subset
        if subset is None:
            super()._store_asset_check_evaluation_planned(event, event_id)
            return
        empty, dagster_event = subset.empty_subset(), event.get_dagster_event()

        def planned_for(key: str) -> str:
            own = replace(planned, partitions_subset=empty.with_partition_keys([key]))
            return serialize_value(
                event._replace(dagster_event=dagster_event._replace(event_specific_data=own))
            )

        row = {
            "asset_key": planned.asset_key.to_string(),
            "check_name": planned.check_name,
            "run_id": event.run_id,
            "execution_status": AssetCheckExecutionRecordStatus.PLANNED.value,
            "evaluation_event_timestamp": self._event_insert_timestamp(event),
            "evaluation_event_storage_id": event_id,
        }
        rows = [
            {**row, "partition": key, "evaluation_event": planned_for(key)}
            for key in subset.get_partition_keys()
        ]
        with self.index_connection() as conn:
            conn.execute(AssetCheckExecutionsTable.insert().values(rows))

    @contextmanager
    def _batch_index_transaction(self) -> Iterator[db.Connection]:
        with super().index_connection() as conn:  # begins a transaction, commits on exit
            self._batch.conn = conn
            try:
                yield conn
            finally:
                self._batch.conn = None

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        types = {e.dagster_event_type for e in events}
        if len(events) < 2 or not types <= BATCH_WRITABLE_EVENTS:
            super().store_event_batch(events)  # what Dagster itself would do
            return
        # Dagster hands a range run's materializations over in set order; written in
        # partition-key order (date|model: date first), the newest day gets the largest
        # id, which is what the UI shows as the asset's latest materialization.
        events = sorted(events, key=_partition_order)
        rows = [self._event_to_row(e) for e in events]
        committed: dict[str, list[int]] = {}  # run shard -> ids of its committed rows
        try:
            for run_id in dict.fromkeys(e.run_id for e in events):
                shard = [row for row in rows if row["run_id"] == run_id]
                with self.run_connection(run_id) as conn:
                    ids = _insert(conn, shard)
                committed[run_id] = ids
            self._store_index(events, rows)
        except Exception:
            self._delete_run_rows(committed)  # no partial batch: Dagster's fallback rewrites all
            raise

    def _store_index(self, events: Sequence[EventLogEntry], rows: list[dict]) -> None:
        """The index-shard part of `store_event` for every event, in one transaction."""
        mirrored = [
            i
            for i, e in enumerate(events)
            if e.dagster_event_type in ASSET_EVENTS | ASSET_CHECK_EVENTS
        ]
        if not mirrored:
            return
        with self._batch_index_transaction() as conn:
            ids = _insert(conn, [rows[i] for i in mirrored])
            by_event = dict(zip(mirrored, ids, strict=True))
            assets = [i for i in mirrored if events[i].dagster_event_type in ASSET_EVENTS]
            self._store_asset_event_tags(
                conn, [events[i] for i in assets], [by_event[i] for i in assets]
            )
            for i in _last_of_each_kind(events, assets):
                self._store_asset_event(conn, events[i], by_event[i])
            for i in mirrored:
                if events[i].dagster_event_type in ASSET_CHECK_EVENTS:
                    self.store_asset_check_event(events[i], by_event[i])

    def _delete_run_rows(self, run_ids: dict[str, list[int]]) -> None:
        for run_id, ids in run_ids.items():
            with self.run_connection(run_id) as conn:
                conn.execute(SqlEventLogStorageTable.delete().where(_ID.in_(ids)))


def _insert(conn: db.Connection, rows: list[dict]) -> list[int]:
    """Insert event rows (one compiled statement, executemany); their ids in order.

    Inside the transaction this connection holds SQLite's write lock, and each new rowid
    of the INTEGER PRIMARY KEY is the largest so far plus one: the batch's ids are the
    consecutive range ending at last_insert_rowid(). (RETURNING would cost one statement
    per row on SQLite through SQLAlchemy, or a multi-row VALUES compiled afresh.)
    """
    conn.execute(SqlEventLogStorageTable.insert(), rows)
    last = conn.execute(db.text("SELECT last_insert_rowid()")).scalar_one()
    return list(range(last - len(rows) + 1, last + 1))


def _last_of_each_kind(events: Sequence[EventLogEntry], indices: list[int]) -> list[int]:
    """The last event of each (asset, event type), in batch order.

    `_store_asset_event` overwrites an asset's columns with the event's values, and each
    column is set by a fixed set of event types; applying these events in order leaves the
    asset-key row exactly as applying every event would, without one schema inspection per
    event.
    """
    last: dict[tuple, int] = {}
    for i in indices:
        dagster_event = events[i].dagster_event
        last[(dagster_event.asset_key, dagster_event.event_type_value)] = i
    return sorted(last.values())


def _partition_order(event: EventLogEntry) -> str:
    dagster_event = event.dagster_event
    return (dagster_event.partition if dagster_event else None) or ""
