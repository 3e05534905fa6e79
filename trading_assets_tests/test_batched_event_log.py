"""The batched SQLite event-log storage (trading_assets/dagster_patches/event_log.py) against
Dagster's stock one, on real instances configured through dagster.yaml.

The same runs (the legacy fixture's six models over October 2025 with a corrupted record,
so that some per-partition parity checks fail, then a re-run of part of the range) go to
an instance on the stock storage and to one on the project's dagster.yaml; every answer
the UI and Dagster read must be the same. A storage whose index write raises mid-batch
must leave each event stored exactly once after Dagster's fallback to single writes.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.storage.partition_status_cache import get_and_update_asset_status_cache_value

from trading_assets.dagster_patches.event_log import BatchedSqliteEventLogStorage
from trading_assets.defs.assets.model_day import model_day
from trading_assets.defs.definitions import defs
from trading_assets.defs.partitions import MODELS_PARTITION
from trading_assets.defs.resources.store import StoreResource
from trading_assets.legacy.importer import import_legacy
from trading_assets.legacy.parity import CHECK_NAME
from trading_assets.store.results import ResultStore
from trading_assets_tests.legacy_fixture import SIGNATURES, corrupted_copy

REPO = Path(__file__).resolve().parents[1]
MODEL_DAY = dg.AssetKey("model_day")
PARITY = dg.AssetCheckKey(MODEL_DAY, CHECK_NAME)
FIRST, LAST = SIGNATURES[0], SIGNATURES[-1]
RUNS = (("2025-10-02", "2025-10-29"), ("2025-10-20", "2025-10-24"))  # full range, then a re-run


class FailingIndexStorage(BatchedSqliteEventLogStorage):
    """Raises inside the first batch's index transaction, after its rows were written."""

    failed = 0

    def _store_asset_event_tags(self, conn, events, event_ids):
        super()._store_asset_event_tags(conn, events, event_ids)
        if type(self).failed == 0 and len(events) > 1:
            type(self).failed += 1
            raise RuntimeError("injected: index shard write failed mid-batch")


@pytest.fixture(autouse=True)
def dagster_event_settings(monkeypatch):
    monkeypatch.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    monkeypatch.setenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    for name in ("TA_PARITY_CHECKS", "TA_DUAL_WRITE"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def legacy_root(tmp_path_factory) -> Path:
    return corrupted_copy(tmp_path_factory.mktemp("legacy"), "sell_not_held").root


def instance_with(mp, home: Path, yaml_text: str | None) -> dg.DagsterInstance:
    """A real instance in DAGSTER_HOME=home from a dagster.yaml: the project's, or given text."""
    home.mkdir(parents=True)
    mp.setenv("DAGSTER_HOME", str(home))
    if yaml_text is None:
        shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    else:
        (home / "dagster.yaml").write_text(yaml_text)
    return dg.DagsterInstance.from_config(str(home))


def run_all(instance: dg.DagsterInstance, legacy_root: Path, tmp: Path) -> list[str]:
    """Import the legacy record into a fresh store and run RUNS in order; the run ids."""
    store = ResultStore(tmp / "store.duckdb")
    import_legacy(store, legacy_root)
    instance.add_dynamic_partitions(MODELS_PARTITION, list(SIGNATURES))
    resources = {**defs.resources, "store": StoreResource(path=str(store.path))}
    run_ids = []
    for start, end in RUNS:
        result = dg.materialize(
            [model_day],
            instance=instance,
            resources=resources,
            tags={
                "dagster/asset_partition_range_start": f"{start}|{FIRST}",
                "dagster/asset_partition_range_end": f"{end}|{LAST}",
            },
            raise_on_error=False,
        )
        run_ids.append(result.run_id)
    return run_ids


def answers(instance: dg.DagsterInstance, run_ids: list[str]) -> dict:
    """What the UI and Dagster read, with run ids replaced by the run's position."""
    order = {run_id: i for i, run_id in enumerate(run_ids)}
    latest = {
        r.partition_key: (order[r.run_id], r.asset_materialization.metadata)
        for r in reversed(instance.fetch_materializations(MODEL_DAY, limit=10_000).records)
    }
    status = get_and_update_asset_status_cache_value(instance, MODEL_DAY, model_day.partitions_def)
    checks = instance.event_log_storage.get_asset_check_execution_history(PARITY, limit=10_000)
    (record,) = instance.get_asset_records([MODEL_DAY])
    last = record.asset_entry.last_materialization_record
    return {
        # the asset's row: the UI's "latest materialization" and last run
        "asset_latest": (last.partition_key, order[last.run_id]),
        "asset_last_run": order[record.asset_entry.last_run_id],
        "asset_keys": sorted(k.to_user_string() for k in instance.get_asset_keys()),
        "materialized": sorted(instance.get_materialized_partitions(MODEL_DAY)),
        "latest_per_partition": latest,
        "materializations": len(instance.fetch_materializations(MODEL_DAY, limit=10_000).records),
        "status_materialized": sorted(
            status.deserialize_materialized_partition_subsets(
                model_day.partitions_def
            ).get_partition_keys()
        ),
        "status_failed": sorted(
            status.deserialize_failed_partition_subsets(
                model_day.partitions_def
            ).get_partition_keys()
        ),
        "status_in_progress": sorted(
            status.deserialize_in_progress_partition_subsets(
                model_day.partitions_def
            ).get_partition_keys()
        ),
        "checks": sorted((order[c.run_id], c.partition or "", c.status.value) for c in checks),
        # what the UI's Checks tab reads: each partition's resolved status
        "check_state": check_state(instance),
        "runs": [instance.get_run_by_id(r).status.value for r in run_ids],
    }


def check_state(instance) -> dict[str, list[str]]:
    from trading_assets.defs.partitions import model_day_partitions

    with dg.partition_loading_context(dynamic_partitions_store=instance):
        state = instance.event_log_storage.get_asset_check_state([(PARITY, model_day_partitions)])
    return {
        status.value: sorted(subset.subset_value.get_partition_keys())
        for status, subset in state[PARITY].subsets.items()
        if not subset.is_empty
    }


@pytest.fixture(scope="module")
def stock_and_batched(legacy_root, tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("DAGSTER_EVENT_BATCH_SIZE", "1000")
    mp.setenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    out = {}
    for kind, text in (("stock", "telemetry: {enabled: false}\n"), ("batched", None)):
        tmp = tmp_path_factory.mktemp(kind)
        with instance_with(mp, tmp / "home", text) as instance:
            run_ids = run_all(instance, legacy_root, tmp)
            out[kind] = (type(instance.event_log_storage), answers(instance, run_ids))
    mp.undo()
    return out


def test_project_instance_uses_batched_event_log_and_stock_sqlite_runs_and_schedules(
    tmp_path, monkeypatch
):
    with instance_with(monkeypatch, tmp_path / "home", None) as instance:
        home = tmp_path / "home"
        assert type(instance.event_log_storage) is BatchedSqliteEventLogStorage
        assert Path(instance.event_log_storage._base_dir) == home / "history" / "runs"
        assert instance.run_storage._conn_string == f"sqlite:///{home}/history/runs.db"
        assert instance.schedule_storage._conn_string == f"sqlite:///{home}/schedules/schedules.db"


def test_batched_storage_answers_like_stock_after_range_runs(stock_and_batched):
    (stock_type, stock), (batched_type, batched) = (
        stock_and_batched["stock"],
        stock_and_batched["batched"],
    )
    assert batched_type is BatchedSqliteEventLogStorage and stock_type is not batched_type
    # the runs did what the comparison needs: partitions, a re-run, failing checks
    assert len(stock["materialized"]) == len(stock["latest_per_partition"]) > 100
    assert stock["materializations"] > len(stock["materialized"])
    assert {s for *_, s in stock["checks"]} >= {"SUCCEEDED", "FAILED"}
    # the one intended difference: a batch is written in partition-key order, so the
    # asset's latest materialization is the last run's newest day (stock: set order)
    last_run = batched["asset_latest"][1]
    newest = max(k for k, (run, _) in batched["latest_per_partition"].items() if run == last_run)
    assert batched["asset_latest"] == (newest, last_run)
    assert {"FAILED", "SUCCEEDED"} <= set(stock["check_state"])
    for key in stock.keys() - {"asset_latest"}:
        assert batched[key] == stock[key], key


def run_shard_rows(home: Path, run_id: str, event_type: str) -> Counter:
    with sqlite3.connect(home / "history" / "runs" / f"{run_id}.db") as con:
        rows = con.execute(
            "SELECT partition FROM event_logs WHERE dagster_event_type = ?", [event_type]
        ).fetchall()
    return Counter(p for (p,) in rows)


def index_rows(home: Path, run_id: str, event_type: str) -> Counter:
    with sqlite3.connect(home / "history" / "runs" / "index.db") as con:
        rows = con.execute(
            "SELECT partition FROM event_logs WHERE run_id = ? AND dagster_event_type = ?",
            [run_id, event_type],
        ).fetchall()
    return Counter(p for (p,) in rows)


def test_batch_failing_mid_index_write_stores_each_event_once(legacy_root, tmp_path, monkeypatch):
    home = tmp_path / "home"
    text = (
        (REPO / "dagster.yaml")
        .read_text()
        .replace(
            "module: trading_assets.dagster_patches.event_log\n"
            "  class: BatchedSqliteEventLogStorage",
            f"module: {__name__}\n  class: FailingIndexStorage",
        )
    )
    FailingIndexStorage.failed = 0
    with instance_with(monkeypatch, home, text) as instance:
        assert type(instance.event_log_storage) is FailingIndexStorage
        run_ids = run_all(instance, legacy_root, tmp_path)
        expected = instance.get_run_by_id(run_ids[0]).tags
        materialized = instance.get_materialized_partitions(MODEL_DAY)
    assert FailingIndexStorage.failed == 1
    assert expected["dagster/asset_partition_range_start"].startswith("2025-10-02")
    for run_id in run_ids:
        in_run = run_shard_rows(home, run_id, "ASSET_MATERIALIZATION")
        in_index = index_rows(home, run_id, "ASSET_MATERIALIZATION")
        assert in_run and set(in_run.values()) == {1}  # no duplicate, none lost
        assert in_index == in_run
    assert len(materialized) == len(run_shard_rows(home, run_ids[0], "ASSET_MATERIALIZATION"))
