"""Jobs through the real CLI: `trigger` on the daemon, `job`, `jobs`, overlap refusal,
and failures inside runs reaching the user with their reason (never only daemon.log)."""

from __future__ import annotations

import json
import time

import dagster as dg
import pytest

from trading_assets_tests.e2e import sqlite_project, write_config
from trading_assets_tests.faults import (
    install_slow_agent,
    job_id_in,
    job_report,
    runs,
    start_cli,
    started_run_of,
    stored_days,
    wait_for,
)

pytestmark = pytest.mark.slow


def _price_folder(tmp_path):
    """AAPL and MSFT bars 2012-01-03..13: MSFT lacks 01-05, nobody has 01-10."""
    folder = tmp_path / "prices"
    folder.mkdir()
    days = ["2012-01-03", "2012-01-04", "2012-01-05", "2012-01-06", "2012-01-09",
            "2012-01-10", "2012-01-11", "2012-01-12", "2012-01-13"]  # fmt: skip
    for symbol, base in (("AAPL", 100.0), ("MSFT", 30.0)):
        lines = ["date,open,high,low,close,volume"]
        for i, day in enumerate(days):
            if day == "2012-01-10" or (symbol == "MSFT" and day == "2012-01-05"):
                continue
            lines.append(f"{day},{base + i},{base + i + 1},{base + i - 1},{base + i + 0.5},1000")
        (folder / f"{symbol}.csv").write_text("\n".join(lines) + "\n")
    return folder


def test_missing_prices_one_symbol_is_partial_data_every_symbol_fails_the_day(tmp_path):
    project = sqlite_project(tmp_path)
    folder = _price_folder(tmp_path)
    config = write_config(
        tmp_path,
        f"initial_cash: 10000\nuniverse: [AAPL, MSFT]\n"
        f"market_data: {{source: folder, path: {folder}}}\n"
        "models:\n  - {signature: hold, agent: buy_and_hold}\n",
    )
    done = project.run("backfill", "--config", str(config), "--quiet")
    assert done.returncode == 1
    assert "first hold on 2012-01-10: no prices for 2012-01-10" in done.stdout
    rows = {str(d): s for _, d, s in stored_days(project)}
    assert rows["2012-01-05"] == "degraded_success"  # MSFT's bar is missing: partial data
    assert rows["2012-01-10"] == "failed"  # no bar at all: never yesterday's prices carried
    assert "2012-01-11" not in rows  # the chain stops at the failed day
    report = job_report(project, job_id_in(done.stdout))
    assert report["status"] == "partial"
    assert report["progress"]["completed"] == 5 and report["progress"]["failed"] == 4
    assert report["failed"][0]["error"].startswith("no prices for 2012-01-10")
    quality = project.run("results", "--model", "hold", "--format", "json")
    by_day = {r["date"][:10]: r for r in json.loads(quality.stdout)}
    assert "partial_data" in by_day["2012-01-05"]["reason_codes"]


def test_an_unknown_symbol_is_refused_before_anything_runs_naming_model_and_symbol(tmp_path):
    project = sqlite_project(tmp_path)
    config = write_config(
        tmp_path, "universe: [AAPL, NOPE]\nmodels:\n  - {signature: hold, agent: buy_and_hold}\n"
    )
    args = ("backfill", "--config", str(config), "--start", "2012-01-03", "--end", "2012-01-13")
    done = project.run(*args, "--format", "json")
    # never poison: the model is not registered, no job is recorded, and the user reads why
    assert done.returncode == 2
    assert "REJECTED hold" in done.stderr and "NOPE" in done.stderr
    listed = project.run("models", "list", "--format", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    jobs = project.run("jobs", "--format", "json")
    assert jobs.returncode == 0 and json.loads(jobs.stdout) == []


def test_trigger_returns_at_once_refuses_an_overlap_and_agrees_with_dagster(tmp_path, monkeypatch):
    project = sqlite_project(tmp_path)
    env = install_slow_agent(tmp_path / "site")
    config = write_config(
        tmp_path,
        "universe: [AAPL]\nmodels:\n  - {signature: slow, agent: slow, params: {delay: 0.3}}\n",
    )
    rng = ("--config", str(config), "--start", "2012-01-03", "--end", "2012-01-31")
    began = time.monotonic()
    fired = project.run("trigger", *rng, "--format", "json", **env)
    assert fired.returncode == 0, fired.stderr
    assert time.monotonic() - began < 30  # the job id comes back before the work is done
    job = json.loads(fired.stdout)
    assert job["status"] == "pending" and job["total_model_days"] == 20
    refused = project.run("backfill", *rng, "--start", "2012-01-30", **env)
    assert refused.returncode == 2
    assert f"job {job['job_id']}" in refused.stderr and "already runs 2 of these" in refused.stderr
    waited = project.run("job", job["job_id"], "--wait", "--format", "json", **env)
    assert waited.returncode == 0, waited.stdout
    report = json.loads(waited.stdout)
    assert report["status"] == "completed" and report["progress"]["completed"] == 20
    listed = json.loads(project.run("jobs", "--format", "json").stdout)
    assert [j["status"] for j in listed if j["job_id"] == job["job_id"]] == ["completed"]
    monkeypatch.setenv("DAGSTER_HOME", str(project.home))
    with dg.DagsterInstance.from_config(str(project.home)) as instance:
        backfill = instance.get_backfill(report["dagster_backfill_id"])
        assert backfill.status.value == "COMPLETED_SUCCESS"
        assert backfill.tags["trading_assets/job"] == job["job_id"]
    assert len(stored_days(project)) == 20


def test_job_cancel_stops_a_running_backfill_and_says_so(tmp_path, monkeypatch):
    project = sqlite_project(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(project.home))
    env = install_slow_agent(tmp_path / "site")
    config = write_config(
        tmp_path,
        "universe: [AAPL]\nmodels:\n  - {signature: slow, agent: slow, params: {delay: 0.3}}\n",
    )
    args = ("backfill", "--config", str(config), "--start", "2012-01-03", "--end", "2012-03-30")
    cli = start_cli(project, *args, "--quiet", **env)
    wait_for(lambda: started_run_of(project, "slow"), what="the backfill's run")
    [job] = json.loads(project.run("jobs", "--format", "json").stdout)
    assert job["status"] == "running"
    cancelled = project.run("job", job["job_id"], "--cancel", "--format", "json")
    assert cancelled.returncode == 1  # the job did not complete
    assert json.loads(cancelled.stdout)["status"] == "interrupted"
    _, err = cli.communicate(timeout=60)
    assert cli.returncode == 130 and "interrupted by Ctrl-C" in err
    assert not runs(project, [dg.DagsterRunStatus.STARTED])
