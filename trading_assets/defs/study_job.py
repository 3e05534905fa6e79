"""study_job: the `study` asset's partitions as a job whose executor spreads the chunks.

A study is one partition; each chunk of its trials is a step (defs/assets/study.py), so
the executor decides where chunks run: in the launching process (`in_process`), in
parallel local processes (`multiprocess`, the default of Dagster's
multi_or_in_process_executor; run config `execution: {config: {multiprocess:
{max_concurrent: N}}}`), or on Celery workers of other hosts when
TRADING_ASSETS_STUDY_EXECUTOR=celery (dagster-celery's executor, on the broker, result
backend and queue of deploy/dagster.celery.yaml's variables; the workers need the code,
the store URL, and TRADING_ASSETS_STUDY_IO_DIR on storage every host reaches: the chunks'
results wait there for the collect step, which may run on another host).
"""

from __future__ import annotations

import os

import dagster as dg

from trading_assets.defs.assets.study import study, study_partitions
from trading_assets.errors import TradingAssetsError

STUDY_JOB = "study_job"
EXECUTOR_ENV = "TRADING_ASSETS_STUDY_EXECUTOR"
EXECUTORS = ("local", "celery")  # local: in-process or multiprocess, as run config says
IO_DIR_ENV = "TRADING_ASSETS_STUDY_IO_DIR"
# the multi-host deployment's variables (deploy/dagster.celery.yaml, docs/deploy.md)
CELERY_BROKER_ENV, CELERY_BACKEND_ENV = (
    "TRADING_ASSETS_CELERY_BROKER",
    "TRADING_ASSETS_CELERY_BACKEND",
)
CELERY_QUEUE_ENV = "TRADING_ASSETS_CELERY_QUEUE"


def study_executor() -> dg.ExecutorDefinition:
    name = os.environ.get(EXECUTOR_ENV, "") or "local"
    if name not in EXECUTORS:
        raise TradingAssetsError(
            f"{EXECUTOR_ENV}={name!r} is not an executor",
            where=EXECUTOR_ENV,
            fix=f"set it to one of {', '.join(EXECUTORS)} (or unset it)",
        )
    if name == "celery":
        try:
            from dagster_celery import celery_executor
        except ImportError as e:
            raise TradingAssetsError(
                f"{EXECUTOR_ENV}=celery but dagster-celery is not installed",
                where=EXECUTOR_ENV,
                fix="install dagster-celery (constraints.txt) or unset the variable",
            ) from e
        if not os.environ.get(IO_DIR_ENV):  # else the collect step fails at the end
            raise TradingAssetsError(
                f"{EXECUTOR_ENV}=celery but {IO_DIR_ENV} is not set: the chunks' results "
                "would stay on the host that ran each chunk",
                where=IO_DIR_ENV,
                fix="set it on every host to a folder they all reach (a shared mount)",
            )
        return celery_executor
    # local: one executor for both, the run config picks (multiprocess when it says nothing)
    return dg.multi_or_in_process_executor


def study_io_manager() -> dg.FilesystemIOManager:
    """Where a study's chunk results wait for its collect step: TRADING_ASSETS_STUDY_IO_DIR
    when set (storage every worker host reaches), else the instance's storage folder."""
    return dg.FilesystemIOManager(base_dir=os.environ.get(IO_DIR_ENV) or None)


def executor_config(workers: int) -> dict:
    """The run config of study_job's executor for `workers` local processes (1: in the
    launching process); under Celery, the deployment's broker, backend and queue (by
    variable name: the run record keeps no URL)."""
    if os.environ.get(EXECUTOR_ENV) == "celery":
        celery: dict = {"config_source": {"result_extended": True}}
        for key, var in (("broker", CELERY_BROKER_ENV), ("backend", CELERY_BACKEND_ENV)):
            if os.environ.get(var):
                celery[key] = {"env": var}
        if os.environ.get(CELERY_QUEUE_ENV):  # the queue the workers consume (-q)
            celery["config_source"]["task_default_queue"] = os.environ[CELERY_QUEUE_ENV]
        return {"execution": {"config": celery}}
    if workers <= 1:
        return {"execution": {"config": {"in_process": {}}}}
    return {"execution": {"config": {"multiprocess": {"max_concurrent": workers}}}}


def chunk_config(trials_per_chunk: int) -> dict:
    """The run config of the study's planning op (the graph-backed asset's op path)."""
    return {
        "ops": {
            "study": {"ops": {"plan_study": {"config": {"trials_per_chunk": trials_per_chunk}}}}
        }
    }


study_job = dg.define_asset_job(
    STUDY_JOB,
    selection=[study],
    partitions_def=study_partitions,
    executor_def=study_executor(),
    description="One study's trials in chunks, spread by the executor; then its guards.",
)
