"""`trigger`, `job`, `jobs`, `health`: the legacy job API, on Dagster and the store.

`trigger` records a job and returns its id at once; a detached supervisor process
(`job JOB --supervise`) launches the job's Dagster asset backfill through GraphQL (the
UI's path), makes sure a daemon runs it, watches the daemon, and finishes the job in
the store. Why the backfill and not our own run queue: the daemon's backfill is what the
UI shows and cancels, and Dagster keeps its state if the supervisor dies (a later
`job`/`jobs`/`trigger` then finds the job interrupted and cancels the backfill).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from trading_assets.cli.backfill import ANALYTICS, execute_job, materialize_here, prepare
from trading_assets.cli.instance import daemon_alive, ensure_home, get_instance
from trading_assets.cli.jobs import (
    claim_job,
    interrupt,
    job_ranges,
    new_job_id,
    plan_job,
    refresh_jobs,
)
from trading_assets.cli.output import render
from trading_assets.config import ModelSpec
from trading_assets.errors import ConfigError, TradingAssetsError
from trading_assets.store.jobs import (
    Job,
    create_job,
    failed_days,
    get_job,
    job_counts,
    job_llm_usage,
    list_jobs,
    probe_store,
    update_job,
)
from trading_assets.store.results import ResultStore
from trading_assets.vocab import ACTIVE_JOB_STATUSES, JobStatus

FAILED_SHOWN = 20  # failed model-days listed in the table form (json lists all)


def load_specs(config: str, models: str | None) -> list[ModelSpec]:
    """The config's enabled models ('demo': the bundled one), or those `models` names."""
    from importlib import resources

    from trading_assets.config import load_config, model_specs

    path = (
        resources.files("trading_assets") / "configs" / "demo.yaml"
        if config == "demo"
        else Path(config)
    )
    specs = model_specs(load_config(path))
    if not specs:
        raise ConfigError(
            "no enabled model (every model has enabled: false)",
            where=str(path),
            fix="set enabled: true on a model, or drop the enabled key (it defaults to true)",
        )
    if not models:
        return specs
    wanted = [m.strip() for m in models.split(",") if m.strip()]
    if not wanted:
        raise TradingAssetsError(
            f"--models {models!r} names no model", fix="list signatures, comma-separated"
        )
    unknown = sorted(set(wanted) - {s.signature for s in specs})
    if unknown:
        raise TradingAssetsError(
            f"--models names {', '.join(unknown)}, not in {path}",
            fix=f"use some of: {', '.join(s.signature for s in specs)}",
        )
    return [s for s in specs if s.signature in wanted]


def trigger(store: ResultStore, specs: Sequence[ModelSpec], start, end, fmt: str) -> int:
    instance, specs, _ = prepare(store, specs, start, end, daemon=True, workers=None)
    refresh_jobs(store, instance)
    plan = plan_job(store, specs, start, end)
    if not plan.days:
        _say(
            fmt,
            {"job_id": None, "status": "completed", "total_model_days": 0},
            f"nothing to run: all {plan.stored} model-days of the range are stored",
        )
        return 0
    job_id = new_job_id()
    create_job(store, job_id, "trigger", plan.days, start, end)
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
    _say(
        fmt,
        {
            "job_id": job_id,
            "status": "pending",
            "total_model_days": len(plan.days),
            "already_stored": plan.stored,
            "log": str(log),
        },
        f"job {job_id} pending: {len(plan.days)} model-days over {len(plan.ranges)} models "
        f"({plan.stored} already stored)\nfollow it: trading-assets job {job_id} --wait",
    )
    return 0


def supervise(store: ResultStore, job_id: str) -> int:
    """Run a triggered job on the daemon and finish it (the detached supervisor)."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # a stop is a Ctrl-C
    instance = get_instance()
    claim_job(store, job_id)
    job = execute_job(
        store,
        instance,
        job_id,
        job_ranges(store, job_id),
        daemon=True,
        workers=None,
        echo=lambda line: print(line, flush=True),
    )
    if job.status == JobStatus.COMPLETED:
        materialize_here(instance, store, ANALYTICS)
    print(f"job {job_id} {job.status}: {job.error or 'every model-day completed'}", flush=True)
    return 0 if job.status == JobStatus.COMPLETED else 1


def show_job(store: ResultStore, job_id: str, fmt: str, wait: bool, cancel: bool) -> int:
    instance = get_instance()
    refresh_jobs(store, instance)
    job = get_job(store, job_id)
    if cancel and job.status in ACTIVE_JOB_STATUSES:
        job = _cancel(store, instance, job)
    while wait and job.status in ACTIVE_JOB_STATUSES:
        time.sleep(1.0)
        refresh_jobs(store, instance)
        job = get_job(store, job_id)
    report = job_report(store, job)
    if fmt == "json":
        print(json.dumps(report, indent=2, default=str))
    else:
        _print_report(report)
    return 0 if job.status in (JobStatus.COMPLETED, *ACTIVE_JOB_STATUSES) else 1


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


def job_report(store: ResultStore, job: Job) -> dict:
    counts = job_counts(store, job.job_id)
    failed = failed_days(store, job.job_id)
    duration = (
        (job.completed_at - job.started_at).total_seconds()
        if job.completed_at and job.started_at
        else None
    )
    return {
        "job_id": job.job_id,
        "kind": job.kind,
        "status": job.status,
        "progress": {"total_model_days": job.total_model_days, **counts},
        "models": job.models,
        "date_range": [job.start_date, job.end_date],
        "dagster_backfill_id": job.dagster_backfill_id,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "completed_at": job.completed_at,
        "total_duration_seconds": duration,
        "error": job.error,
        "llm": job_llm_usage(store, job.job_id),  # tokens and cost; null: no LLM trader
        "failed": [
            {"model": r.model, "date": r.date.date(), "error": r.error, "run_id": r.run_id}
            for r in failed.itertuples()
        ],
    }


def _print_report(report: dict) -> None:
    p = report["progress"]
    print(
        f"job {report['job_id']} ({report['kind']}): {report['status']}\n"
        f"  model-days: {p['total_model_days']} total, {p['completed']} completed, "
        f"{p['failed']} failed, {p['pending']} pending"
    )
    if report["error"]:
        print(f"  {report['error']}")
    llm = report["llm"]
    if llm:
        cost = "" if llm["llm_cost_usd"] is None else f", cost ${llm['llm_cost_usd']:,.4f}"
        print(
            f"  LLM: {llm['llm_answers']} answers, {llm['llm_requests']} requests sent, "
            f"{llm['llm_cache_hits']} from the cache; tokens {llm['total_tokens']:,} "
            f"({llm['prompt_tokens']:,} prompt, {llm['completion_tokens']:,} completion)"
            f"{cost}"
        )
    for row in report["failed"][:FAILED_SHOWN]:
        print(f"  FAILED {row['model']} {row['date']}: {row['error']}")
    if len(report["failed"]) > FAILED_SHOWN:
        print(f"  ... {len(report['failed']) - FAILED_SHOWN} more (--format json lists all)")


def show_jobs(store: ResultStore, fmt: str) -> int:
    refresh_jobs(store, get_instance())
    print(render(list_jobs(store), fmt))
    return 0


def health(store: ResultStore, fmt: str) -> int:
    instance = get_instance()
    beats = instance.get_daemon_heartbeats()
    now = time.time()
    report = {
        "instance": {"dagster_home": os.environ["DAGSTER_HOME"], "reachable": True},
        "daemon": {
            "running": daemon_alive(instance, max_age_s=75.0),
            "heartbeat_age_s": {k: round(now - b.timestamp, 1) for k, b in beats.items()},
        },
        "store": probe_store(store),
    }
    ok = report["store"]["reachable"] and report["store"]["writable"]
    report["status"] = "healthy" if ok else "unhealthy"
    if fmt == "json":
        print(json.dumps(report, indent=2, default=str))
    else:
        d, s = report["daemon"], report["store"]
        print(f"{report['status']}\n  instance: {report['instance']['dagster_home']}")
        print(f"  daemon: {'heartbeating' if d['running'] else 'not running (started on demand)'}")
        print(
            f"  store: {s['path']} reachable={s['reachable']} writable={s['writable']}"
            + (f" ({s['error']})" if s["error"] else "")
        )
    return 0 if ok else 1


def _say(fmt: str, record: dict, text: str) -> None:
    print(json.dumps(record, default=str) if fmt == "json" else text)
