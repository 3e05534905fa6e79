"""Faults a backfill job must survive, through the real CLI, real processes and signals.

Each test hurts a running `trading-assets backfill` (kill -9 of a run worker, Ctrl-C of
the command, kill -9 of the daemon), checks what the user sees at once (exit code, the
reason printed, the job's report, no run left running in Dagster), then re-runs the
same command: exactly the missing model-days run, and the store ends with every
model-day once.
"""

from __future__ import annotations

import os
import signal
import time

import dagster as dg
import pytest

from trading_assets_tests.e2e import sqlite_project, write_config
from trading_assets_tests.faults import (
    descendants,
    install_slow_agent,
    job_id_in,
    job_report,
    runs,
    sessions,
    start_cli,
    started_run_of,
    stored_days,
    wait_for,
)

pytestmark = pytest.mark.slow

START, END = "2012-01-03", "2012-02-29"
CONFIG = """
initial_cash: 100000
universe: [AAPL, MSFT]
market_data: {source: bundled}
models:
  - {signature: quick, agent: buy_and_hold}
  - {signature: slow, agent: slow, params: {delay: 0.15}}
"""
ACTIVE = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.QUEUED]


@pytest.fixture
def hurt(tmp_path, monkeypatch):
    project = sqlite_project(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(project.home))
    env = install_slow_agent(tmp_path / "site")
    config = write_config(tmp_path, CONFIG)
    args = ("backfill", "--config", str(config), "--start", START, "--end", END, "--quiet")
    return project, env, args


def _rerun_runs_exactly_the_missing_days(project, env, args, stored_before: int) -> None:
    total = 2 * sessions(START, END)
    again = project.run(*args, **env)
    assert again.returncode == 0, again.stdout[-2000:] + again.stderr[-2000:]
    # the re-run's job holds exactly the model-days the interruption left unstored
    assert f"{total - stored_before} model-days" in again.stdout
    assert f"({stored_before} already stored" in again.stdout
    report = job_report(project, job_id_in(again.stdout))
    assert report["status"] == "completed"
    assert report["progress"]["total_model_days"] == total - stored_before
    rows = stored_days(project)
    assert len(rows) == total  # every model-day once: none missing, none twice
    assert len({(m, d) for m, d, _ in rows}) == total
    assert {s for _, _, s in rows} == {"completed"}


def test_kill_9_of_a_run_worker_is_reported_and_a_rerun_runs_only_the_missing_days(hurt):
    project, env, args = hurt
    cli = start_cli(project, *args, "--workers", "2", **env)
    wait_for(lambda: started_run_of(project, "slow"), what="the slow model's run")
    time.sleep(1.5)  # mid-chain
    [worker, *_] = [p for p in descendants(cli.pid, "forkserver") if p.ppid() != cli.pid]
    worker.kill()
    killed = time.monotonic()
    out, err = cli.communicate(timeout=60)
    assert time.monotonic() - killed < 15  # noticed within seconds, not at the end
    assert cli.returncode == 1, out + err
    assert "a run worker died" in err and "Re-run the same command" in err, err  # even --quiet
    report = job_report(project, job_id_in(out))
    assert report["status"] in ("partial", "failed")
    slow_failures = [f for f in report["failed"] if f["model"] == "slow"]
    assert len(slow_failures) == sessions(START, END)
    assert all("worker died" in f["error"] for f in slow_failures)
    assert not runs(project, ACTIVE)  # no run left "started" in Dagster
    _rerun_runs_exactly_the_missing_days(project, env, args, len(stored_days(project)))


def test_ctrl_c_of_the_command_cancels_its_runs_and_a_rerun_runs_only_the_missing_days(hurt):
    project, env, args = hurt
    cli = start_cli(project, *args, "--workers", "2", group=True, **env)
    wait_for(lambda: started_run_of(project, "slow"), what="the slow model's run")
    workers = descendants(cli.pid, "forkserver")
    os.killpg(cli.pid, signal.SIGINT)  # Ctrl-C reaches every process of the foreground job
    out, err = cli.communicate(timeout=60)
    assert cli.returncode == 130, out + err
    assert "interrupted by Ctrl-C" in err and "cancelled" in err
    # what the user reads: our lines, no multiprocessing (resource tracker) stack trace
    assert "Traceback" not in err and "resource_tracker" not in err, err[-3000:]
    assert not [p for p in workers if p.is_running() and p.status() != "zombie"]
    assert not runs(project, ACTIVE)
    report = job_report(project, job_id_in(err))
    assert report["status"] == "interrupted"
    assert "Ctrl-C" in report["error"]
    _rerun_runs_exactly_the_missing_days(project, env, args, len(stored_days(project)))


def test_kill_9_of_the_daemon_is_noticed_and_a_rerun_runs_only_the_missing_days(hurt):
    project, env, args = hurt
    cli = start_cli(project, *args, "--daemon", **env)
    wait_for(lambda: started_run_of(project, "slow"), timeout=120, what="a run of the daemon")
    [daemon] = descendants(cli.pid, "dagster-daemon")
    daemon.kill()
    killed = time.monotonic()
    out, err = cli.communicate(timeout=60)
    assert time.monotonic() - killed < 15  # noticed within seconds
    assert cli.returncode == 1, out + err
    assert "the Dagster daemon died" in err and "cancelled" in err
    report = job_report(project, job_id_in(out))
    assert report["status"] == "interrupted"
    assert not runs(project, ACTIVE)  # its runs are stopped, not left to a later daemon
    with dg.DagsterInstance.from_config(str(project.home)) as instance:
        [backfill] = instance.get_backfills()
        assert backfill.status.value == "CANCELED"
    _rerun_runs_exactly_the_missing_days(project, env, args, len(stored_days(project)))
