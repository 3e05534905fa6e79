"""The legacy_parity asset check through Dagster: one evaluation per model-day partition
with a legacy record, a readable diff on a mismatch, a parity_diffs row, a blocking
failure; and no evaluation at all (the planned check is skipped) for models with no
legacy record, so a green check always means compared and equal."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pytest
from dagster._core.storage.asset_check_execution_record import (
    AssetCheckExecutionResolvedStatus as Resolved,  # not exported: the statuses the UI shows
)

from trading_assets.defs.assets.model_day import model_day
from trading_assets.defs.definitions import defs
from trading_assets.defs.partitions import model_day_partitions
from trading_assets.defs.resources.store import StoreResource
from trading_assets.legacy.importer import import_legacy
from trading_assets.store.results import ResultStore
from trading_assets_tests.legacy_fixture import corrupted_copy

MODEL = "gpt-5"
RANGE = {
    "dagster/asset_partition_range_start": f"2025-10-02|{MODEL}",
    "dagster/asset_partition_range_end": f"2025-10-29|{MODEL}",
}
CHECK = dg.AssetCheckKey(dg.AssetKey("model_day"), "legacy_parity")


def check_state(instance: dg.DagsterInstance) -> dict[Resolved, list[str]]:
    """The check's status per partition, as the UI's Checks tab and partition pages read
    it (Dagster's AssetCheckState): each status with its model-day keys."""
    with dg.partition_loading_context(dynamic_partitions_store=instance):
        state = instance.event_log_storage.get_asset_check_state([(CHECK, model_day_partitions)])
        return {
            status: sorted(subset.subset_value.get_partition_keys())
            for status, subset in state[CHECK].subsets.items()
            if not subset.is_empty
        }


def replay(root, tmp_path, tags=RANGE):
    store = ResultStore(tmp_path / "s.duckdb")
    report = import_legacy(store, root)
    assert MODEL in report.accepted
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("models", [MODEL])
    resources = {**defs.resources, "store": StoreResource(path=str(store.path))}
    result = dg.materialize(
        [model_day], instance=instance, resources=resources, tags=tags, raise_on_error=False
    )
    evaluations = [
        e.asset_check_evaluation_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    return store, result, evaluations, instance


@pytest.fixture
def corrupted(tmp_path):
    broken = corrupted_copy(tmp_path / "copy", "sell_not_held")
    return (broken, *replay(broken.root, tmp_path))


def corrupted_day(broken) -> str:
    return json.loads(broken.file.read_text().splitlines()[broken.line - 1])["date"]


def test_parity_check_with_sell_not_held_fails_only_that_partition(corrupted):
    broken, _store, _result, evaluations, _instance = corrupted
    per_partition = {e.partition: e.passed for e in evaluations if e.partition}
    assert len(per_partition) == 20
    failed = sorted(k for k, ok in per_partition.items() if not ok)
    # exactly the day of the corrupted line (a sell of shares the model did not hold)
    assert failed == [f"{corrupted_day(broken)}|{MODEL}"]


def test_parity_check_status_per_partition_is_failed_on_that_day_and_passed_on_the_others(
    corrupted,
):
    broken, _store, _result, evaluations, instance = corrupted
    bad = f"{corrupted_day(broken)}|{MODEL}"
    shown = check_state(instance)
    # each evaluation counts for its day's latest materialization: none is stale
    assert shown[Resolved.FAILED] == [bad]
    assert shown[Resolved.SUCCEEDED] == sorted(e.partition for e in evaluations if e.passed)
    assert len(shown[Resolved.SUCCEEDED]) == 19 and set(shown) == {
        Resolved.FAILED,
        Resolved.SUCCEEDED,
    }


def test_parity_check_failure_is_on_that_days_own_materialization(corrupted):
    broken, _store, _result, _evaluations, instance = corrupted
    bad = f"{corrupted_day(broken)}|{MODEL}"
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=dg.AssetKey("model_day"), asset_partitions=[bad]), limit=1
    ).records
    shown = records[0].asset_materialization.metadata["legacy_parity"].value
    assert shown.startswith("FAILED: 1 difference(s): ") and "insufficient_shares" in shown


def test_parity_check_with_mismatch_explains_it_in_metadata_and_table(corrupted):
    _broken, store, _result, evaluations, _instance = corrupted
    [bad] = [e for e in evaluations if e.partition and not e.passed]
    diff = bad.metadata["diffs"].value
    assert "rejected (insufficient_shares)" in diff
    con = duckdb.connect(str(store.path), read_only=True)
    rows = con.execute("SELECT field, legacy_value, new_value FROM parity_diffs").fetchall()
    con.close()
    assert rows and any("insufficient_shares" in (new or "") for _, _, new in rows)


def test_parity_check_with_failure_blocks_the_run(corrupted):
    _broken, _store, result, evaluations, _instance = corrupted
    assert all(e.partition for e in evaluations)  # no range summary: one per partition
    assert not result.success  # blocking: downstream assets in this run would not run
    error = result.failure_data_for_node("model_day").error.to_string()
    assert "1 blocking asset check failed" in error and "legacy_parity" in error
    # the day's results are stored and recorded all the same
    assert len(result.asset_materializations_for_node("model_day")) == 20


def test_parity_check_with_clean_fixture_passes_every_partition(tmp_path):
    from trading_assets_tests.legacy_fixture import FIXTURE_ROOT

    _store, result, evaluations, instance = replay(FIXTURE_ROOT, tmp_path)
    assert result.success
    assert Resolved.FAILED not in check_state(instance)
    per_partition = [e.passed for e in evaluations if e.partition]
    assert len(per_partition) == len(evaluations) == 20 and all(per_partition)


def test_parity_check_evaluates_only_the_partitions_with_a_legacy_record(tmp_path):
    from trading_assets_tests.legacy_fixture import FIXTURE_ROOT

    wider = {**RANGE, "dagster/asset_partition_range_start": f"2025-09-29|{MODEL}"}
    store, result, evaluations, _instance = replay(FIXTURE_ROOT, tmp_path, wider)
    assert result.success
    legacy_days = store.query(
        "SELECT DISTINCT date FROM legacy_positions WHERE model = ? AND action IS NOT NULL "
        "ORDER BY 1",
        [MODEL],
    )
    expected = [f"{d:%Y-%m-%d}|{MODEL}" for d in legacy_days["date"]]
    stored = store.query("SELECT count(*) AS n FROM model_days WHERE model = ?", [MODEL])
    assert stored["n"][0] > len(expected)  # days without a legacy record were run too
    assert sorted(e.partition for e in evaluations) == expected


def test_parity_check_on_models_without_legacy_record_records_no_evaluation(tmp_path):
    from trading_assets.config import load_config, model_specs
    from trading_assets.market.sources import BundledSource

    config = tmp_path / "models.yaml"
    config.write_text(
        "universe: [AAPL, MSFT]\nmodels:\n  - {signature: bh, agent: buy_and_hold}\n"
        "  - {signature: sma, agent: sma_crossover, params: {fast: 3, slow: 10, size: 10}}\n"
    )
    store = ResultStore(tmp_path / "s.duckdb")
    store.register_models(model_specs(load_config(config)))
    store.write_prices("bundled", BundledSource().load())
    resources = {**defs.resources, "store": StoreResource(path=str(store.path))}
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("models", ["bh", "sma"])
        for model in ("bh", "sma"):
            tags = {
                "dagster/asset_partition_range_start": f"2012-01-03|{model}",
                "dagster/asset_partition_range_end": f"2012-01-31|{model}",
            }
            result = dg.materialize([model_day], instance=instance, resources=resources, tags=tags)
            assert result.success
            assert result.get_asset_check_evaluations() == []
        shown = check_state(instance)
        stored = store.query("SELECT count(*) AS n FROM model_days")["n"][0]
    # planned with each run and never evaluated: Dagster shows each day skipped, never passed
    assert set(shown) == {Resolved.SKIPPED}
    assert len(shown[Resolved.SKIPPED]) >= stored == 2 * 20
    assert store.query("SELECT count(*) AS n FROM parity_results")["n"][0] == 0
