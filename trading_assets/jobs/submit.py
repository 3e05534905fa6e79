"""One submission path for every job, and what follows it.

`submit` registers the models that validate, materializes market prices and documents,
plans the model-days not stored yet and records the job. Then either:
- `run_job` launches it (any `Launcher`), watches Dagster until its runs or backfill
  have ended and finishes it: `backfill` does this in the foreground;
- `detach` hands it to a supervisor process (`trading-assets job JOB --supervise`,
  which calls `supervise`): `trigger` does this and returns at once. Why the daemon's
  backfill for a detached job and not our own queue: it is what the UI shows and
  cancels, and Dagster keeps its state if the supervisor dies (a later `job`, `jobs` or
  `trigger` then finds the job interrupted and cancels the backfill).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager as ContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import dagster as dg

from trading_assets.config import ModelSpec
from trading_assets.defs.assets.documents import documents
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.partitions import MODELS_PARTITION
from trading_assets.errors import TradingAssetsError
from trading_assets.jobs.here import ANALYTICS, materialize_here
from trading_assets.jobs.instance import ensure_home, get_instance
from trading_assets.jobs.launch import DaemonLauncher, Launch, Launcher, watch
from trading_assets.jobs.lifecycle import (
    Plan,
    claim_job,
    fail_active_runs,
    finish_job,
    interrupt,
    job_ranges,
    new_job_id,
    plan_job,
    refresh_jobs,
    start_job,
)
from trading_assets.jobs.ranges import JOB_TAG, RangeRun
from trading_assets.runs.registration import register_validated
from trading_assets.store.jobs import Job, create_job, get_job, job_counts, update_job
from trading_assets.store.results import ResultStore
from trading_assets.vocab import DayStatus, JobStatus


class Reporter(Protocol):
    def update(self, done: int, status: str = "") -> None: ...


class _Silent:
    def update(self, done: int, status: str = "") -> None:
        pass


def silent(total: int) -> ContextManager[Reporter]:
    return contextlib.nullcontext(_Silent())


Progress = Callable[[int], ContextManager[Reporter]]  # total model-days -> a reporter


def alert(text: str) -> None:
    """A fault the user must see, even with --quiet or --format json (on stderr)."""
    print(text, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Submission:
    instance: dg.DagsterInstance
    job_id: str | None  # None: nothing to run (every model-day is stored)
    plan: Plan
    rejected: dict[str, str]  # model -> why it was not registered (and does not run)


def submit(
    store: ResultStore,
    specs: Sequence[ModelSpec],
    start: dt.date | None,
    end: dt.date | None,
    launcher: Launcher,
    kind: str,
    rerun: bool = False,
) -> Submission:
    """Register, prepare and plan; record the job (kind "backfill" or "trigger").

    Only the model-days not stored yet (or failed) are the job's, unless `rerun`."""
    instance, specs, rejected = _prepare(store, specs, start, end, launcher)
    refresh_jobs(store, instance)  # a killed command's job must not block this one
    try:
        plan = plan_job(store, specs, start, end, rerun=rerun)
    except BaseException:  # refused (a gap before --start): no worker is left behind
        launcher.stop()
        raise
    job_id = new_job_id() if plan.days else None
    if job_id:
        create_job(store, job_id, kind, plan.days, start, end)
    return Submission(instance, job_id, plan, rejected)


def _prepare(store, specs, start, end, launcher: Launcher):
    """Register the models whose config and market data validate (the others are named
    on stderr, with why, and left out), materialize market_prices and documents, add
    the models' partitions."""
    instance = get_instance()
    registration = register_validated(store, specs, start, end)
    for line in registration.lines():
        alert(line)
    specs = registration.registered
    if not specs:
        raise TradingAssetsError(
            "no model to run: " + ("; ".join(registration.lines()) or "none was given"),
            fix="fix the config or the market data named above, or enable the model",
        )
    materialize_here(instance, store, [market_prices, documents])
    launcher.warm(len(specs))  # after market_prices: workers see the dates it recorded
    existing = set(instance.get_dynamic_partitions(MODELS_PARTITION))
    instance.add_dynamic_partitions(
        MODELS_PARTITION, [s.signature for s in specs if s.signature not in existing]
    )
    return instance, specs, dict(registration.rejected)


def run_job(
    store: ResultStore,
    instance: dg.DagsterInstance,
    job_id: str,
    ranges: Sequence[RangeRun],
    launcher: Launcher,
    echo: Callable[[str], None] = print,
    poll_s: float = 2.0,
    progress: Progress = silent,
) -> Job:
    """Launch a recorded job, watch it until Dagster says it ended, finish it in the
    store; Ctrl-C cancels its backfill and runs and says so."""
    total = int(job_counts(store, job_id)[DayStatus.PENDING])
    try:
        with progress(total) as bar:
            start_job(store, job_id)
            job = Launch(store, instance, job_id, ranges, total, echo, bar.update)
            with launcher.serving(instance, store) as alive:
                launched = launcher.launch(job)
                if launched.backfill_id:  # before the watch: a cancel must find it
                    update_job(store, job_id, dagster_backfill_id=launched.backfill_id)
                if launched.fault:
                    return _lost(store, instance, job_id, launched.fault, launched.lost)
                died = watch(job, launched, alive, poll_s)
    except KeyboardInterrupt:
        launcher.stop()
        job = interrupt(store, instance, get_job(store, job_id), "Ctrl-C (SIGINT) of the command")
        alert(
            f"job {job_id} interrupted by Ctrl-C: its backfill and runs are cancelled; {job.error}"
        )
        raise
    if died:
        why = "the Dagster daemon died (killed?) before the backfill ended"
        job = interrupt(store, instance, get_job(store, job_id), why)
        alert(
            f"{why}: backfill {job.dagster_backfill_id} cancelled, its runs stopped. "
            f"{job.error}; a daemon is started for the command when none runs."
        )
        return job
    return finish_job(store, instance, job_id)


def _lost(store, instance, job_id: str, why: str, lost: dict[str, str]) -> Job:
    """The launcher broke (a dead run worker): stop the runs in flight, finish the job."""
    fail_active_runs(instance, job_id, why)
    alert(
        f"{why}: the runs in flight stopped; their model-days are not stored. "
        "Re-run the same command to run exactly the missing model-days."
    )
    # Dagster saw these runs interrupted; the cause is the dead worker
    return finish_job(store, instance, job_id, not_run=f"not run: {why}", reasons=lost)


def backfill(
    store: ResultStore,
    specs: Sequence[ModelSpec],
    start: dt.date | None,
    end: dt.date | None,
    launcher: Launcher,
    echo: Callable[[str], None] = print,
    poll_s: float = 2.0,
    rerun: bool = False,
    progress: Progress = silent,
) -> dict:
    """Submit `specs` over [start, end] and run the job in the foreground, then the
    analytics; return the job, its status and timings."""
    t0, started_at = time.monotonic(), time.time()
    sub = submit(store, specs, start, end, launcher, "backfill", rerun=rerun)
    job = None
    if sub.job_id:
        ranges = sub.plan.ranges
        job = run_job(store, sub.instance, sub.job_id, ranges, launcher, echo, poll_s, progress)
    if job is None or job.status == JobStatus.COMPLETED:
        materialize_here(sub.instance, store, ANALYTICS)
    return {
        "job_id": sub.job_id,
        "rejected": sub.rejected,
        "backfill_id": sub.job_id,
        "status": str(job.status) if job else str(JobStatus.COMPLETED),
        "model_days": len(sub.plan.days),  # trading days x models run by this job
        "already_stored": sub.plan.stored,
        "error": job.error if job else None,
        "seconds": time.monotonic() - t0,
        "runs_done_after_seconds": _last_run_end(sub.instance, sub.job_id, started_at),
    }


def _last_run_end(instance: dg.DagsterInstance, job_id: str | None, started_at: float):
    """Seconds from the command's start until the job's last run ended: every partition
    is then materialized in Dagster (the daemon marks a backfill done on its next tick,
    up to 30 s later)."""
    if job_id is None:
        return None
    records = instance.get_run_records(dg.RunsFilter(tags={JOB_TAG: job_id}))
    ends = [r.end_time for r in records if r.end_time]
    return max(ends) - started_at if ends else None


def trigger(store, specs, start, end) -> tuple[Submission, Path | None]:
    """The same submission as a backfill, on the daemon, detached: returns at once with
    the job and its supervisor's log (None: nothing to run)."""
    sub = submit(store, specs, start, end, DaemonLauncher(), "trigger")
    return sub, detach(store, sub.job_id) if sub.job_id else None


def detach(store: ResultStore, job_id: str) -> Path:
    """Start the job's supervisor, outside this command's session; return its log."""
    log = ensure_home() / "jobs" / f"{job_id}.log"
    log.parent.mkdir(exist_ok=True)
    with open(log, "ab") as out:
        supervisor = subprocess.Popen(
            [
                *(sys.executable, "-m", "trading_assets.cli.main"),
                *("job", job_id, "--supervise", "--store", str(store.path)),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # outlives this command; Ctrl-C here does not reach it
        )
    update_job(store, job_id, owner_pid=supervisor.pid)
    return log


def supervise(store: ResultStore, job_id: str, echo: Callable[[str], None] = print) -> Job:
    """Run a triggered job on the daemon and finish it (the detached supervisor)."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a stop is a Ctrl-C
    instance = get_instance()
    claim_job(store, job_id)
    ranges = job_ranges(store, job_id)
    job = run_job(store, instance, job_id, ranges, DaemonLauncher(), echo)
    if job.status == JobStatus.COMPLETED:
        materialize_here(instance, store, ANALYTICS)
    return job
