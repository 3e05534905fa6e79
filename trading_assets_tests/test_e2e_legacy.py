"""End to end: `trading-assets import-legacy` on the real AI-Trader fixture.

Import, replay through a Dagster backfill, parity checks per partition, summary. The
fixture is read in place; corrupted variants are copies in tmp_path.
"""

from __future__ import annotations

import dagster as dg
import duckdb
import pytest

from trading_assets_tests.e2e import sqlite_project
from trading_assets_tests.legacy_fixture import FIXTURE_ROOT, corrupted_copy
from trading_assets_tests.legacy_fixture import SIGNATURES as SIGNATURE_ORDER

pytestmark = pytest.mark.slow
SIGNATURES = set(SIGNATURE_ORDER)
STABLE = (
    "SELECT model, date, status, cash, portfolio_value, n_orders, n_filled FROM model_days "
    "ORDER BY ALL"
)


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    project = sqlite_project(tmp_path_factory.mktemp("legacy"))
    first = project.run("import-legacy", str(FIXTURE_ROOT))
    return project, first


def _rows(project, sql):
    con = duckdb.connect(str(project.store), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_import_legacy_with_real_fixture_replays_all_six_with_parity(imported):
    project, done = imported
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    for sig in SIGNATURES:
        assert sig in done.stdout
    checks = _rows(
        project,
        "SELECT model, count(*), bool_and(passed) FROM parity_results "
        "GROUP BY model ORDER BY model",
    )
    assert {m for m, _, _ in checks} == SIGNATURES
    assert all(n == 20 and ok for _, n, ok in checks)


def test_import_legacy_replayed_cash_equals_legacy_cash_exactly(imported):
    project, _ = imported
    # the legacy day's final CASH is the line with the highest id that day
    mismatches = _rows(
        project,
        """
        WITH legacy AS (SELECT model, date, arg_max(cash, id) AS cash FROM legacy_positions
                        GROUP BY model, date)
        SELECT l.model, l.date, l.cash, d.cash FROM legacy l JOIN model_days d USING (model, date)
        WHERE l.cash <> d.cash""",
    )
    assert mismatches == []
    assert _rows(project, "SELECT count(*) FROM model_days")[0][0] == 6 * 20


def test_import_legacy_partitions_carry_per_partition_check_results(imported, monkeypatch):
    project, _ = imported
    monkeypatch.setenv("DAGSTER_HOME", str(project.home))
    with dg.DagsterInstance.get() as instance:
        materialized = instance.get_materialized_partitions(dg.AssetKey("model_day"))
        assert "2025-10-02|gpt-5" in materialized
        assert len([k for k in materialized if k.endswith("|qwen3-max")]) == 20


def test_import_legacy_twice_changes_no_result(imported):
    project, _ = imported
    before = _rows(project, STABLE), _rows(project, "SELECT * FROM legacy_positions ORDER BY ALL")
    again = project.run("import-legacy", str(FIXTURE_ROOT))
    assert again.returncode == 0, again.stdout[-2000:]
    after = _rows(project, STABLE), _rows(project, "SELECT * FROM legacy_positions ORDER BY ALL")
    assert after == before


def test_parity_command_summarises_every_model(imported):
    project, _ = imported
    done = project.run("parity", "--format", "csv")
    assert done.returncode == 0
    lines = done.stdout.strip().splitlines()
    assert lines[0].startswith("model,")
    assert len(lines) == 1 + 6


def test_import_legacy_with_truncated_line_rejects_that_model_only(tmp_path):
    broken = corrupted_copy(tmp_path / "copy", "truncated_line")
    project = sqlite_project(tmp_path)
    done = project.run("import-legacy", str(broken.root))
    assert done.returncode == 1
    assert "REJECTED" in done.stdout and f":{broken.line}" in done.stdout
    models = {m for (m,) in _rows(project, "SELECT DISTINCT model FROM model_days")}
    assert models == SIGNATURES - {"gpt-5"}
