"""`trading-assets study run|show|promote`: parameter sweeps as one unit (jobs/studies.py).

run: every study of a models YAML as its partition of the `study` asset; show: every
trial with its parameters and the guards; promote: one trial as an ordinary model (the
same spec, so the same config hash), whose model-days then run as partitions.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from trading_assets.errors import TradingAssetsError

if TYPE_CHECKING:  # the parser loads this module: the store's imports wait for the command
    from trading_assets.store.results import ResultStore


def add_parser(sub, count) -> None:
    p = sub.add_parser("study", help="run, show or promote parameter sweeps (studies)")
    p.add_argument("action", choices=["run", "show", "promote"])
    p.add_argument("name", nargs="?", help="the study (show, promote; run: only this one)")
    p.add_argument("trial", nargs="?", help="promote: the trial's signature")
    p.add_argument("--config", help="run: the models YAML with a `studies:` section")
    p.add_argument("--workers", type=count, default=1, help="run: processes for the chunks")
    p.add_argument("--trials-per-chunk", type=count, help="run: trials a step simulates (50)")
    p.add_argument("--top", type=count, default=None, help="show: only the N best trials")
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
    from trading_assets.jobs.studies import run_studies, summary_frame

    rows = run_studies(store, args.config, args.name, args.workers, args.trials_per_chunk)
    from trading_assets.cli.output import render  # after: a bad grid fails before it loads

    print(render(summary_frame(rows), args.format))
    return 0


def _show(args: argparse.Namespace, store: ResultStore) -> int:
    from trading_assets.cli.output import render
    from trading_assets.jobs.studies import summary_frame
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
        print(render(summary_frame([summary]), "table"))
    print(render(trials, args.format))
    return 0


def _promote(args: argparse.Namespace, store: ResultStore) -> int:
    from trading_assets.jobs.studies import promote

    if not args.trial:
        raise TradingAssetsError("study promote needs a trial", fix="study promote STUDY TRIAL")
    spec = promote(store, args.name, args.trial)
    print(
        f"{spec.signature}: registered as a model (config_hash {spec.config_hash}); its "
        "model-days run with the next backfill, trigger or new_models_sensor"
    )
    return 0
