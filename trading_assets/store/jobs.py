"""Jobs: what a user asked to run (models x dates) and how each model-day ended.

A job holds only the model-days that were not yet stored when it was created, so a
re-trigger after any interruption runs exactly the missing or failed days. A model-day
of a job is completed or failed once `model_days` has a row for it written after the
job was created (the engine writes failed days too, with their error); the days a run
never reached are failed with the run's reason when the job ends.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from trading_assets.errors import StoreError, TradingAssetsError
from trading_assets.store.results import ResultStore, counted_day
from trading_assets.vocab import (
    ACTIVE_JOB_STATUSES,
    CONTRACT_VERSION,
    SYSTEM_CLOCK,
    Clock,
    DayStatus,
    JobStatus,
)

ModelDay = tuple[str, dt.date]
_ACTIVE = [str(s) for s in ACTIVE_JOB_STATUSES]


class JobConflictError(TradingAssetsError):
    """A job would run model-days another pending or running job holds."""


@dataclass(frozen=True)
class Job:
    job_id: str
    kind: str  # "trigger" (the daemon runs it) or "backfill" (the command runs it)
    status: str
    models: list[str]
    start_date: dt.date | None
    end_date: dt.date | None
    total_model_days: int
    dagster_backfill_id: str | None
    owner_pid: int | None
    owner_host: str | None
    created_at: dt.datetime
    started_at: dt.datetime | None
    completed_at: dt.datetime | None
    error: str | None


def unfinished_days(store: ResultStore, days: Sequence[ModelDay]) -> list[ModelDay]:
    """The model-days in `days` without a completed (or degraded) stored result."""
    with store.connect() as con:
        done = set(
            con.execute(f"SELECT model, date FROM model_days WHERE {counted_day()}").fetchall()
        )
    return [d for d in days if d not in done]


def create_job(
    store: ResultStore,
    job_id: str,
    kind: str,
    days: Sequence[ModelDay],
    start: dt.date | None,
    end: dt.date | None,
    clock: Clock = SYSTEM_CLOCK,
) -> None:
    """Record a pending job of `days`; refuse it if an active job holds one of them."""
    models = sorted({m for m, _ in days})
    with store.connect() as con:  # one connection under the store lock: check, then insert
        active = con.execute(
            "SELECT job_id, status FROM jobs WHERE status IN (SELECT unnest(?))", [_ACTIVE]
        ).fetchall()
        wanted = set(days)
        for other, status in active:
            held = con.execute(
                "SELECT model, date FROM job_model_days WHERE job_id = ?", [other]
            ).fetchall()
            overlap = sorted(wanted.intersection(held))
            if overlap:
                model, date = overlap[0]
                raise JobConflictError(
                    f"job {other} ({status}) already runs {len(overlap)} of these model-days, "
                    f"e.g. {model} on {date}",
                    fix=f"wait for it (`trading-assets job {other}`), or cancel it with "
                    f"`trading-assets job {other} --cancel`",
                )
        con.execute(
            "INSERT INTO jobs VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, NULL, NULL, ?)",
            [
                job_id, kind, str(JobStatus.PENDING), models, start, end, len(days),
                os.getpid(), socket.gethostname(), clock.now(), CONTRACT_VERSION,
            ],
        )  # fmt: skip
        # one statement with list parameters: executemany costs ~0.5 ms a row here
        # (4.8 s for the demo's 9,810 model-days, measured)
        con.execute(
            "INSERT INTO job_model_days SELECT ?, unnest(?::VARCHAR[]), unnest(?::DATE[]), "
            "?, NULL, NULL, ?",
            [
                job_id,
                [m for m, _ in days],
                [d for _, d in days],
                str(DayStatus.PENDING),
                clock.now(),
            ],
        )


def update_job(store: ResultStore, job_id: str, **fields) -> None:
    """Set columns of a job (status, started_at, completed_at, error, owner_pid, ...)."""
    allowed = {"status", "started_at", "completed_at", "error", "owner_pid", "dagster_backfill_id"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not job columns: {sorted(unknown)}")
    sets = ", ".join(f"{name} = ?" for name in fields)  # names checked above
    with store.connect() as con:
        con.execute(f"UPDATE jobs SET {sets} WHERE job_id = ?", [*fields.values(), job_id])


def sync_job_days(store: ResultStore, job_id: str, clock: Clock = SYSTEM_CLOCK) -> None:
    """Take each model-day's outcome from `model_days` rows written since the job began."""
    with store.connect() as con:
        con.execute(
            "UPDATE job_model_days AS j SET "
            f"status = CASE WHEN {counted_day('md')} THEN ? ELSE ? END, "
            "error = md.error_message, run_id = md.run_id, updated_at = ? "
            "FROM model_days AS md, jobs "
            "WHERE j.job_id = ? AND jobs.job_id = j.job_id AND md.model = j.model "
            "AND md.date = j.date AND md.completed_at >= jobs.created_at",
            [
                str(DayStatus.COMPLETED), str(DayStatus.FAILED), clock.now(), job_id,
            ],
        )  # fmt: skip


def fail_pending_days(
    store: ResultStore, job_id: str, reasons: dict[str, str], default: str, clock=SYSTEM_CLOCK
) -> int:
    """The job's days still pending end failed: with their model's reason, else `default`."""
    with store.connect() as con:
        pending = con.execute(
            "SELECT DISTINCT model FROM job_model_days WHERE job_id = ? AND status = ?",
            [job_id, str(DayStatus.PENDING)],
        ).fetchall()
        for (model,) in pending:
            con.execute(
                "UPDATE job_model_days SET status = ?, error = ?, updated_at = ? "
                "WHERE job_id = ? AND model = ? AND status = ?",
                [
                    str(DayStatus.FAILED), reasons.get(model, default), clock.now(),
                    job_id, model, str(DayStatus.PENDING),
                ],
            )  # fmt: skip
        return len(pending)


def final_status(completed: int, failed: int, interrupted: bool) -> JobStatus:
    """The legacy rule: completed (no failure), partial (some), failed (none completed);
    a job stopped before its end is interrupted."""
    if interrupted:
        return JobStatus.INTERRUPTED
    if failed == 0:
        return JobStatus.COMPLETED
    return JobStatus.PARTIAL if completed else JobStatus.FAILED


def get_job(store: ResultStore, job_id: str) -> Job:
    with store.connect() as con:
        cursor = con.execute(
            "SELECT * EXCLUDE (contract_version) FROM jobs WHERE job_id = ?", [job_id]
        )
        row = cursor.fetchone()
    if row is None:
        raise TradingAssetsError(
            f"no job {job_id!r} in {store.path}", fix="list jobs with `trading-assets jobs`"
        )
    return Job(*row)


def active_jobs(store: ResultStore) -> list[Job]:
    with store.connect() as con:
        ids = con.execute(
            "SELECT job_id FROM jobs WHERE status IN (SELECT unnest(?))", [_ACTIVE]
        ).fetchall()
    return [get_job(store, job_id) for (job_id,) in ids]


def job_counts(store: ResultStore, job_id: str) -> dict[str, int]:
    """Model-days of the job per status (pending, running, completed, failed)."""
    counts = {str(s): 0 for s in (DayStatus.PENDING, DayStatus.COMPLETED, DayStatus.FAILED)}
    return counts | _days_by(store, job_id, "status")


def days_per_model(store: ResultStore, job_id: str) -> dict[str, int]:
    return _days_by(store, job_id, "model")


def _days_by(store: ResultStore, job_id: str, column: str) -> dict[str, int]:
    """The job's model-days counted per value of `column` (ours: status or model)."""
    with store.connect() as con:
        rows = con.execute(
            f"SELECT {column}, count(*) FROM job_model_days WHERE job_id = ? GROUP BY {column}",
            [job_id],
        ).fetchall()
    return dict(rows)


def failed_days(store: ResultStore, job_id: str) -> pd.DataFrame:
    """model, date, error, run_id of each failed model-day of the job."""
    return store.query(
        "SELECT model, date, error, run_id FROM job_model_days "
        "WHERE job_id = ? AND status = ? ORDER BY model, date",
        [job_id, str(DayStatus.FAILED)],
    )


JOB_LLM_USAGE = (
    "llm_answers", "llm_requests", "llm_cache_hits", "prompt_tokens", "completion_tokens",
    "total_tokens", "llm_cost_usd",
)  # fmt: skip


def job_llm_usage(store: ResultStore, job_id: str) -> dict[str, float | int | None] | None:
    """What the job's LLM conversations used, summed from `llm_usage` over the model-days
    the job's runs wrote (their run_id is the job day's); None: no conversation."""
    with store.connect() as con:
        row = con.execute(
            "SELECT count(u.model), sum(u.steps), sum(u.requests), sum(u.cache_hits), "
            "sum(u.prompt_tokens), sum(u.completion_tokens), sum(u.total_tokens), "
            "sum(u.cost_usd) FROM job_model_days j "
            "JOIN model_days md ON md.model = j.model AND md.date = j.date "
            "AND md.run_id = j.run_id "
            "JOIN llm_usage u ON u.model = j.model AND u.date = j.date WHERE j.job_id = ?",
            [job_id],
        ).fetchone()
    if not row or not row[0]:
        return None
    return dict(zip(JOB_LLM_USAGE, row[1:], strict=True))


def list_jobs(store: ResultStore) -> pd.DataFrame:
    return store.query(
        "SELECT j.job_id, j.kind, j.status, j.total_model_days, "
        "count(*) FILTER (WHERE d.status = 'completed') AS completed, "
        "count(*) FILTER (WHERE d.status = 'failed') AS failed, "
        "j.created_at, j.completed_at, array_to_string(j.models, ',') AS models "
        "FROM jobs j LEFT JOIN job_model_days d USING (job_id) "
        "GROUP BY ALL ORDER BY j.created_at DESC"
    )


POSTGRES_WRITABLE = (
    "SELECT * FROM postgres_query('store', 'SELECT NOT pg_is_in_recovery() "
    "AND current_setting(''transaction_read_only'') = ''off'' "
    "AND has_table_privilege(''model_days'', ''INSERT'')')"
)


def probe_store(store: ResultStore) -> dict:
    """Reachable (opens, migrates) and writable (a checkpoint writes the file; on
    PostgreSQL: the server takes writes and our role may insert)."""
    out = {"path": str(store.path), "reachable": False, "writable": False, "error": None}
    try:
        with store.connect() as con:
            out["reachable"] = True
            if store.backend == "postgres":
                [(out["writable"],)] = con.execute(POSTGRES_WRITABLE).fetchall()
            else:
                con.execute("CHECKPOINT")
                out["writable"] = True
    except (StoreError, OSError) as exc:
        out["error"] = str(exc)
    except Exception as exc:  # DuckDB's own IO errors on a read-only or full disk
        out["error"] = f"{type(exc).__name__}: {exc}"
    if store.backend == "duckdb" and store.path.parent.exists():
        out["free_mb"] = shutil.disk_usage(store.path.parent).free // 2**20
    return out


def job_model_ranges(store: ResultStore, job_id: str) -> list[tuple[str, dt.date, dt.date]]:
    """(model, first day, last day) of each model of the job, by model."""
    frame = store.query(
        "SELECT model, min(date) AS first, max(date) AS last FROM job_model_days "
        "WHERE job_id = ? GROUP BY model ORDER BY model",
        [job_id],
    )
    return [(r.model, r.first.date(), r.last.date()) for r in frame.itertuples()]
