"""Dagster internals live in one package behind one version gate, and each patch's
upstream assumptions are checked: a Dagster upgrade that changes one fails here, naming
the patch, before it misbehaves in a run."""

from __future__ import annotations

import ast
import inspect
import time
import uuid
from pathlib import Path

import dagster as dg
import pytest

import trading_assets
from trading_assets import dagster_patches
from trading_assets.dagster_patches.backfills import cancel_backfill
from trading_assets.dagster_patches.chain_mapping import MultiPartitionMapping
from trading_assets.dagster_patches.check_targets import Target, latest_materializations
from trading_assets.dagster_patches.event_log import BatchedSqliteEventLogStorage
from trading_assets.dagster_patches.partition_metadata import add_partition_metadata

PACKAGE = Path(trading_assets.__file__).parent


def private_dagster_imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("dagster._"):
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("dagster._")]
    return names


def test_only_dagster_patches_imports_dagster_internals():
    outside = {
        str(p.relative_to(PACKAGE)): private_dagster_imports(p)
        for p in PACKAGE.rglob("*.py")
        if "dagster_patches" not in p.parts and private_dagster_imports(p)
    }
    assert outside == {}


def test_every_patch_module_passes_the_one_version_gate():
    for module in (PACKAGE / "dagster_patches").glob("[!_]*.py"):
        assert "require_pinned_dagster(__name__)" in module.read_text(), module.name


def test_version_gate_on_another_dagster_refuses_and_says_what_to_check(monkeypatch):
    monkeypatch.setattr(dg, "__version__", "1.14.0")
    with pytest.raises(ImportError) as refused:
        dagster_patches.require_pinned_dagster("trading_assets.dagster_patches.event_log")
    assert str(refused.value).startswith(
        "trading_assets.dagster_patches.event_log uses Dagster 1.13.27 internals, but "
        "Dagster 1.14.0 is installed."
    )
    assert "trading_assets/dagster_patches/__init__.py" in str(refused.value)


# -- chain_mapping: overrides one method and must be serialized as the stock class -----


def test_chain_mapping_overrides_the_upstream_method_with_its_exact_signature():
    name = "get_upstream_mapped_partitions_result_for_partitions"
    upstream = inspect.signature(getattr(dg.MultiPartitionMapping, name))
    ours = inspect.signature(getattr(MultiPartitionMapping, name))
    assert list(ours.parameters) == list(upstream.parameters)


def test_chain_mapping_keeps_the_class_name_dagster_serializes_by():
    from dagster._serdes import serialize_value

    mapping = MultiPartitionMapping(
        {"model": dg.DimensionPartitionMapping("model", dg.IdentityPartitionMapping())}
    )
    assert MultiPartitionMapping.__name__ == dg.MultiPartitionMapping.__name__
    assert '"__class__": "MultiPartitionMapping"' in serialize_value(mapping)


# -- partition_metadata: the same metadata as add_asset_metadata, per partition --------

DAYS = dg.DailyPartitionsDefinition(start_date="2024-01-01", end_date="2024-01-04")


def range_asset(name: str, use_patch: bool) -> dg.AssetsDefinition:
    @dg.asset(name=name, partitions_def=DAYS, backfill_policy=dg.BackfillPolicy.single_run())
    def _asset(context):
        meta = {k: {"day": k, "n": i} for i, k in enumerate(context.partition_keys)}
        if use_patch:
            add_partition_metadata(context, context.asset_key, meta)
        else:
            for key, m in meta.items():
                context.add_asset_metadata(m, partition_key=key)
        return dg.MaterializeResult()

    return _asset


def test_partition_metadata_equals_what_add_asset_metadata_writes_per_partition():
    tags = {
        "dagster/asset_partition_range_start": "2024-01-01",
        "dagster/asset_partition_range_end": "2024-01-03",
    }
    by_asset = {}
    with dg.instance_for_test() as instance:
        for name, use_patch in (("stock", False), ("patched", True)):
            assert dg.materialize(
                [range_asset(name, use_patch)], instance=instance, tags=tags
            ).success
            events = instance.fetch_materializations(dg.AssetKey(name), limit=10).records
            by_asset[name] = {
                e.partition_key: {k: v.value for k, v in e.asset_materialization.metadata.items()}
                for e in events
            }
    assert by_asset["patched"] == by_asset["stock"]
    assert by_asset["patched"]["2024-01-02"] == {"day": "2024-01-02", "n": 1}


# -- event_log: the stock storage's methods it joins or overrides ----------------------


def test_event_log_relies_on_stock_methods_that_still_exist():
    from dagster._core.storage.event_log import SqliteEventLogStorage

    for name in (
        "index_connection",
        "run_connection",
        "store_event_batch",
        "store_asset_check_event",
        "_event_to_row",
        "_store_asset_event_tags",
        "_store_asset_event",
        "_store_asset_check_evaluation_planned",
    ):
        assert callable(getattr(SqliteEventLogStorage, name, None)), name
    assert issubclass(BatchedSqliteEventLogStorage, SqliteEventLogStorage)


# -- check_targets: an evaluation aimed at a partition's latest materialization is current --


@dg.asset(partitions_def=DAYS)
def checked():
    return dg.MaterializeResult()


def test_check_target_makes_a_partition_evaluation_current_and_none_leaves_it_stale():
    """What defs/checks.py relies on: an evaluation whose target is the partition's latest
    materialization (check_targets) counts as current for that partition; one without a
    target does not. Fails if Dagster stops reading the target (or moves the type)."""
    with dg.instance_for_test() as instance:
        for key in ("2024-01-01", "2024-01-02", "2024-01-01"):  # 01-01 twice: the later counts
            assert dg.materialize([checked], instance=instance, partition_key=key).success
        targets = latest_materializations(instance, checked.key, ["2024-01-01", "2024-01-02"])
        latest_01 = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=checked.key, asset_partitions=["2024-01-01"]), limit=1
        ).records[0]
        assert targets["2024-01-01"].storage_id == latest_01.storage_id
        for key, target in (("2024-01-01", targets["2024-01-01"]), ("2024-01-02", None)):
            instance.report_runless_asset_event(
                dg.AssetCheckEvaluation(
                    asset_key=checked.key,
                    check_name="c",
                    passed=True,
                    partition=key,
                    target_materialization_data=target,
                )
            )
        infos = instance.event_log_storage.get_asset_check_partition_info(
            [dg.AssetCheckKey(checked.key, "c")]
        )
    assert {i.partition_key: i.is_current for i in infos} == {
        "2024-01-01": True,
        "2024-01-02": False,
    }


def test_check_target_type_is_still_private():
    """When Dagster exports the type, check_targets can import it from `dagster`."""
    assert not hasattr(dg, Target.__name__)


# -- backfills: a CANCELED backfill is one the daemon no longer iterates ------------------


def test_cancel_backfill_takes_a_requested_backfill_out_of_the_daemons_lists():
    from dagster._core.execution.backfill import (
        BulkActionsFilter,
        BulkActionStatus,
        PartitionBackfill,
    )

    # the statuses the backfill daemon iterates (dagster/_daemon/backfill.py)
    iterated = [BulkActionStatus.REQUESTED, BulkActionStatus.CANCELING, BulkActionStatus.FAILING]
    defs = dg.Definitions(assets=[checked])
    with dg.instance_for_test() as instance:
        backfill = PartitionBackfill.from_asset_partitions(
            backfill_id="b1",
            asset_graph=defs.resolve_asset_graph(),
            partition_names=["2024-01-01", "2024-01-02"],
            asset_selection=[checked.key],
            backfill_timestamp=time.time(),
            tags={},
            dynamic_partitions_store=instance,
            all_partitions=False,
            title=None,
            description=None,
            run_config=None,
        )
        instance.add_backfill(backfill)

        def listed() -> list[str]:
            found = instance.get_backfills(filters=BulkActionsFilter(statuses=iterated))
            return [b.backfill_id for b in found]

        assert listed() == ["b1"]
        cancel_backfill(instance, "b1")
        assert instance.get_backfill("b1").status == BulkActionStatus.CANCELED
        assert listed() == []
        cancel_backfill(instance, "b1")  # a finished one is left as it is
        cancel_backfill(instance, None)
        assert instance.get_backfill("b1").status == BulkActionStatus.CANCELED


# -- celery_launcher: a STARTED task whose worker is gone -----------------------------

BROKER, BACKEND = "amqp://guest:guest@127.0.0.1:5672//", "redis://127.0.0.1:6379/0"


def started_task_of_a_gone_worker(app) -> dg.DagsterRun:
    """A run whose Celery task is STARTED, as a worker records it before running
    (track_started), on a worker that no longer exists; nothing else will write it."""
    from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG

    task_id = f"patch-test-{uuid.uuid4().hex}"
    app.backend.store_result(task_id, {"pid": 1, "hostname": "gone@nowhere"}, "STARTED")
    return dg.DagsterRun(job_name="model_day_job", tags={DAGSTER_CELERY_TASK_ID_TAG: task_id})


def launcher(cls):
    return cls(default_queue="celery_patch_test", broker=BROKER, backend=BACKEND)


def test_stock_celery_launcher_still_reports_a_gone_workers_run_running():
    """The defect the patch fixes: if this fails, dagster-celery detects lost workers
    itself and celery_launcher may be dropped."""
    from dagster_celery.launcher import CeleryRunLauncher

    stock = launcher(CeleryRunLauncher)
    health = stock.check_run_worker_health(started_task_of_a_gone_worker(stock.celery))
    assert health.status.value == "RUNNING"


def test_celery_launcher_fails_the_run_of_a_worker_that_does_not_answer():
    from trading_assets.dagster_patches.celery_launcher import WorkerCheckingCeleryRunLauncher

    ours = launcher(WorkerCheckingCeleryRunLauncher)
    health = ours.check_run_worker_health(started_task_of_a_gone_worker(ours.celery))
    assert health.status.value == "FAILED"
    assert health.msg.startswith("worker gone@nowhere lost")


def test_celery_launcher_keeps_the_run_of_a_worker_that_answers():
    """A real Celery worker (in a thread, on the real broker) is running the task."""
    from celery.contrib.testing.worker import start_worker

    from trading_assets.dagster_patches.celery_launcher import WorkerCheckingCeleryRunLauncher

    ours = launcher(WorkerCheckingCeleryRunLauncher)
    with start_worker(
        ours.celery, pool="solo", perform_ping_check=False, shutdown_timeout=120
    ) as worker:
        run = started_task_of_a_gone_worker(ours.celery)
        task_id = run.tags["dagster-celery/task_id"]
        ours.celery.backend.store_result(task_id, {"hostname": worker.hostname}, "STARTED")
        health = ours.check_run_worker_health(run)
    assert health.status.value == "RUNNING", health
