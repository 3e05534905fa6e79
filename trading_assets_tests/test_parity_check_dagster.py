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
    AssetCheckExecutionRecordStatus,  # not exported; PLANNED + finished run = skipped in the UI
)

from trading_assets.defs.assets.model_day import model_day
from trading_assets.defs.definitions import defs
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
    return store, result, evaluations


@pytest.fixture
def corrupted(tmp_path):
    broken = corrupted_copy(tmp_path / "copy", "sell_not_held")
    return (broken, *replay(broken.root, tmp_path))


def test_parity_check_with_sell_not_held_fails_only_that_partition(corrupted):
    broken, _store, _result, evaluations = corrupted
    per_partition = {e.partition: e.passed for e in evaluations if e.partition}
    assert len(per_partition) == 20
    failed = sorted(k for k, ok in per_partition.items() if not ok)
    # exactly the day of the corrupted line (a sell of shares the model did not hold)
    corrupted_day = json.loads(broken.file.read_text().splitlines()[broken.line - 1])["date"]
    assert failed == [f"{corrupted_day}|{MODEL}"]


def test_parity_check_with_mismatch_explains_it_in_metadata_and_table(corrupted):
    _broken, store, _result, evaluations = corrupted
    [bad] = [e for e in evaluations if e.partition and not e.passed]
    diff = bad.metadata["diffs"].value
    assert "rejected (insufficient_shares)" in diff
    con = duckdb.connect(str(store.path), read_only=True)
    rows = con.execute("SELECT field, legacy_value, new_value FROM parity_diffs").fetchall()
    con.close()
    assert rows and any("insufficient_shares" in (new or "") for _, _, new in rows)


def test_parity_check_with_failure_blocks_the_run(corrupted):
    _broken, _store, result, evaluations = corrupted
    assert all(e.partition for e in evaluations)  # no range summary: one per partition
    assert not result.success  # blocking: downstream assets in this run would not run
    error = result.failure_data_for_node("model_day").error.to_string()
    assert "1 blocking asset check failed" in error and "legacy_parity" in error
    # the day's results are stored and recorded all the same
    assert len(result.asset_materializations_for_node("model_day")) == 20


def test_parity_check_with_clean_fixture_passes_every_partition(tmp_path):
    from trading_assets_tests.legacy_fixture import FIXTURE_ROOT

    _store, result, evaluations = replay(FIXTURE_ROOT, tmp_path)
    assert result.success
    per_partition = [e.passed for e in evaluations if e.partition]
    assert len(per_partition) == len(evaluations) == 20 and all(per_partition)


def test_parity_check_evaluates_only_the_partitions_with_a_legacy_record(tmp_path):
    from trading_assets_tests.legacy_fixture import FIXTURE_ROOT

    wider = {**RANGE, "dagster/asset_partition_range_start": f"2025-09-29|{MODEL}"}
    store, result, evaluations = replay(FIXTURE_ROOT, tmp_path, wider)
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
        history = instance.event_log_storage.get_asset_check_execution_history(CHECK, limit=10)
    # planned with each run and never evaluated: Dagster shows it skipped, never passed
    assert len(history) == 2
    assert {r.status for r in history} == {AssetCheckExecutionRecordStatus.PLANNED}
    assert store.query("SELECT count(*) AS n FROM parity_results")["n"][0] == 0
