"""The seam between a planned job and whatever runs it: a `Launcher`.

A launcher starts a job's ranges as Dagster runs tagged with the job (`JOB_TAG`) and
returns their ids: the run ids, or the id of the asset backfill whose runs the daemon
launches. `watch` then waits on Dagster alone, whatever launched the runs: the job has
ended when its backfill is terminal, or (no backfill) when none of its runs is active.
Two launchers exist:
- `RangeLauncher`: one run per model over its range, executed here or in N forkserver
  worker processes (jobs/ranges.py); `launch` returns when the runs have ended;
- `DaemonLauncher`: a Dagster asset backfill launched through GraphQL as the UI does,
  run by the daemon (started for the job if none heartbeats; jobs/daemon.py). The
  daemon launches the backfill's runs through the instance's run launcher, so a
  dagster.yaml that sets e.g. dagster-celery's `CeleryRunLauncher` runs them there.
A third (runs submitted straight to the instance's run launcher) would implement the
same three methods: `warm`, `serving`, `launch`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass, field
from typing import Protocol

import dagster as dg

from trading_assets.jobs.daemon import TERMINAL, daemon_env, launch_backfill
from trading_assets.jobs.instance import ensure_home, running_daemon
from trading_assets.jobs.lifecycle import ACTIVE_RUN
from trading_assets.jobs.ranges import (
    JOB_TAG,
    RangeRun,
    RunOutcome,
    default_workers,
    run_ranges,
    start_workers,
    stop_workers,
)
from trading_assets.store.jobs import days_per_model, job_counts, sync_job_days
from trading_assets.store.results import ResultStore
from trading_assets.vocab import DayStatus


@dataclass(frozen=True)
class Launch:
    """What a launcher gets: the job, its planned ranges, and where to say things."""

    store: ResultStore
    instance: dg.DagsterInstance
    job_id: str
    ranges: Sequence[RangeRun]
    total: int  # the job's model-days
    echo: Callable[[str], None] = print
    report: Callable[[int, str], None] = lambda done, status: None  # progress


@dataclass(frozen=True)
class Launched:
    backfill_id: str | None = None  # the Dagster asset backfill the daemon runs
    run_ids: tuple[str, ...] = ()
    fault: str | None = None  # the launcher itself broke (a run worker died)
    lost: dict[str, str] = field(default_factory=dict)  # model -> why its days are lost


class Launcher(Protocol):
    def warm(self, models: int) -> None:
        """Get ready while the job is planned (e.g. start worker processes)."""

    def serving(
        self, instance: dg.DagsterInstance, store: ResultStore
    ) -> ContextManager[Callable[[], bool]]:
        """While the job runs: whatever must serve it; yields a check that it lives."""

    def launch(self, job: Launch) -> Launched:
        """Start the job's ranges as Dagster runs tagged with the job; return their ids."""

    def stop(self) -> None:
        """After a Ctrl-C: stop what this process started (the runs are cancelled apart)."""


@dataclass(frozen=True)
class RangeLauncher:
    workers: int | None = None  # worker processes; None: one per core; 1: this process

    def count(self, runs: int) -> int:
        return max(1, min(self.workers or default_workers(), runs))

    def warm(self, models: int) -> None:
        # after ensure_home: the workers inherit DAGSTER_HOME and the event settings
        ensure_home()
        start_workers(self.count(models))

    @contextlib.contextmanager
    def serving(self, instance, store) -> Iterator[Callable[[], bool]]:
        yield lambda: True  # the runs execute inside launch()

    def launch(self, job: Launch) -> Launched:
        n = self.count(len(job.ranges))
        where = "this process" if n == 1 else f"{n} worker processes"
        job.echo(
            f"job {job.job_id}: {job.total} model-days over {len(job.ranges)} models, "
            f"one run per model in {where}"
        )
        per_model = days_per_model(job.store, job.job_id)
        done = [0]

        def on_done(outcome: RunOutcome) -> None:
            done[0] += per_model.get(outcome.model, 0) if outcome.success else 0
            job.report(done[0], "running")

        outcomes = run_ranges(
            job.ranges, str(job.store.path), job.job_id, n, job.echo, on_done, job.instance
        )
        dead = [o for o in outcomes if o.worker_error]
        fault = f"a run worker died (killed?): {dead[0].worker_error}" if dead else None
        return Launched(
            run_ids=tuple(o.run_id for o in outcomes if not o.worker_error),
            fault=fault,
            lost={o.model: f"not stored: {fault}" for o in dead},
        )

    def stop(self) -> None:
        stop_workers()


@dataclass(frozen=True)
class DaemonLauncher:
    def warm(self, models: int) -> None:
        pass  # the daemon's runs start their own processes

    def serving(self, instance, store) -> ContextManager[Callable[[], bool]]:
        return running_daemon(instance, daemon_env(store))

    def launch(self, job: Launch) -> Launched:
        backfill_id = launch_backfill(job.store, job.ranges, job.total, job.job_id)
        job.echo(
            f"job {job.job_id}: Dagster backfill {backfill_id}, {job.total} model-days over "
            f"{len(job.ranges)} models"
        )
        return Launched(backfill_id=backfill_id)

    def stop(self) -> None:
        stop_workers()


def watch(job: Launch, launched: Launched, alive: Callable[[], bool], poll_s: float = 2.0) -> bool:
    """Wait until Dagster says the job's runs have ended (False), or what serves them
    died first (True). The store's day rows follow along for the progress report: a
    model-day's outcome (with its failure reason) is a row the engine writes, which
    Dagster has no per-partition place for; whether the job has ended is Dagster's."""
    while True:
        sync_job_days(job.store, job.job_id)
        status = "running"
        if launched.backfill_id:
            backfill = job.instance.get_backfill(launched.backfill_id)
            status = backfill.status.value if backfill else "UNKNOWN"
            ended = status in TERMINAL
        else:
            active = dg.RunsFilter(tags={JOB_TAG: job.job_id}, statuses=list(ACTIVE_RUN))
            ended = not job.instance.get_runs_count(active)
        job.report(int(job_counts(job.store, job.job_id)[DayStatus.COMPLETED]), status.lower())
        if ended:
            return False
        if not alive():
            return True
        time.sleep(poll_s)
