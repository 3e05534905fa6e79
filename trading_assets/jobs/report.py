"""What the job commands and the tables show, as data (cli/ prints it): a job's report,
the instance's health, and the columns a table form of the leaderboard and metrics
keeps (JSON and CSV carry every column)."""

from __future__ import annotations

import os
import time

import pandas as pd

from trading_assets.store.jobs import Job, failed_days, job_counts, job_llm_usage, probe_store
from trading_assets.store.metrics import param_columns
from trading_assets.store.results import ResultStore


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


def trigger_record(sub, log) -> dict:
    """What `trigger` answers (a jobs/submit.py Submission, its supervisor's log)."""
    if sub.job_id is None:
        return {"job_id": None, "status": "completed", "total_model_days": 0}
    return {
        "job_id": sub.job_id,
        "status": "pending",
        "total_model_days": len(sub.plan.days),
        "already_stored": sub.plan.stored,
        "log": str(log),
    }


def eta_seconds(done: int, total: int, elapsed: float) -> float | None:
    """Seconds left at the mean pace so far; None before the first unit is done."""
    if done <= 0 or elapsed <= 0:
        return None
    return max(total - done, 0) * elapsed / done


def health_report(store: ResultStore) -> dict:
    """The instance, the daemon's heartbeats and the store (reachable, writable)."""
    from trading_assets.jobs.instance import daemon_alive, get_instance  # Dagster: lazily

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
    return report


# The leaderboard's table shows these and the parameters; JSON and CSV carry every column.
LEADERBOARD_TABLE = [
    "model", "beats_benchmark", "final_value", "total_return", "annualized_return",
    "max_drawdown", "sharpe", "benchmark_return", "excess_return", "information_ratio",
    "trading_days", "config_hash",
]  # fmt: skip
# The metrics table: the headline figures (an annualized return of a run under a year
# reads (<1y)) and the parameters.
METRICS_TABLE = [
    "model", "cumulative_return", "benchmark_return", "excess_return", "annual_return",
    "annual_volatility", "sharpe", "sortino", "max_drawdown", "calmar", "risk_free_rate", "days",
]  # fmt: skip
# Shown in the tables when some model has them: an LLM trader's tokens and cost, and a
# model's figures after its knowledge cutoff (the days it cannot remember).
LLM_TABLE = [
    "total_tokens", "llm_cost_usd", "days_after_cutoff", "cumulative_return_after_cutoff",
    "sharpe_after_cutoff",
]  # fmt: skip


def table_columns(frame: pd.DataFrame, fmt: str, headline: list[str]) -> pd.DataFrame:
    """The frame as `fmt` shows it: a table keeps the headline columns, the LLM columns
    some model has and the parameters; JSON and CSV keep every column."""
    if fmt != "table":
        return frame
    llm = [c for c in LLM_TABLE if c in frame.columns and frame[c].notna().any()]
    return frame[[*headline, *llm, *param_columns(frame)]]
