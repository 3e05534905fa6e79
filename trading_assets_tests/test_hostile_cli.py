"""Commands given hostile arguments or state (issue 16), through the real CLI, Dagster
instance and DuckDB store: a refusal is exit code 2 and one line (no Dagster stack
trace), nothing stored is lost, and a job's status is never greener than its runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from trading_assets.cli.main import main
from trading_assets.defs.partitions import RANGE_START
from trading_assets.jobs.lifecycle import finish_job, start_job
from trading_assets.jobs.ranges import JOB_TAG
from trading_assets.runs.model_day import run_range
from trading_assets.runs.registration import register_validated
from trading_assets.store.jobs import create_job
from trading_assets.store.results import ResultStore
from trading_assets_tests.conftest import table_rows
from trading_assets_tests.folder_models import days, folder, load_prices, spec, stored_model


@pytest.fixture
def stored(tmp_path) -> ResultStore:
    """Model `a` (buy and hold on a folder source) with its first 5 days stored."""
    return stored_model(tmp_path)


def config_of_a(tmp_path: Path) -> Path:
    """The models file that registers exactly `spec("a", ...)` (same config hash)."""
    path = tmp_path / "models.yaml"
    path.write_text(
        f"initial_cash: 10000\nuniverse: [AAPL, IBM]\n"
        f"market_data: {{source: folder, path: {tmp_path / 'p'}}}\n"
        "models:\n  - {signature: a, agent: buy_and_hold}\n"
    )
    return path


def test_start_after_a_gap_is_refused_in_one_line_before_any_run(tmp_path, stored):
    home = tmp_path / "home"
    home.mkdir()
    gap_start = days(8)[-1]  # days 6 and 7 are not stored
    args = ["--config", str(config_of_a(tmp_path)), "--start", str(gap_start)]
    args += ["--store", str(stored.path), "--quiet", "--workers", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "trading_assets.cli.main", "backfill", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "DAGSTER_HOME": str(home), "PYTHONWARNINGS": "ignore"},
        timeout=300,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr[-3000:]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
    assert lines[0] == (
        f"error: partition {gap_start}|a: previous trading day {days(7)[-1]} has no result "
        f"(last stored: {days(5)[-1]}) Fix: materialize a from {days(7)[-1]} first "
        f"(trading-assets backfill --start {days(6)[-1]})"
    )
    with dg.DagsterInstance.from_config(str(home)) as instance:
        # market_prices may have run; no model_day run was launched
        assert not [r for r in instance.get_run_records() if RANGE_START in r.dagster_run.tags]
    assert [r["date"] for r in table_rows(stored, "model_days", "date")] == days(5)


@pytest.mark.parametrize("text", ["20110103", "2011-1-3", "2011-W01-1"])
def test_start_not_written_yyyy_mm_dd_is_refused(text, tmp_path, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["backfill", "--config", "demo", "--start", text, "--store", str(tmp_path / "s")])
    err = capsys.readouterr().err.strip().splitlines()
    assert exited.value.code == 2
    assert err[-1].endswith(f"argument --start: {text!r} is not a date; use YYYY-MM-DD")
    assert not (tmp_path / "s").exists()


def test_job_with_a_failed_dagster_run_never_ends_completed(tmp_path):
    """Every model-day stored, but Dagster recorded the job's run FAILED (a signal that
    arrived after the writes): the job says so instead of "completed"."""

    @dg.asset
    def signalled() -> None:
        raise dg.Failure("interrupted by SIGINT after the model-days were written")

    store = ResultStore(tmp_path / "s.duckdb")
    register_validated(store, [spec("a", folder(tmp_path, "p"))])
    load_prices(store)
    job_id = "j-greener"
    create_job(store, job_id, "backfill", [("a", d) for d in days(5)], None, None)
    start_job(store, job_id)
    run_range(store, {"a": days(5)})  # the job's model-days, all stored
    with dg.DagsterInstance.ephemeral() as instance:
        run = dg.materialize(
            [signalled],
            instance=instance,
            tags={JOB_TAG: job_id},
            raise_on_error=False,
        )
        assert not run.success
        job = finish_job(store, instance, job_id)
    assert job.status != "completed"
    assert job.status == "partial"
    assert f"run {run.run_id[:8]}" in job.error and "FAILURE" in job.error
    assert "interrupted by SIGINT" in job.error
    # nothing stored is lost or marked failed: the five days stay completed
    rows = table_rows(store, "model_days", "date")
    assert [(r["date"], r["status"]) for r in rows] == [(d, "completed") for d in days(5)]


@pytest.mark.parametrize(
    "args",
    [
        ["study", "run", "--config", "grid.yaml", "--trials-per-chunk", "0"],
        ["study", "run", "--config", "grid.yaml", "--workers", "-2"],
        ["study", "show", "grid", "--top", "0"],
        ["backfill", "--config", "demo", "--workers", "1e9"],
    ],
)
def test_a_count_that_is_not_one_is_a_usage_error_naming_the_flag(args, capsys):
    """Refused by the parser: before Dagster, a run config or the store is touched."""
    flag, value = args[-2:]
    with pytest.raises(SystemExit) as exit_:
        main(args)
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert f"argument {flag}: '{value}' is not a count; use 1 or more" in err
    assert "Traceback" not in err


def test_a_grid_of_a_billion_trials_is_one_line_before_anything_runs(tmp_path, capsys):
    grid = tmp_path / "grid.yaml"
    grid.write_text(
        "universe: [AAPL]\nstudies:\n  - name: huge\n    agent: sma_crossover\n"
        "    params: {fast: {from: 1, to: 1000000000, step: 1}, slow: 200}\n"
    )
    store = tmp_path / "s.duckdb"
    code = main(["study", "run", "--config", str(grid), "--store", str(store)])
    err = capsys.readouterr().err
    assert code == 2
    assert "params.fast: 1,000,000,000 values (at most 100,000)" in err
    assert "Traceback" not in err
    if store.exists():  # nothing registered: the grid was refused before the store
        assert ResultStore(store).query("SELECT count(*) AS n FROM studies")["n"][0] == 0
