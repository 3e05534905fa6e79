"""trading-assets: backfill models through Dagster and read the result store."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from trading_assets.errors import TradingAssetsError
from trading_assets.vocab import iso_date


def _date(text: str) -> dt.date:
    try:
        return iso_date(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; use YYYY-MM-DD") from None


def _count(text: str) -> int:
    if not text.isdigit() or int(text) < 1:  # "-1" and "0" alike: no Dagster config error
        raise argparse.ArgumentTypeError(f"{text!r} is not a count; use 1 or more")
    return int(text)


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        default=None,
        help="result store: a DuckDB file or a postgresql:// URL "
        "(default: $TRADING_ASSETS_STORE or .data/trading_assets.duckdb)",
    )


def _formats(p: argparse.ArgumentParser, *choices: str) -> None:
    p.add_argument("--format", choices=list(choices), default="table")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trading-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    from trading_assets.cli import jobs

    jobs.add_parsers(sub, _date, _count, _formats)
    p = sub.add_parser("leaderboard", help="rank every model in the store")
    _formats(p, "table", "json", "csv")

    p = sub.add_parser(
        "metrics",
        help="each model's returns, risk and trading figures against its benchmark "
        "(from model_days.daily_return)",
    )
    p.add_argument("--model", action="append", help="only this model (repeatable)")
    p.add_argument(
        "--risk-free",
        type=float,
        default=None,
        help="annual risk-free rate for Sharpe and Sortino, a fraction (default: 0.02)",
    )
    _formats(p, "table", "json", "csv")

    p = sub.add_parser("results", help="one model's day-by-day results")
    p.add_argument("--model", required=True)
    p.add_argument("--start", type=_date)
    p.add_argument("--end", type=_date)
    _formats(p, "table", "json", "csv")

    p = sub.add_parser("import-legacy", help="import an AI-Trader checkout and replay it")
    p.add_argument("root", type=Path)
    p.add_argument(
        "--write-models",
        type=Path,
        metavar="PATH",
        help="also write a models YAML whose llm_trader models continue the legacy "
        "config's enabled agents from their imported state",
    )
    _formats(p, "table", "json")
    p.add_argument("--quiet", action="store_true", help="no progress output")

    p = sub.add_parser(
        "status",
        help="one model-day's status through the migration read path "
        "(new store first, legacy fallback; TA_READ_* flags)",
    )
    p.add_argument("--model", required=True)
    p.add_argument("--date", required=True, type=_date)
    p.add_argument(
        "--legacy-root",
        type=Path,
        default=None,
        help="AI-Trader checkout or data/ folder to fall back to",
    )

    p = sub.add_parser("parity", help="summarise the last result of every parity check")
    _formats(p, "table", "json", "csv")

    from trading_assets.cli.models import add_parser as add_models_parser
    from trading_assets.cli.study import add_parser as add_study_parser

    add_models_parser(sub)
    add_study_parser(sub, _count)
    for command in sub.choices.values():
        _store_arg(command)
    return parser


def main(argv: list[str] | None = None) -> int:
    from trading_assets.jobs.quiet import quiet_warnings

    quiet_warnings()
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args)
    except TradingAssetsError as exc:
        print(f"error: {_scrubbed(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # the command said what it cancelled before this
        print("interrupted", file=sys.stderr)
        return 130


def _scrubbed(text: str) -> str:
    """An error as printed: without the value of any secret-looking environment variable
    (OPENAI_API_KEY, the variable a model's llm.api_key_env names when its name ends in
    KEY, TOKEN, SECRET or PASSWORD), in any form `llm/scrub.py` knows. An error may quote
    a config value the key was pasted into (an agent name, a symbol)."""
    import os

    from trading_assets.llm.scrub import environment_secrets, scrub

    return scrub(text, environment_secrets(os.environ))


# Commands that only read open the store read-only: they work on a read-only file.
READ_ONLY = {"leaderboard", "results", "status", "parity"}


def _dispatch(args: argparse.Namespace) -> int:
    import os

    from trading_assets.cli import jobs
    from trading_assets.jobs.specs import load_specs

    specs = None  # the models first (no Dagster, no store): a bad config fails in a second
    if args.command in ("backfill", "trigger"):
        specs = load_specs(args.config, args.models, args.start, args.end)

    from trading_assets.store.db import StoreWait, store_location
    from trading_assets.store.results import ResultStore
    from trading_assets.vocab import DEFAULT_STORE_PATH, STORE_ENV

    path = store_location(args.store or os.environ.get(STORE_ENV) or DEFAULT_STORE_PATH)
    # Before the definitions load (jobs/ imports them): the date partitions span what
    # this store's market data covers, and the runs' resources read the same store.
    os.environ[STORE_ENV] = str(path)

    read_only = args.command in READ_ONLY or getattr(args, "action", None) in ("list", "show")
    # a busy store is waited for; say who holds it rather than hang silently
    wait = StoreWait(report=lambda message: print(message, file=sys.stderr))
    store = ResultStore(path, read_only=read_only, wait=wait)
    if specs is not None:
        return getattr(jobs, args.command)(args, store, specs)
    return COMMANDS[args.command](args, store)


def _leaderboard(args: argparse.Namespace, store) -> int:
    from trading_assets.cli.output import print_leaderboard

    return print_leaderboard(store, args.format)


def _metrics(args: argparse.Namespace, store) -> int:
    from trading_assets.analytics.metrics import DEFAULT_RISK_FREE
    from trading_assets.cli.output import print_table
    from trading_assets.jobs.report import METRICS_TABLE, table_columns
    from trading_assets.runs.metrics import compute_metrics

    rate = DEFAULT_RISK_FREE if args.risk_free is None else args.risk_free
    frame = compute_metrics(store, rate, args.model).frame
    return print_table(table_columns(frame, args.format, METRICS_TABLE), args.format)


def _results(args: argparse.Namespace, store) -> int:
    from trading_assets.cli.output import print_table
    from trading_assets.store.leaderboard import model_results

    return print_table(model_results(store, args.model, args.start, args.end), args.format)


def _import_legacy(args: argparse.Namespace, store) -> int:
    from trading_assets.cli.legacy import import_legacy
    from trading_assets.cli.progress import progress_mode

    return import_legacy(
        store, args.root, progress=progress_mode(args), write_models=args.write_models
    )


def _status(args: argparse.Namespace, store) -> int:
    import json
    import os

    from trading_assets.legacy.flags import MigrationFlags
    from trading_assets.legacy.layout import resolve_root
    from trading_assets.legacy.read_path import read_model_day

    layout = resolve_root(args.legacy_root) if args.legacy_root else None
    flags = MigrationFlags.from_env(os.environ)
    found = read_model_day(store, layout, flags, args.model, args.date)
    print(json.dumps({"source": found.source, **found.status}, indent=2, default=str))
    return 0


def _parity(args: argparse.Namespace, store) -> int:
    from trading_assets.cli.output import print_table
    from trading_assets.legacy.parity import parity_summary

    return print_table(parity_summary(store), args.format)


def _module(name: str, function: str):
    """A handler that lives in cli/NAME.py (imported when the command runs)."""

    def handler(args: argparse.Namespace, store) -> int:
        from importlib import import_module

        return getattr(import_module(f"trading_assets.cli.{name}"), function)(args, store)

    return handler


# One handler per subcommand: (parsed args, the store) -> exit code.
COMMANDS = {
    "leaderboard": _leaderboard,
    "metrics": _metrics,
    "results": _results,
    "import-legacy": _import_legacy,
    "status": _status,
    "parity": _parity,
    "models": _module("models", "models"),
    "study": _module("study", "study"),
    "job": _module("jobs", "job"),
    "jobs": _module("jobs", "jobs"),
    "health": _module("jobs", "health"),
}

if __name__ == "__main__":
    sys.exit(main())
