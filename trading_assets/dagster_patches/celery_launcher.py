"""The Celery run launcher, told when a worker host is gone.

dagster-celery's `CeleryRunLauncher.check_run_worker_health` reads only the task's state
in the result backend. A worker host that dies (power, kernel, SIGKILL of the whole
worker) never writes a final state, so the task stays STARTED and the run RUNNING
forever; run monitoring (the daemon) has nothing to act on. This subclass asks the
task's own worker, through the broker (`control.ping(destination=[worker])`), and
reports the run's worker FAILED "worker <name> lost" when it does not answer; the
daemon then marks the run failed (deploy/dagster.celery.yaml, `run_monitoring`).

Relies on (Dagster 1.13.27, dagster-celery 0.29.27): `CheckRunHealthResult` and
`WorkerStatus` in `dagster._core.launcher`; the stock check answering RUNNING for a
STARTED task; the run tag `DAGSTER_CELERY_TASK_ID_TAG` naming the task; the launcher's
`celery` app. From Celery: a STARTED task's result meta carries the worker's
`hostname` (`track_started`, which dagster-celery's `execute_job` task sets).
"""

from __future__ import annotations

from trading_assets.dagster_patches import require_pinned_dagster

require_pinned_dagster(__name__)

from dagster._core.launcher import CheckRunHealthResult, WorkerStatus  # noqa: E402
from dagster_celery.launcher import CeleryRunLauncher  # noqa: E402
from dagster_celery.tags import DAGSTER_CELERY_TASK_ID_TAG  # noqa: E402

# A busy worker still answers: with the prefork pool the task runs in a child process
# and the worker's main process handles control messages. Two tries ride over one lost
# reply (a broker restart) without failing a live run.
PING_TIMEOUT_S = 3.0
PING_TRIES = 2


class WorkerCheckingCeleryRunLauncher(CeleryRunLauncher):
    """CeleryRunLauncher whose health check notices a worker that no longer answers."""

    def check_run_worker_health(self, run) -> CheckRunHealthResult:
        health = super().check_run_worker_health(run)
        if health.status != WorkerStatus.RUNNING:
            return health
        worker = task_worker(self.celery, run.tags[DAGSTER_CELERY_TASK_ID_TAG])
        if worker is None or worker_answers(self.celery, worker):
            return health
        return CheckRunHealthResult(
            WorkerStatus.FAILED,
            f"worker {worker} lost: it did not answer {PING_TRIES} pings of "
            f"{PING_TIMEOUT_S:.0f} s while running this run's task",
        )


def task_worker(app, task_id: str) -> str | None:
    """The name of the worker running a STARTED task (`name@host`), from its result meta."""
    result = app.AsyncResult(task_id)
    info = result.info if isinstance(result.info, dict) else {}
    return result.worker or info.get("hostname")


def worker_answers(app, worker: str) -> bool:
    for _ in range(PING_TRIES):
        replies = app.control.ping(destination=[worker], timeout=PING_TIMEOUT_S)
        if any(worker in reply for reply in replies):
            return True
    return False
