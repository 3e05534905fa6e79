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


def _store_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        default=None,
        help="result store: a DuckDB file or a postgresql:// URL "
        "(default: $TRADING_ASSETS_STORE or .data/trading_assets.duckdb)",
    )


def _output_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def _progress_mode(args: argparse.Namespace) -> str:
    if args.quiet:
        return "quiet"
    return "json" if args.format == "json" else "bar"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trading-assets", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("backfill", help="simulate models over a date range through Dagster")
    p.add_argument(
        "--config", required=True, help="models YAML file, or 'demo' for the bundled demo config"
    )
    p.add_argument("--start", type=_date)
    p.add_argument("--end", type=_date)
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes for the models' runs (default: one per core; 1 = this process)",
    )
    p.add_argument(
        "--daemon",
        action="store_true",
        help="launch a Dagster asset backfill for the daemon instead (as the UI does) and wait",
    )
    p.add_argument("--models", help="comma-separated signatures of the config to run")
    p.add_argument(
        "--rerun", action="store_true", help="run stored model-days again (default: only missing)"
    )
    _output_args(p)
    _store_arg(p)

    p = sub.add_parser("trigger", help="start a backfill job on the daemon; print its id")
    p.add_argument("--config", default="demo", help="models YAML file, or 'demo'")
    p.add_argument("--models", help="comma-separated signatures of the config to run")
    p.add_argument("--start", type=_date)
    p.add_argument("--end", type=_date)
    p.add_argument("--format", choices=["table", "json"], default="table")
    _store_arg(p)

    p = sub.add_parser("job", help="one job's status, progress and failed model-days")
    p.add_argument("job_id")
    p.add_argument("--format", choices=["table", "json"], default="table")
    p.add_argument("--wait", action="store_true", help="wait until the job has ended")
    p.add_argument("--cancel", action="store_true", help="cancel the job's backfill and runs")
    p.add_argument("--supervise", action="store_true", help=argparse.SUPPRESS)
    _store_arg(p)

    p = sub.add_parser("jobs", help="list the jobs, newest first")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    _store_arg(p)

    p = sub.add_parser("health", help="instance, daemon heartbeat, store reachable and writable")
    p.add_argument("--format", choices=["table", "json"], default="table")
    _store_arg(p)

    p = sub.add_parser("leaderboard", help="rank every model in the store")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    _store_arg(p)

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
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    _store_arg(p)

    p = sub.add_parser("results", help="one model's day-by-day results")
    p.add_argument("--model", required=True)
    p.add_argument("--start", type=_date)
    p.add_argument("--end", type=_date)
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    _store_arg(p)

    p = sub.add_parser("import-legacy", help="import an AI-Trader checkout and replay it")
    p.add_argument("root", type=Path)
    p.add_argument(
        "--write-models",
        type=Path,
        metavar="PATH",
        help="also write a models YAML whose llm_trader models continue the legacy "
        "config's enabled agents from their imported state",
    )
    _output_args(p)
    _store_arg(p)

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
    _store_arg(p)

    p = sub.add_parser("parity", help="summarise the last result of every parity check")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")
    _store_arg(p)

    from trading_assets.cli.models import add_parser as add_models_parser

    add_models_parser(sub)
    _store_arg(sub.choices["models"])
    from trading_assets.cli.study import add_parser as add_study_parser

    add_study_parser(sub)
    _store_arg(sub.choices["study"])
    return parser


def main(argv: list[str] | None = None) -> int:
    from trading_assets.cli.output import quiet_warnings

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

    from trading_assets.store.db import StoreWait, store_location
    from trading_assets.store.results import ResultStore
    from trading_assets.vocab import DEFAULT_STORE_PATH, STORE_ENV

    path = store_location(args.store or os.environ.get(STORE_ENV) or DEFAULT_STORE_PATH)
    # Before the definitions load (cli.backfill imports them): the date partitions span
    # what this store's market data covers, and the runs' resources read the same store.
    os.environ[STORE_ENV] = str(path)

    read_only = args.command in READ_ONLY or getattr(args, "action", None) in ("list", "show")
    # a busy store is waited for; say who holds it rather than hang silently
    wait = StoreWait(report=lambda message: print(message, file=sys.stderr))
    store = ResultStore(path, read_only=read_only, wait=wait)
    return COMMANDS[args.command](args, store)


def _specs(args: argparse.Namespace):
    from trading_assets.cli.job_commands import load_specs

    if args.start and args.end and args.start > args.end:
        raise TradingAssetsError(f"--start {args.start} is after --end {args.end}", fix="swap them")
    return load_specs(args.config, args.models)


def _backfill(args: argparse.Namespace, store) -> int:
    import json

    from trading_assets.cli.backfill import run_backfill
    from trading_assets.cli.output import render
    from trading_assets.runs.metrics import stored_leaderboard

    specs = _specs(args)
    if args.workers is not None and args.workers < 1:
        raise TradingAssetsError(f"--workers {args.workers} is not a count", fix="use 1 or more")
    quiet = args.quiet or args.format == "json"
    outcome = run_backfill(
        store,
        specs,
        args.start,
        args.end,
        echo=(lambda line: None) if quiet else print,
        daemon=args.daemon,
        workers=args.workers,
        rerun=args.rerun,
        progress=_progress_mode(args),
    )
    ok = outcome["status"] == "completed" and not outcome["rejected"]
    if args.format == "json":
        print(json.dumps(outcome, default=str))
        return 0 if ok else 1
    if outcome["job_id"] is None:
        print(f"nothing to run: all {outcome['already_stored']} model-days are stored")
        return 0
    print(
        f"backfill {outcome['job_id']} {outcome['status']}: "
        f"{outcome['model_days']} model-days in {outcome['seconds']:.1f} s "
        f"({outcome['already_stored']} already stored; "
        f"last run ended after {outcome['runs_done_after_seconds'] or float('nan'):.1f} s)"
    )
    if not ok:
        print(f"  {outcome['error']}\n  details: trading-assets job {outcome['job_id']}")
    board, stale = stored_leaderboard(store)
    print(render(board_table(board, "table"), "table"))
    _say_stale(stale)
    print(
        f"\nstore: {store.path}\nUI: make ui (or DAGSTER_HOME=.dagster_home dagster dev "
        "-w workspace.yaml), then open http://127.0.0.1:3000"
    )
    return 0 if ok else 1


def _trigger(args: argparse.Namespace, store) -> int:
    from trading_assets.cli.job_commands import trigger

    return trigger(store, _specs(args), args.start, args.end, args.format)


def _job(args: argparse.Namespace, store) -> int:
    from trading_assets.cli.job_commands import show_job, supervise

    if args.supervise:
        return supervise(store, args.job_id)
    return show_job(store, args.job_id, args.format, args.wait, args.cancel)


def _jobs(args: argparse.Namespace, store) -> int:
    from trading_assets.cli.job_commands import show_jobs

    return show_jobs(store, args.format)


def _health(args: argparse.Namespace, store) -> int:
    from trading_assets.cli.job_commands import health

    return health(store, args.format)


def _leaderboard(args: argparse.Namespace, store) -> int:
    from trading_assets.runs.metrics import stored_leaderboard

    board, stale = stored_leaderboard(store)
    _print_table(board_table(board, args.format), args.format)
    _say_stale(stale)
    return 0


def _say_stale(models: list[str]) -> None:
    """The leaderboard reads the metrics table: say which models it does not cover yet."""
    if models:
        print(
            f"note: the metrics table does not cover the latest stored days of "
            f"{', '.join(models)}; materialize metrics (the UI, or trading-assets backfill)",
            file=sys.stderr,
        )


# The leaderboard's table shows these and the parameters; JSON and CSV carry every column.
LEADERBOARD_TABLE = [
    "model", "beats_benchmark", "final_value", "total_return", "annualized_return",
    "max_drawdown", "sharpe", "benchmark_return", "excess_return", "information_ratio",
    "trading_days", "config_hash",
]  # fmt: skip


def board_table(board, fmt: str):
    """The leaderboard as `fmt` shows it: the headline columns and parameters in a table."""
    from trading_assets.store.metrics import param_columns

    if fmt != "table":
        return board
    return board[[*LEADERBOARD_TABLE, *llm_columns(board), *param_columns(board)]]


# Shown in the tables when some model has them: an LLM trader's tokens and cost, and a
# model's figures after its knowledge cutoff (the days it cannot remember).
LLM_TABLE = [
    "total_tokens", "llm_cost_usd", "days_after_cutoff", "cumulative_return_after_cutoff",
    "sharpe_after_cutoff",
]  # fmt: skip


def llm_columns(frame) -> list[str]:
    return [c for c in LLM_TABLE if c in frame.columns and frame[c].notna().any()]


# The table shows the headline figures (an annualized return of a run under a year reads
# (<1y)) and the parameters; JSON and CSV carry every column of `metrics` and them.
METRICS_TABLE = [
    "model", "cumulative_return", "benchmark_return", "excess_return", "annual_return",
    "annual_volatility", "sharpe", "sortino", "max_drawdown", "calmar", "risk_free_rate", "days",
]  # fmt: skip


def _metrics(args: argparse.Namespace, store) -> int:
    from trading_assets.analytics.metrics import DEFAULT_RISK_FREE
    from trading_assets.runs.metrics import compute_metrics
    from trading_assets.store.metrics import param_columns

    rate = DEFAULT_RISK_FREE if args.risk_free is None else args.risk_free
    frame = compute_metrics(store, rate, args.model).frame
    if args.format == "table":
        frame = frame[[*METRICS_TABLE, *llm_columns(frame), *param_columns(frame)]]
    return _print_table(frame, args.format)


def _results(args: argparse.Namespace, store) -> int:
    from trading_assets.store.leaderboard import model_results

    return _print_table(model_results(store, args.model, args.start, args.end), args.format)


def _import_legacy(args: argparse.Namespace, store) -> int:
    from trading_assets.cli.legacy import import_legacy

    return import_legacy(
        store, args.root, progress=_progress_mode(args), write_models=args.write_models
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
    from trading_assets.legacy.parity import parity_summary

    return _print_table(parity_summary(store), args.format)


def _models(args: argparse.Namespace, store) -> int:
    from trading_assets.cli.models import models

    return models(args, store)


def _study(args: argparse.Namespace, store) -> int:
    from trading_assets.cli.study import study

    return study(args, store)


def _print_table(frame, fmt: str) -> int:
    from trading_assets.cli.output import render

    print(render(frame, fmt))
    return 0


# One handler per subcommand: (parsed args, the store) -> exit code.
COMMANDS = {
    "backfill": _backfill,
    "leaderboard": _leaderboard,
    "metrics": _metrics,
    "results": _results,
    "import-legacy": _import_legacy,
    "status": _status,
    "parity": _parity,
    "models": _models,
    "study": _study,
    "trigger": _trigger,
    "job": _job,
    "jobs": _jobs,
    "health": _health,
}

if __name__ == "__main__":
    sys.exit(main())
