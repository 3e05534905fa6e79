"""A study run: register each study of a models YAML, add its partition of the `study`
asset and materialize it in this process (a real run on the instance, in the UI); a
trial promoted to an ordinary model."""

from __future__ import annotations

from trading_assets.errors import TradingAssetsError
from trading_assets.store.results import ResultStore


def run_studies(
    store: ResultStore,
    config: str | None,
    name: str | None,
    workers: int = 1,
    trials_per_chunk: int | None = None,
) -> list[dict]:
    """Run the config's studies (only `name`, when given); return their summaries. With
    `workers` > 1, `trials_per_chunk` or the Celery executor, through study_job."""
    from trading_assets.config import load_config, study_specs

    # the config first: a bad grid is one line before Dagster's imports (seconds)
    if not config:
        raise TradingAssetsError("study run needs --config", fix="pass the models YAML file")
    specs = [s for s in study_specs(load_config(config), config) if name in (None, s.name)]
    if not specs:
        raise TradingAssetsError(
            f"no study {name!r} in {config}" if name else "no studies: section",
            where=config,
            fix="add a `studies:` entry (README, Parameter sweeps)",
        )

    import dagster as dg

    from trading_assets.defs.assets.market import market_prices
    from trading_assets.defs.assets.study import STUDIES_PARTITION, STUDY_IO
    from trading_assets.defs.assets.study import study as study_asset
    from trading_assets.defs.study_job import chunk_config
    from trading_assets.jobs.here import materialize_here
    from trading_assets.jobs.instance import get_instance
    from trading_assets.runs.registration import market_data_problem
    from trading_assets.store.studies import register_study, study_summary

    instance = get_instance()
    histories: dict = {}
    for spec in specs:
        problem = market_data_problem(spec.trials[0], histories)
        if problem:
            raise TradingAssetsError(problem, where=f"study {spec.name}")
        register_study(store, spec)
    materialize_here(instance, store, [market_prices], command="study")  # their sources too
    rows = []
    for spec in specs:
        instance.add_dynamic_partitions(STUDIES_PARTITION, [spec.name])
        if workers <= 1 and trials_per_chunk is None and not _celery():
            # one process, so one chunk, its results kept in memory: chunks only pay off
            # spread over processes (each step of 50 trials reloaded the prices and logged
            # its own events, each result was pickled: 6 of 16 s of the 1,000-trial bench)
            one = chunk_config(len(spec.trials))
            memory = {STUDY_IO: dg.mem_io_manager}
            materialize_here(instance, store, [study_asset], spec.name, one, memory, "study")
        else:
            _run_study_job(instance, store, spec.name, workers, trials_per_chunk)
        rows.append(study_summary(store, spec.name))
    return rows


def _celery() -> bool:
    import os

    from trading_assets.defs.study_job import EXECUTOR_ENV

    return os.environ.get(EXECUTOR_ENV) == "celery"


def _run_study_job(instance, store: ResultStore, name: str, workers: int, per_chunk) -> None:
    """The study's partition through study_job: its chunks spread over `workers` local
    processes, or over Celery workers (TRADING_ASSETS_STUDY_EXECUTOR=celery)."""
    import dagster as dg

    from trading_assets.defs.definitions import study_job_def
    from trading_assets.defs.study_job import chunk_config, executor_config
    from trading_assets.jobs.here import raise_failure
    from trading_assets.jobs.quiet import quiet_children
    from trading_assets.jobs.ranges import QUIET

    config = {
        **QUIET,
        **executor_config(workers),
        "resources": {"store": {"config": {"path": str(store.path)}}},
    }
    if per_chunk is not None:
        config |= chunk_config(per_chunk)
    with (
        quiet_children(),
        dg.execute_job(
            dg.reconstructable(study_job_def),
            instance,
            run_config=config,
            tags={"dagster/partition": name, "trading_assets/cli": "study"},
            raise_on_error=False,
        ) as result,
    ):
        if not result.success:
            raise_failure(result, f"study {name}")


def promote(store: ResultStore, name: str, trial: str):
    """Register a trial as an ordinary model (the same spec, so the same config hash)."""
    from trading_assets.runs.registration import register_validated
    from trading_assets.store.studies import trial_spec

    spec = trial_spec(store, name, trial)
    registration = register_validated(store, [spec])
    if registration.rejected:
        raise TradingAssetsError(registration.rejected[spec.signature], where=trial)
    return spec


SUMMARY = ["study", "trials", "dropped", "days", "best_trial", "deflated_sharpe", "pbo"]
SUMMARY += ["walk_forward_return"]


def summary_frame(rows: list[dict]):
    """The studies' summaries as the command shows them."""
    import pandas as pd

    return pd.DataFrame(rows)[SUMMARY]
