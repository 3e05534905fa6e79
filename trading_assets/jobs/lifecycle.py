"""A job's life around its Dagster runs: plan, finish, interrupt, find the orphaned.

- plan: each model's trading days in the range that are not stored yet (or failed),
  from the first such day to the model's last day (the later days rest on its state);
  a re-trigger after any interruption therefore runs exactly the missing days;
- finish (called once Dagster says the job's runs or backfill ended: launch.watch,
  so the job row mirrors Dagster): every model-day takes its outcome from the store
  (a failed day's reason is a row the engine writes); the days a run never
  reached fail with that run's reason, read from Dagster's event log (never only in
  daemon.log); the job ends completed, partial, failed or interrupted;
- refresh: an active job whose owning process is gone (a killed CLI or supervisor) is
  interrupted, its Dagster backfill cancelled and its orphaned run workers stopped,
  so nothing runs unseen.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import dagster as dg
import psutil

from trading_assets.config import ModelSpec
from trading_assets.dagster_patches.backfills import cancel_backfill
from trading_assets.defs.partitions import RANGE_START
from trading_assets.errors import TradingAssetsError
from trading_assets.jobs.ranges import JOB_TAG, RangeRun
from trading_assets.market.calendar import trading_days
from trading_assets.store.jobs import (
    Job,
    ModelDay,
    active_jobs,
    fail_pending_days,
    failed_days,
    final_status,
    get_job,
    job_counts,
    job_model_ranges,
    sync_job_days,
    unfinished_days,
    update_job,
)
from trading_assets.store.results import ResultStore, check_chain, model_dates
from trading_assets.vocab import SYSTEM_CLOCK, DayStatus, JobStatus, ReasonCode

ACTIVE_RUN = {
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
}


@dataclass(frozen=True)
class Plan:
    ranges: list[RangeRun]
    days: list[ModelDay]  # the job's model-days: trading days of the ranges
    stored: int  # model-days of the range already stored (not run again)


def new_job_id() -> str:
    return uuid.uuid4().hex[:12]


def plan_job(
    store: ResultStore,
    specs: Sequence[ModelSpec],
    start: dt.date | None,
    end: dt.date | None,
    rerun: bool = False,
) -> Plan:
    """rerun: every model-day of the range, stored or not (a legacy replay, --rerun)."""
    ranges, days, stored = [], [], 0
    for spec in specs:
        priced = model_dates(store, spec.signature, start, end)
        if not priced:
            continue
        # every session between the first and last priced day: a session missing from
        # the prices fails loudly on its day instead of being skipped
        sessions = trading_days(priced[0], priced[-1])
        wanted = [(spec.signature, d) for d in sessions]
        missing = wanted if rerun else unfinished_days(store, wanted)
        stored += len(wanted) - len(missing)
        if missing:
            first = missing[0][1]
            check_chain(store, spec.signature, first)  # a gap: refused before any run
            todo = [md for md in wanted if md[1] >= first]
            days += todo
            ranges.append(RangeRun(spec.signature, first.isoformat(), priced[-1].isoformat()))
    if not ranges and not stored:
        raise TradingAssetsError(
            f"no trading day with market data between {start or 'the first day'} and "
            f"{end or 'the last day'}",
            fix="widen --start/--end to days the market data covers",
        )
    return Plan(ranges, days, stored)


def job_ranges(store: ResultStore, job_id: str) -> list[RangeRun]:
    """The job's ranges back from its model-days (for the supervisor of a trigger)."""
    return [
        RangeRun(m, f.isoformat(), t.isoformat()) for m, f, t in job_model_ranges(store, job_id)
    ]


def run_reasons(instance: dg.DagsterInstance, job_id: str) -> dict[str, str]:
    """model -> why its run failed (Dagster's step or run failure message)."""
    reasons: dict[str, str] = {}
    for record in instance.get_run_records(dg.RunsFilter(tags={JOB_TAG: job_id})):
        run = record.dagster_run
        if run.status in (dg.DagsterRunStatus.SUCCESS, *ACTIVE_RUN):
            continue
        model = run.tags.get(RANGE_START, "|").split("|")[-1]
        text = _failure_text(instance, run.run_id) or f"run {run.status.value.lower()}"
        if model:
            reasons[model] = f"run {run.run_id[:8]}: {text}"
        else:  # a run over several models (the daemon's): give it to each of them
            for part in run.tags.get("dagster/partition", "").split("|")[1:]:
                reasons[part] = f"run {run.run_id[:8]}: {text}"
    return reasons


def _failure_text(instance: dg.DagsterInstance, run_id: str) -> str | None:
    for kind in (dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.RUN_FAILURE):
        for entry in instance.all_logs(run_id, of_type=kind):
            event = entry.dagster_event
            data = event.step_failure_data if kind == dg.DagsterEventType.STEP_FAILURE else None
            if data is not None and data.user_failure_data is not None:
                return data.user_failure_data.description
            if data is not None and data.error is not None:
                return data.error.message.strip().splitlines()[-1]
            if event.message:
                return event.message
    return None


def fail_active_runs(instance: dg.DagsterInstance, job_id: str, why: str) -> int:
    """Stop the job's runs that are still active: kill their worker processes on this
    host and record them failed with `why`, so no orphan writes later."""
    runs = instance.get_runs(dg.RunsFilter(tags={JOB_TAG: job_id}, statuses=list(ACTIVE_RUN)))
    for run in runs:
        _kill_run_workers(instance, run.run_id)
        instance.report_run_failed(run, why)
    return len(runs)


def _kill_run_workers(instance: dg.DagsterInstance, run_id: str) -> None:
    """Kill a run's worker processes (and their step processes) on this host: Dagster
    records each one's pid in an engine event ("Started process for run (pid: N)")."""
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT):
        data = entry.dagster_event.engine_event_data
        pid = data.metadata.get("pid") if data is not None else None
        if pid is None or int(pid.value) == os.getpid():
            continue
        try:
            worker = psutil.Process(int(pid.value))
            for proc in [*worker.children(recursive=True), worker]:
                proc.kill()
        except psutil.Error:  # already gone
            pass


def finish_job(
    store: ResultStore,
    instance: dg.DagsterInstance,
    job_id: str,
    interrupted: str | None = None,
    not_run: str = "not run: the job's runs ended without reaching this day",
    reasons: dict[str, str] | None = None,
) -> Job:
    """Give every model-day its outcome and the job its final status.

    interrupted: why the job stopped early (the days left are failed with it);
    not_run: the reason of a day no run reached, when its model's run says none;
    reasons: model -> a known cause, over what Dagster recorded for its run."""
    sync_job_days(store, job_id)
    reasons = run_reasons(instance, job_id) | (reasons or {})
    if interrupted is None:  # a model that reached its budget stops the job cleanly
        budget = str(ReasonCode.BUDGET_EXCEEDED)
        interrupted = next((r for r in reasons.values() if budget in r), None)
    default = f"not run: {interrupted}" if interrupted else not_run
    fail_pending_days(store, job_id, reasons, default)
    counts = job_counts(store, job_id)
    done, failed = counts[DayStatus.COMPLETED], counts[DayStatus.FAILED]
    status = final_status(done, failed, interrupted is not None)
    error = None
    failed_runs = [
        r.dagster_run
        for r in instance.get_run_records(dg.RunsFilter(tags={JOB_TAG: job_id}))
        if r.dagster_run.status not in (dg.DagsterRunStatus.SUCCESS, *ACTIVE_RUN)
    ]
    if status == JobStatus.COMPLETED and failed_runs:
        # every model-day is stored, but Dagster recorded a run FAILED (a signal, a crash
        # after the writes): the job is never greener than its runs
        status = JobStatus.PARTIAL
        run = failed_runs[0]
        why = _failure_text(instance, run.run_id) or run.status.value.lower()
        error = (
            f"{len(failed_runs)} Dagster run(s) {run.status.value} though every model-day is "
            f"stored, first run {run.run_id[:8]}: {why}. Check the run in the UI"
        )
    elif interrupted:
        error = (
            f"interrupted: {interrupted}; {done} model-days completed, {failed} not; "
            "re-run the same command to run exactly those"
        )
    elif failed:
        first = failed_days(store, job_id).iloc[0]
        error = (
            f"{failed} model-days failed, first {first.model} on {first.date.date()}: "
            f"{first.error}. Re-run the same command to run exactly those (after a fix)"
        )
    update_job(store, job_id, status=str(status), completed_at=SYSTEM_CLOCK.now(), error=error)
    return get_job(store, job_id)


def start_job(store: ResultStore, job_id: str, backfill_id: str | None = None) -> None:
    fields = {"status": str(JobStatus.RUNNING), "started_at": SYSTEM_CLOCK.now()}
    if backfill_id:
        fields["dagster_backfill_id"] = backfill_id
    update_job(store, job_id, **fields)


def claim_job(store: ResultStore, job_id: str) -> None:
    """This process now owns the job (a trigger's supervisor takes it over)."""
    update_job(store, job_id, owner_pid=os.getpid())


def refresh_jobs(store: ResultStore, instance: dg.DagsterInstance) -> list[str]:
    """Interrupt active jobs whose owning process on this host is gone; return their ids."""
    ended = []
    for job in active_jobs(store):
        if job.owner_host != socket.gethostname() or _alive(job.owner_pid):
            continue
        why = f"its process {job.owner_pid} ended before the job did (killed?)"
        interrupt(store, instance, job, why)
        ended.append(job.job_id)
    return ended


def interrupt(store: ResultStore, instance: dg.DagsterInstance, job: Job, why: str) -> Job:
    """Cancel the job's backfill, stop its runs, and finish it as interrupted."""
    cancel_backfill(instance, job.dagster_backfill_id)
    fail_active_runs(instance, job.job_id, f"job {job.job_id} interrupted: {why}")
    return finish_job(store, instance, job.job_id, interrupted=why)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
