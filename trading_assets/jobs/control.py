"""Following a job from another command: its state (an orphaned one found interrupted),
a wait for its end, a cancel. Light on purpose: Dagster's instance and the store, not
the definitions, so `job`, `job --cancel` and `jobs` start quickly."""

from __future__ import annotations

import os
import signal
import time

from trading_assets.jobs.instance import get_instance
from trading_assets.jobs.lifecycle import interrupt, refresh_jobs
from trading_assets.store.jobs import Job, get_job
from trading_assets.store.results import ResultStore
from trading_assets.vocab import ACTIVE_JOB_STATUSES


def follow(store: ResultStore, job_id: str, wait: bool = False, cancel: bool = False) -> Job:
    """A job as it stands (an orphaned one found interrupted); cancel it; wait for its end."""
    instance = get_instance()
    refresh_jobs(store, instance)
    job = get_job(store, job_id)
    if cancel and job.status in ACTIVE_JOB_STATUSES:
        job = _cancel(store, instance, job)
    while wait and job.status in ACTIVE_JOB_STATUSES:
        time.sleep(1.0)
        refresh_jobs(store, instance)
        job = get_job(store, job_id)
    return job


def _cancel(store: ResultStore, instance, job: Job) -> Job:
    """A live owner (blocking backfill, supervisor) gets SIGINT and cleans up itself."""
    if job.owner_pid and job.owner_pid != os.getpid():
        try:
            os.kill(job.owner_pid, signal.SIGINT)
            for _ in range(60):
                time.sleep(0.5)
                job = get_job(store, job.job_id)
                if job.status not in ACTIVE_JOB_STATUSES:
                    return job
        except ProcessLookupError:
            pass
    return interrupt(store, instance, job, "cancelled with `trading-assets job --cancel`")


def refreshed(store: ResultStore) -> None:
    """Find the jobs whose owner died interrupted (before listing them)."""
    refresh_jobs(store, get_instance())
