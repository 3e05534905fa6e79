"""One Dagster run per model, each over its date range, launched without the daemon.

Each run is what a single-run backfill would launch (the range tags of
`BackfillPolicy.single_run()`), executed in this process or in N worker processes: a
real run on the instance, visible in the UI, in which every model-day is a materialized
partition. It skips the daemon's fixed costs (GraphQL launch subprocess, daemon start,
run-worker start, the tick that marks a backfill done): see bench/README.md.

Workers come from a forkserver that imported the code location once: each worker is a
fresh fork of that clean process (no threads or open connections inherited from the
CLI), and opens its own instance.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.forkserver
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

import dagster as dg

from trading_assets.defs.partitions import range_tags
from trading_assets.instance import hold_connections
from trading_assets.jobs.quiet import quiet_warnings

quiet_warnings()  # workers do not run main(); the forkserver imports this module first
CODE_MODULE = "trading_assets.defs.definitions"
MODEL_DAY = dg.AssetKey("model_day")
BACKFILL_TAG = "trading_assets/backfill"  # groups one command's runs (filter in the UI)
JOB_TAG = "trading_assets/job"  # on every Dagster run (and backfill) of a job
# the run's events (with stack traces) are in the instance and the UI; on the terminal
# the command says each run's outcome and each failed model-day's reason in one line
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}


@dataclass(frozen=True)
class RangeRun:
    """One model's chain of date partitions, first and last inclusive."""

    model: str
    first: str  # date partition keys (YYYY-MM-DD)
    last: str


@dataclass(frozen=True)
class RunOutcome:
    model: str
    run_id: str
    success: bool
    worker_error: str | None = None  # the worker process itself died (killed, crashed)
    interrupted: bool = False  # Dagster turned a Ctrl-C into the run's failure


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def run_ranges(
    ranges: Sequence[RangeRun],
    store_path: str,
    backfill_id: str,
    workers: int,
    echo: Callable[[str], None] = print,
    on_done: Callable[[RunOutcome], None] = lambda outcome: None,
    instance: dg.DagsterInstance | None = None,
) -> list[RunOutcome]:
    """Run every range; return when every run has ended (in completion order).

    backfill_id is the job id (both tags: the UI filters on either). A dead worker breaks
    the pool: every run not ended then is returned with its worker_error at once.
    instance: the one in-process runs record in (default: DAGSTER_HOME's); a worker
    process opens its own."""
    outcomes: list[RunOutcome] = []

    def done(outcome: RunOutcome) -> None:
        outcomes.append(outcome)
        on_done(outcome)
        state = "success" if outcome.success else "FAILED"
        echo(f"  run {outcome.run_id[:8]} {outcome.model}: {state} ({len(outcomes)}/{len(ranges)})")

    workers = max(1, min(workers, len(ranges)))
    if workers == 1:
        for r in ranges:
            outcome = materialize_range(r, store_path, backfill_id, instance)
            done(outcome)
            if outcome.interrupted:  # Ctrl-C of this process, taken in by the run
                raise KeyboardInterrupt
        return outcomes
    # each worker leads a process group of its own: a terminal's Ctrl-C reaches only this
    # command, which then kills the workers (stop_workers), and not every process they
    # started (Dagster's compute-log watchers would each print a KeyboardInterrupt trace)
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=_forkserver(), initializer=os.setpgrp
    )
    futures = {pool.submit(materialize_range, r, store_path, backfill_id): r for r in ranges}
    try:
        for future in as_completed(futures):
            try:
                done(future.result())
            except Exception as exc:  # the worker itself failed (not the run): say which
                why = f"{type(exc).__name__}: {exc}"
                echo(f"  {futures[future].model}: worker failed: {why}")
                done(RunOutcome(futures[future].model, "--------", False, why))
    except BaseException:  # Ctrl-C: stop the runs now, do not wait for them to end
        stop_workers()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    if any(o.worker_error for o in outcomes):  # a broken pool: do not wait for its
        stop_workers()  # terminated workers to wind down; the runs are reported failed
        pool.shutdown(wait=False, cancel_futures=True)
    else:
        pool.shutdown()
    return outcomes


def start_workers(workers: int) -> None:
    """Start the forkserver now, so its imports overlap the command's own work."""
    if workers > 1:
        _forkserver()
        multiprocessing.forkserver.ensure_running()


def stop_workers() -> None:
    """Kill this process's worker processes (and the forkserver): after a Ctrl-C no run
    of ours goes on writing unseen."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            if _RESOURCE_TRACKER not in " ".join(child.cmdline()):
                child.kill()


# multiprocessing's resource tracker (a child of this process) is no worker: killed, it
# is relaunched empty and prints a KeyError traceback for each semaphore released later
_RESOURCE_TRACKER = "multiprocessing.resource_tracker"


def _forkserver() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__, CODE_MODULE])
    return context


def materialize_range(
    r: RangeRun, store_path: str, backfill_id: str, instance: dg.DagsterInstance | None = None
) -> RunOutcome:
    """One in-process run of model_day over r's range (on DAGSTER_HOME's instance)."""
    from trading_assets.defs.definitions import defs
    from trading_assets.defs.resources.store import StoreResource

    result = dg.materialize(
        [defs.get_assets_def(MODEL_DAY)],
        instance=instance or _instance(),
        resources={**defs.resources, "store": StoreResource(path=store_path)},
        tags={
            **range_tags(r.model, r.first, r.last),
            BACKFILL_TAG: backfill_id,
            JOB_TAG: backfill_id,
            "trading_assets/cli": "backfill",
        },
        run_config=QUIET,
        raise_on_error=False,
    )
    return RunOutcome(r.model, result.run_id, result.success, interrupted=was_interrupted(result))


def was_interrupted(result: dg.ExecuteInProcessResult) -> bool:
    """Dagster turned a Ctrl-C of this process into the run's failure."""
    return any(
        event.is_step_failure
        and event.step_failure_data.error is not None
        and event.step_failure_data.error.cls_name == "DagsterExecutionInterruptedError"
        for event in result.all_events
    )


_INSTANCE: list[dg.DagsterInstance] = []


def _instance() -> dg.DagsterInstance:
    """This process's instance (one per worker, reused across its runs)."""
    if not _INSTANCE:
        _INSTANCE.append(hold_connections(dg.DagsterInstance.get()))
    return _INSTANCE[0]
