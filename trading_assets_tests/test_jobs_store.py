"""Jobs in the result store (a real store of the backend under test): what a user of the
legacy job API relies on - a job's model-days and status, overlap refusal naming the
running job, outcomes taken from the stored model-days."""

from __future__ import annotations

import datetime as dt
import json
import subprocess

import pytest

from trading_assets.store.jobs import (
    JobConflictError,
    create_job,
    fail_pending_days,
    final_status,
    get_job,
    job_counts,
    list_jobs,
    sync_job_days,
    unfinished_days,
    update_job,
)
from trading_assets.store.results import ResultStore
from trading_assets_tests.e2e import sqlite_project

D1, D2, D3 = dt.date(2012, 1, 3), dt.date(2012, 1, 4), dt.date(2012, 1, 5)


@pytest.fixture
def store(stores):
    return ResultStore(stores.new())


def _store_day(store: ResultStore, model: str, date: dt.date, status: str, error=None) -> None:
    with store.connect() as con:
        con.execute(
            "INSERT OR REPLACE INTO model_days (model, date, status, error_message, run_id, "
            "completed_at, contract_version) VALUES (?, ?, ?, ?, 'r1', now(), 'v1alpha1')",
            [model, date, status, error],
        )


def test_a_second_job_overlapping_a_running_one_is_refused_naming_it(store):
    create_job(store, "job-a", "backfill", [("m1", D1), ("m1", D2)], D1, D2)
    update_job(store, "job-a", status="running")
    with pytest.raises(JobConflictError, match=r"job job-a \(running\).*1 of these.*m1"):
        create_job(store, "job-b", "trigger", [("m1", D2), ("m1", D3)], D2, D3)
    create_job(store, "job-c", "trigger", [("m2", D2)], D2, D2)  # other model: fine
    assert get_job(store, "job-c").status == "pending"


def test_a_finished_job_no_longer_blocks_its_days(store):
    create_job(store, "job-a", "backfill", [("m1", D1)], D1, D1)
    update_job(store, "job-a", status="interrupted")
    create_job(store, "job-b", "backfill", [("m1", D1)], D1, D1)
    assert list(list_jobs(store)["job_id"]) == ["job-b", "job-a"]


def test_outcomes_come_from_days_stored_after_the_job_began(store):
    _store_day(store, "m1", D1, "failed", "old failure")  # before the job: not its outcome
    create_job(store, "job-a", "backfill", [("m1", D1), ("m1", D2), ("m1", D3)], D1, D3)
    _store_day(store, "m1", D2, "degraded_success")
    _store_day(store, "m1", D3, "failed", "no prices for 2012-01-05")
    sync_job_days(store, "job-a")
    assert job_counts(store, "job-a") == {"pending": 1, "completed": 1, "failed": 1}
    fail_pending_days(store, "job-a", {"m1": "run abc: worker died"}, "not run")
    assert job_counts(store, "job-a") == {"pending": 0, "completed": 1, "failed": 2}
    errors = store.query("SELECT coalesce(error, '-') AS error FROM job_model_days ORDER BY date")
    assert list(errors["error"]) == ["run abc: worker died", "-", "no prices for 2012-01-05"]


def test_unfinished_days_are_the_missing_and_failed_ones(store):
    _store_day(store, "m1", D1, "completed")
    _store_day(store, "m1", D2, "failed", "boom")
    assert unfinished_days(store, [("m1", D1), ("m1", D2), ("m1", D3)]) == [("m1", D2), ("m1", D3)]


@pytest.mark.parametrize(
    ("completed", "failed", "interrupted", "status"),
    [(3, 0, False, "completed"), (2, 1, False, "partial"), (0, 3, False, "failed"),
     (2, 1, True, "interrupted")],
)  # fmt: skip
def test_final_status_follows_the_legacy_rule(completed, failed, interrupted, status):
    assert final_status(completed, failed, interrupted) == status


def test_health_reports_instance_daemon_and_a_writable_store(tmp_path, stores):
    from trading_assets_tests.e2e import CLI

    project = sqlite_project(tmp_path)
    project.store = stores.new()
    done = subprocess.run(
        [str(CLI), "health", "--format", "json"],
        env=project.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["status"] == "healthy"
    assert report["store"]["reachable"] and report["store"]["writable"]
    assert report["store"]["path"] == str(project.store)
    assert report["daemon"]["running"] is False
    assert report["instance"]["dagster_home"] == str(project.home)
