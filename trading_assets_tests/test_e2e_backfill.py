"""End to end through the real CLI, a real Dagster instance, a real DuckDB file.

`trading-assets backfill` registers the models, materializes market_prices, runs
model_day over each model's date range (one real Dagster run per model, in worker
processes), and builds the analytics. These tests check what a user sees afterwards:
the exit code, the leaderboard, the runs and materialized partitions in the instance,
and the rows in the store. The daemon path (`--daemon`) is tested on PostgreSQL
(test_e2e_postgres.py).
"""

from __future__ import annotations

import json
import re
from collections import Counter

import dagster as dg
import duckdb
import pytest

from trading_assets_tests.e2e import TWO_MODELS, sqlite_project, write_config

pytestmark = pytest.mark.slow

CONFIG = TWO_MODELS


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e")
    project = sqlite_project(tmp)
    config = write_config(tmp, CONFIG)
    # 2012-07-04 (a Wednesday) is an XNYS holiday inside the range
    done = project.run(
        "backfill", "--config", str(config), "--start", "2012-06-25", "--end", "2012-07-13"
    )
    return project, done


def test_backfill_with_two_models_exits_zero_and_prints_leaderboard(backfilled):
    _, done = backfilled
    assert done.returncode == 0, done.stderr[-3000:]
    assert re.search(r"^backfill \w+ completed: 28 model-days", done.stdout, re.M)
    assert "sma-fast" in done.stdout and "hold" in done.stdout


def test_backfill_with_holiday_stores_only_trading_days(backfilled):
    project, _ = backfilled
    con = duckdb.connect(str(project.store), read_only=True)
    days = con.execute(
        "SELECT model, count(*), min(date), max(date) FROM model_days GROUP BY model ORDER BY model"
    ).fetchall()
    holiday = con.execute("SELECT count(*) FROM model_days WHERE date = '2012-07-04'").fetchone()
    con.close()
    # 15 weekdays from 2012-06-25 to 2012-07-13, one of them Independence Day
    assert [(m, n) for m, n, *_ in days] == [("hold", 14), ("sma-fast", 14)]
    assert holiday == (0,)


def test_backfill_is_recorded_in_the_dagster_instance(backfilled, monkeypatch):
    project, done = backfilled
    backfill_id = re.search(r"^backfill (\w+) completed", done.stdout, re.M).group(1)
    monkeypatch.setenv("DAGSTER_HOME", str(project.home))
    with dg.DagsterInstance.get() as instance:
        runs = instance.get_runs(dg.RunsFilter(tags={"trading_assets/backfill": backfill_id}))
        # one run per model, each over the model's date range (single-run backfill tags)
        assert sorted(r.tags["dagster/asset_partition_range_start"] for r in runs) == [
            "2012-06-25|hold",
            "2012-06-25|sma-fast",
        ]
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        materialized = instance.get_materialized_partitions(dg.AssetKey("model_day"))
        assert len(materialized) == 2 * 15  # the holiday partition is a recorded no-op
        assert "2012-07-03|hold" in materialized and "2012-07-04|hold" in materialized
        records = instance.fetch_materializations(dg.AssetKey("model_day"), limit=1000).records
        assert {r.run_id for r in records} == {r.run_id for r in runs}
        assert set(Counter(r.partition_key for r in records).values()) == {1}


def test_leaderboard_json_has_the_documented_fields(backfilled):
    project, _ = backfilled
    done = project.run("leaderboard", "--format", "json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert {r["model"] for r in rows} == {"hold", "sma-fast"}
    for row in rows:
        assert {"model", "final_value", "total_return", "max_drawdown", "trading_days"} <= set(row)
        assert row["trading_days"] == 14
        assert -1 < row["total_return"] < 1  # a fraction, not a percentage


def test_results_with_unknown_model_names_the_registered_ones(backfilled):
    project, _ = backfilled
    done = project.run("results", "--model", "nope")
    assert done.returncode == 2
    assert "unknown model 'nope'" in done.stderr and "hold" in done.stderr


def test_rerun_of_the_same_backfill_replaces_rows_without_duplicates(backfilled, tmp_path):
    project, _ = backfilled
    config = write_config(tmp_path, CONFIG)
    con = duckdb.connect(str(project.store), read_only=True)
    before = con.execute(
        "SELECT model, date, cash, portfolio_value FROM model_days ORDER BY ALL"
    ).fetchall()
    con.close()
    # --workers 1: the runs execute in the command's own process; --rerun: stored days too
    again = project.run(
        "backfill",
        *("--config", str(config), "--start", "2012-07-09", "--end", "2012-07-11"),
        *("--workers", "1", "--rerun"),
    )
    assert again.returncode == 0, again.stderr[-3000:]
    assert "one run per model in this process" in again.stdout
    con = duckdb.connect(str(project.store), read_only=True)
    after = con.execute(
        "SELECT model, date, cash, portfolio_value FROM model_days ORDER BY ALL"
    ).fetchall()
    con.close()
    assert after == before


def test_backfill_with_range_without_trading_day_says_so(tmp_path):
    project = sqlite_project(tmp_path)
    config = write_config(tmp_path, CONFIG)
    done = project.run(
        "backfill", "--config", str(config), "--start", "2012-12-25", "--end", "2012-12-25"
    )
    assert done.returncode == 2
    assert "no trading day" in done.stderr and "--start/--end" in done.stderr


def test_backfill_with_bad_config_names_file_and_key(tmp_path):
    project = sqlite_project(tmp_path)
    config = write_config(tmp_path, CONFIG.replace("initial_cash", "initial_cahs"))
    done = project.run("backfill", "--config", str(config))
    assert done.returncode == 2
    assert str(config) in done.stderr and "initial_cahs" in done.stderr


def test_backfill_with_zero_workers_says_so(tmp_path):
    project = sqlite_project(tmp_path)
    done = project.run("backfill", "--config", "demo", "--workers", "0")
    assert done.returncode == 2
    assert "argument --workers: '0' is not a count; use 1 or more" in done.stderr


def test_backfill_with_bad_date_is_a_usage_error(tmp_path):
    project = sqlite_project(tmp_path)
    done = project.run("backfill", "--config", "demo", "--start", "2012-13-01")
    assert done.returncode == 2
    assert "not a date; use YYYY-MM-DD" in done.stderr
