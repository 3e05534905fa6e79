"""`trading-assets backfill`: register models, load prices, run model_day over the
model-days not stored yet as one recorded job (cli/jobs.py), then the analytics;
blocking, with progress. `trigger` runs the same job on the daemon (cli/job_commands.py).

Two ways to run the model-days, both real Dagster runs (one per model, every model-day a
materialized partition, visible in the UI):
- default: range runs launched by this command, in-process or in N worker processes
  (cli/range_runs.py); done when every run has ended and every partition is materialized;
- `--daemon`: a Dagster asset backfill launched through the GraphQL
  `launchPartitionBackfill` mutation, as the UI does, run by the daemon (started for the
  command if none runs; cli/daemon_backfill.py).
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from collections.abc import Sequence

import dagster as dg

from trading_assets.cli.daemon_backfill import daemon_env, launch_backfill, wait_backfill
from trading_assets.cli.instance import ensure_home, get_instance, running_daemon
from trading_assets.cli.jobs import (
    JOB_TAG,
    fail_active_runs,
    finish_job,
    interrupt,
    new_job_id,
    plan_job,
    refresh_jobs,
    start_job,
)
from trading_assets.cli.progress import Mode, Progress
from trading_assets.cli.range_runs import (
    RangeRun,
    RunOutcome,
    default_workers,
    run_ranges,
    start_workers,
    stop_workers,
)
from trading_assets.config import ModelSpec
from trading_assets.defs.assets.analytics import daily_portfolio, leaderboard, metrics
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.partitions import MODELS_PARTITION
from trading_assets.errors import TradingAssetsError
from trading_assets.runs.registration import register_validated
from trading_assets.store.jobs import (
    Job,
    create_job,
    days_per_model,
    get_job,
    job_counts,
)
from trading_assets.store.results import ResultStore
from trading_assets.vocab import DayStatus, JobStatus

ANALYTICS = [daily_portfolio, metrics, leaderboard]  # rebuilt after a completed job


def materialize_here(
    instance: dg.DagsterInstance,
    store: ResultStore,
    assets: list,
    partition_key: str | None = None,
) -> None:
    """Materialize cheap unpartitioned assets in this process; the run is recorded in the
    instance like any other (visible in the UI)."""
    from trading_assets.defs.definitions import resources
    from trading_assets.defs.resources.store import StoreResource

    result = dg.materialize(
        assets,
        instance=instance,
        resources={**resources(), "store": StoreResource(path=str(store.path))},
        partition_key=partition_key,
        tags={"trading_assets/cli": "backfill"},
        # the run's events are in the instance (and the UI); keep the terminal readable
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    if not result.success:
        names = ", ".join(a.key.to_user_string() for a in assets)
        raise TradingAssetsError(f"{names} failed", fix="see the run's logs in the UI")


def run_backfill(
    store: ResultStore,
    specs: Sequence[ModelSpec],
    start: dt.date | None,
    end: dt.date | None,
    echo=print,
    poll_s: float = 2.0,
    daemon: bool = False,
    workers: int | None = None,
    rerun: bool = False,
    progress: Mode = "quiet",
) -> dict:
    """Backfill `specs` over [start, end] as one job; return the job, its status, timings.

    Only the model-days not stored yet (or failed) run, unless `rerun`."""
    t0, started_at = time.monotonic(), time.time()
    instance, specs, rejected = prepare(store, specs, start, end, daemon, workers)
    refresh_jobs(store, instance)  # a killed command's job must not block this one
    plan = plan_job(store, specs, start, end, rerun=rerun)
    job_id = new_job_id()
    if plan.days:
        create_job(store, job_id, "backfill", plan.days, start, end)
        job = execute_job(
            store, instance, job_id, plan.ranges, daemon, workers, echo, poll_s, progress
        )
    else:
        job = None
    if job is None or job.status == JobStatus.COMPLETED:
        materialize_here(instance, store, ANALYTICS)
    return {
        "job_id": job.job_id if job else None,
        "rejected": rejected,  # model -> why it was not registered (and did not run)
        "backfill_id": job.job_id if job else None,
        "status": str(job.status) if job else str(JobStatus.COMPLETED),
        "model_days": len(plan.days),  # trading days x models run by this job
        "already_stored": plan.stored,
        "error": job.error if job else None,
        "seconds": time.monotonic() - t0,
        "runs_done_after_seconds": _last_run_end(instance, {JOB_TAG: job_id}, started_at),
    }


def prepare(
    store: ResultStore,
    specs: Sequence[ModelSpec],
    start: dt.date | None,
    end: dt.date | None,
    daemon: bool,
    workers: int | None,
) -> tuple[dg.DagsterInstance, list[ModelSpec], dict[str, str]]:
    """Register the models whose config and market data validate (the others are named
    on stderr, with why, and left out), materialize market_prices, add the models'
    partitions. Returns the instance, the registered specs and the rejected ones."""
    instance = get_instance()
    registration = register_validated(store, specs, start, end)
    for line in registration.lines():
        alert(line)
    specs = registration.registered
    if not specs:
        raise TradingAssetsError(
            "no model to run: " + "; ".join(registration.lines()),
            fix="fix the config or the market data named above, or enable the model",
        )
    materialize_here(instance, store, [market_prices])
    if not daemon:  # after ensure_home: the workers inherit DAGSTER_HOME and the settings;
        # after market_prices: their definitions see the date span it just recorded
        ensure_home()
        start_workers(max(1, min(workers or default_workers(), len(specs))))
    existing = set(instance.get_dynamic_partitions(MODELS_PARTITION))
    instance.add_dynamic_partitions(
        MODELS_PARTITION, [s.signature for s in specs if s.signature not in existing]
    )
    return instance, specs, dict(registration.rejected)


def execute_job(
    store: ResultStore,
    instance: dg.DagsterInstance,
    job_id: str,
    ranges: Sequence[RangeRun],
    daemon: bool,
    workers: int | None,
    echo=print,
    poll_s: float = 2.0,
    progress: Mode = "quiet",
) -> Job:
    """Run a recorded job and wait for it; Ctrl-C cancels its runs and says so."""
    total = int(job_counts(store, job_id)[DayStatus.PENDING])
    try:
        with Progress(total, mode=progress) as bar:
            if daemon:
                return _run_on_daemon(store, instance, job_id, ranges, total, echo, poll_s, bar)
            return _run_here(store, instance, job_id, ranges, total, workers, echo, bar)
    except KeyboardInterrupt:
        stop_workers()
        job = interrupt(store, instance, get_job(store, job_id), "Ctrl-C (SIGINT) of the command")
        alert(
            f"job {job_id} interrupted by Ctrl-C: its backfill and runs are cancelled; {job.error}"
        )
        raise


def _run_here(store, instance, job_id, ranges, total, workers, echo, bar) -> Job:
    n = max(1, min(workers or default_workers(), len(ranges)))
    start_job(store, job_id)
    echo(
        f"job {job_id}: {total} model-days over {len(ranges)} models, "
        f"one run per model in {'this process' if n == 1 else f'{n} worker processes'}"
    )
    per_model = days_per_model(store, job_id)
    done_days = [0]

    def on_done(outcome: RunOutcome) -> None:
        done_days[0] += per_model.get(outcome.model, 0) if outcome.success else 0
        bar.update(done_days[0], status="running")

    outcomes = run_ranges(ranges, str(store.path), job_id, n, echo, on_done=on_done)
    dead = [o for o in outcomes if o.worker_error]
    if dead:
        why = f"a run worker died (killed?): {dead[0].worker_error}"
        fail_active_runs(instance, job_id, why)
        alert(
            f"{why}: the runs in flight stopped; their model-days are not stored. "
            "Re-run the same command to run exactly the missing model-days."
        )
        # Dagster saw these runs interrupted; the cause is the dead worker
        lost = {o.model: f"not stored: {why}" for o in dead}
        return finish_job(store, instance, job_id, not_run=f"not run: {why}", reasons=lost)
    return finish_job(store, instance, job_id)


def _run_on_daemon(store, instance, job_id, ranges, total, echo, poll_s, bar) -> Job:
    backfill_id = launch_backfill(store, ranges, total, job_id)
    start_job(store, job_id, backfill_id)
    with running_daemon(instance, daemon_env(store)) as alive:
        echo(
            f"job {job_id}: Dagster backfill {backfill_id}, {total} model-days over "
            f"{len(ranges)} models"
        )
        died = wait_backfill(instance, store, job_id, backfill_id, total, echo, poll_s, bar, alive)
    if died:
        why = "the Dagster daemon died (killed?) before the backfill ended"
        job = interrupt(store, instance, get_job(store, job_id), why)
        alert(
            f"{why}: backfill {backfill_id} cancelled, its runs stopped. {job.error}; "
            "a daemon is started for the command when none runs."
        )
        return job
    return finish_job(store, instance, job_id)


def alert(text: str) -> None:
    """A fault the user must see, even with --quiet or --format json (on stderr)."""
    print(text, file=sys.stderr, flush=True)


def _last_run_end(
    instance: dg.DagsterInstance, tags: dict[str, str], started_at: float
) -> float | None:
    """Seconds from the command's start until the backfill's last run ended: every
    partition is then materialized in Dagster (the daemon marks the backfill itself done
    on its next tick, up to 30 s later)."""
    records = instance.get_run_records(dg.RunsFilter(tags=tags))
    ends = [r.end_time for r in records if r.end_time]
    return max(ends) - started_at if ends else None
