"""`trading-assets study run|show|promote`: parameter sweeps as one unit.

run: register each study of a models YAML (`studies:`), add its partition of the
`study` asset and materialize it in this process (a real run on the instance, in the
UI); show: every trial with its parameters, best Sharpe first, and the guards;
promote: register one trial as an ordinary model (the same spec, so the same config
hash): `trading-assets backfill --config FILE --models TRIAL`, or the UI, then runs its
model-days as partitions.
"""

from __future__ import annotations

import argparse
import json

from trading_assets.cli.output import render
from trading_assets.errors import TradingAssetsError
from trading_assets.store.results import ResultStore


def add_parser(sub) -> None:
    p = sub.add_parser("study", help="run, show or promote parameter sweeps (studies)")
    p.add_argument("action", choices=["run", "show", "promote"])
    p.add_argument("name", nargs="?", help="the study (show, promote; run: only this one)")
    p.add_argument("trial", nargs="?", help="promote: the trial's signature")
    p.add_argument("--config", help="run: the models YAML with a `studies:` section")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="run: local processes for the study's chunks (1: in this process)",
    )
    p.add_argument(
        "--trials-per-chunk",
        type=int,
        default=None,
        help="run: trials one step simulates (default 50)",
    )
    p.add_argument("--top", type=int, default=None, help="show: only the N best trials")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")


def study(args: argparse.Namespace, store: ResultStore) -> int:
    if args.action == "run":
        return _run(args, store)
    if not args.name:
        raise TradingAssetsError(f"study {args.action} needs a study name", fix="see `study run`")
    if args.action == "show":
        return _show(args, store)
    return _promote(args, store)


def _run(args: argparse.Namespace, store: ResultStore) -> int:
    from trading_assets.cli.backfill import materialize_here
    from trading_assets.cli.instance import ensure_home, get_instance
    from trading_assets.config import load_config, study_specs
    from trading_assets.defs.assets.market import market_prices
    from trading_assets.defs.assets.study import STUDIES_PARTITION
    from trading_assets.defs.assets.study import study as study_asset
    from trading_assets.runs.registration import market_data_problem
    from trading_assets.store.studies import register_study, study_summary

    if not args.config:
        raise TradingAssetsError("study run needs --config", fix="pass the models YAML file")
    specs = study_specs(load_config(args.config), args.config)
    specs = [s for s in specs if args.name in (None, s.name)]
    if not specs:
        raise TradingAssetsError(
            f"no study {args.name!r} in {args.config}" if args.name else "no studies: section",
            where=args.config,
            fix="add a `studies:` entry (README, Parameter sweeps)",
        )
    ensure_home()
    instance = get_instance()
    histories: dict = {}
    for spec in specs:
        problem = market_data_problem(spec.trials[0], histories)
        if problem:
            raise TradingAssetsError(problem, where=f"study {spec.name}")
        register_study(store, spec)
    materialize_here(instance, store, [market_prices])  # the studies' sources too
    rows = []
    for spec in specs:
        instance.add_dynamic_partitions(STUDIES_PARTITION, [spec.name])
        if args.workers <= 1 and args.trials_per_chunk is None and not _celery():
            materialize_here(instance, store, [study_asset], partition_key=spec.name)
        else:
            _run_study_job(instance, store, spec.name, args.workers, args.trials_per_chunk)
        rows.append(study_summary(store, spec.name))
    print(render(_summary_frame(rows), args.format))
    return 0


def _celery() -> bool:
    import os

    from trading_assets.defs.study_job import EXECUTOR_ENV

    return os.environ.get(EXECUTOR_ENV) == "celery"


def _run_study_job(instance, store: ResultStore, name: str, workers: int, per_chunk) -> None:
    """The study's partition through study_job: its chunks spread over `workers` local
    processes, or over Celery workers (TRADING_ASSETS_STUDY_EXECUTOR=celery)."""
    import os

    import dagster as dg

    from trading_assets.cli.backfill import _root_error
    from trading_assets.cli.range_runs import QUIET
    from trading_assets.defs.definitions import study_job_def
    from trading_assets.defs.study_job import chunk_config, executor_config

    config = {
        **QUIET,
        **executor_config(workers),
        "resources": {"store": {"config": {"path": str(store.path)}}},
    }
    if per_chunk is not None:
        config |= chunk_config(per_chunk)
    # each step's process imports the code location anew: its Dagster beta/preview
    # notices would fill the terminal (this process hides them: cli/output.py)
    os.environ.setdefault("PYTHONWARNINGS", "ignore")
    with dg.execute_job(
        dg.reconstructable(study_job_def),
        instance,
        run_config=config,
        tags={"dagster/partition": name, "trading_assets/cli": "study"},
        raise_on_error=False,
    ) as result:
        if not result.success:
            cause = _root_error(result)
            if cause and " Fix: " in cause:
                raise TradingAssetsError(cause)
            raise TradingAssetsError(
                f"failed: {cause}" if cause else "failed",
                where=f"study {name} (run {result.run_id[:8]})",
                fix="see the run's logs in the UI",
            )


def _show(args: argparse.Namespace, store: ResultStore) -> int:
    from trading_assets.store.studies import study_summary, study_trials

    summary = study_summary(store, args.name)
    trials = study_trials(store, args.name)
    if args.top:
        trials = trials.head(args.top)
    if args.format == "json":
        records = json.loads(trials.to_json(orient="records"))
        print(json.dumps({"study": summary, "trials": records}, default=str))
        return 0
    if args.format == "table":
        print(render(_summary_frame([summary]), "table"))
    print(render(trials, args.format))
    return 0


def _promote(args: argparse.Namespace, store: ResultStore) -> int:
    from trading_assets.runs.registration import register_validated
    from trading_assets.store.studies import trial_spec

    if not args.trial:
        raise TradingAssetsError("study promote needs a trial", fix="study promote STUDY TRIAL")
    spec = trial_spec(store, args.name, args.trial)
    registration = register_validated(store, [spec])
    if registration.rejected:
        raise TradingAssetsError(registration.rejected[spec.signature], where=args.trial)
    print(
        f"{spec.signature}: registered as a model (config_hash {spec.config_hash}); its "
        "model-days run with the next backfill, trigger or new_models_sensor"
    )
    return 0


def _summary_frame(rows: list[dict]):
    import pandas as pd

    cols = ["study", "trials", "dropped", "days", "best_trial", "deflated_sharpe", "pbo"]
    cols += ["walk_forward_return"]
    return pd.DataFrame(rows)[cols]
