"""The legacy_parity asset check through Dagster: one evaluation per model-day partition,
a readable diff on a mismatch, a parity_diffs row, and a blocking failure."""

from __future__ import annotations

import json

import dagster as dg
import duckdb
import pytest

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


def replay(root, tmp_path):
    store = ResultStore(tmp_path / "s.duckdb")
    report = import_legacy(store, root)
    assert MODEL in report.accepted
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("models", [MODEL])
    resources = {**defs.resources, "store": StoreResource(path=str(store.path))}
    result = dg.materialize(
        [model_day], instance=instance, resources=resources, tags=RANGE, raise_on_error=False
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
    summary = [e for e in evaluations if not e.partition]
    assert summary and summary[0].passed is False
    assert not result.success  # blocking: downstream assets in this run would not run


def test_parity_check_with_clean_fixture_passes_every_partition(tmp_path):
    from trading_assets_tests.legacy_fixture import FIXTURE_ROOT

    _store, result, evaluations = replay(FIXTURE_ROOT, tmp_path)
    assert result.success
    per_partition = [e.passed for e in evaluations if e.partition]
    assert len(per_partition) == 20 and all(per_partition)
