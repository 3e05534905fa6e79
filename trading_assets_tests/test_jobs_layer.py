"""The jobs layer in this process: plan -> launch -> watch -> finish, and cancel, on a
real Dagster instance (its own DAGSTER_HOME) and a real DuckDB store, with the range
launcher running the models' runs here (no subprocess). What a user notices: the
job's status and counts, which model-days are stored, a re-run doing only what is
missing."""

from __future__ import annotations

import shutil
from contextlib import AbstractContextManager
from pathlib import Path

import dagster as dg
import pytest

from trading_assets.jobs.control import follow
from trading_assets.jobs.launch import Launch, Launched, RangeLauncher
from trading_assets.jobs.ranges import JOB_TAG
from trading_assets.jobs.submit import backfill, run_job, submit
from trading_assets.store.jobs import get_job, job_counts
from trading_assets.store.results import ResultStore
from trading_assets_tests.conftest import table_rows
from trading_assets_tests.folder_models import days, folder, spec

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """A DAGSTER_HOME of its own, configured as the project's instance."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    return home


@pytest.fixture
def store(tmp_path, monkeypatch) -> ResultStore:
    path = tmp_path / "store.duckdb"
    monkeypatch.setenv("TRADING_ASSETS_STORE", str(path))
    return ResultStore(path)


def stored(store: ResultStore) -> list[tuple[str, str]]:
    rows = table_rows(store, "model_days", "model, date")
    return [(r["model"], str(r["date"])) for r in rows if r["status"] == "completed"]


def job_runs(home: Path, job_id: str) -> list[str]:
    with dg.DagsterInstance.from_config(str(home)) as instance:
        records = instance.get_run_records(dg.RunsFilter(tags={JOB_TAG: job_id}))
        return sorted(r.dagster_run.status.value for r in records)


def test_a_backfill_runs_each_model_once_and_a_rerun_only_the_missing_days(tmp_path, home, store):
    prices = folder(tmp_path, "p")
    specs = [spec("a", prices), spec("b", prices)]
    first = backfill(store, specs, days(1)[0], days(4)[-1], RangeLauncher(workers=1))
    assert (first["status"], first["model_days"], first["already_stored"]) == ("completed", 8, 0)
    job = get_job(store, first["job_id"])
    assert job.status == "completed" and job.kind == "backfill"
    assert job_counts(store, job.job_id) == {"completed": 8, "failed": 0, "pending": 0}
    expected = [(m, str(d)) for m in ("a", "b") for d in days(4)]
    assert stored(store) == expected
    # one Dagster run per model, both succeeded
    assert job_runs(home, job.job_id) == ["SUCCESS", "SUCCESS"]

    again = backfill(store, specs, days(1)[0], days(6)[-1], RangeLauncher(workers=1))
    assert (again["status"], again["model_days"], again["already_stored"]) == ("completed", 4, 8)
    assert stored(store) == [(m, str(d)) for m in ("a", "b") for d in days(6)]
    nothing = backfill(store, specs, days(1)[0], days(6)[-1], RangeLauncher(workers=1))
    assert nothing["job_id"] is None and nothing["already_stored"] == 12


def test_a_cancelled_job_frees_its_days_and_the_next_submission_runs_them(tmp_path, home, store):
    prices = folder(tmp_path, "p")
    specs = [spec("a", prices)]
    sub = submit(store, specs, days(1)[0], days(3)[-1], RangeLauncher(workers=1), "trigger")
    assert get_job(store, sub.job_id).status == "pending"
    cancelled = follow(store, sub.job_id, cancel=True)
    assert cancelled.status == "interrupted"
    assert "cancelled with `trading-assets job --cancel`" in cancelled.error
    assert job_counts(store, sub.job_id) == {"completed": 0, "failed": 3, "pending": 0}
    assert stored(store) == []
    # the cancelled job holds its days no longer: the same range runs, all of it
    done = backfill(store, specs, days(1)[0], days(3)[-1], RangeLauncher(workers=1))
    assert (done["status"], done["model_days"]) == ("completed", 3)
    assert stored(store) == [("a", str(d)) for d in days(3)]


class LaunchesNothing:
    """A launcher that starts no run: the job ends when Dagster has no active run of it."""

    def warm(self, models: int) -> None:
        pass

    def serving(self, instance, store) -> AbstractContextManager:
        return RangeLauncher().serving(instance, store)

    def launch(self, job: Launch) -> Launched:
        return Launched()

    def stop(self) -> None:
        pass


def test_days_no_run_reached_end_failed_with_why_and_the_job_says_so(tmp_path, home, store):
    prices = folder(tmp_path, "p")
    launcher = LaunchesNothing()
    sub = submit(store, [spec("a", prices)], days(1)[0], days(2)[-1], launcher, "backfill")
    job = run_job(store, sub.instance, sub.job_id, sub.plan.ranges, launcher, poll_s=0.1)
    assert job.status == "failed"
    assert job_counts(store, job.job_id) == {"completed": 0, "failed": 2, "pending": 0}
    assert "not run: the job's runs ended without reaching this day" in job.error
    assert stored(store) == []
