"""`trading-assets models [list|enable|disable|remove]`: manage what is registered.

disable keeps a model's rows but leaves it out of schedules, sensors and backfills;
remove deletes every row naming it (it asks for --yes first) and says how many.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the parser loads this module: the store's imports wait for the command
    from trading_assets.store.results import ResultStore


def add_parser(sub) -> None:
    p = sub.add_parser("models", help="list, enable, disable or remove registered models")
    p.add_argument(
        "action", choices=["list", "enable", "disable", "remove"], nargs="?", default="list"
    )
    p.add_argument("model", nargs="?", help="the model's signature (not for list)")
    p.add_argument("--yes", action="store_true", help="remove: really delete its rows")
    p.add_argument("--format", choices=["table", "json", "csv"], default="table")


def models(args: argparse.Namespace, store: ResultStore) -> int:
    from trading_assets.cli.output import render
    from trading_assets.store.models import list_models, remove_model, set_enabled

    if args.action == "list":
        print(render(list_models(store), args.format))
        return 0
    if not args.model:
        print(f"error: models {args.action} needs a model signature", file=sys.stderr)
        return 2
    if args.action in ("enable", "disable"):
        set_enabled(store, args.model, args.action == "enable")
        return _say(
            args,
            {"model": args.model, "enabled": args.action == "enable"},
            f"{args.model}: {args.action}d",
        )
    if not args.yes:
        print(
            f"error: models remove deletes every stored row of {args.model}; "
            f"re-run with --yes to confirm (or `models disable {args.model}` to keep them)",
            file=sys.stderr,
        )
        return 2
    deleted = remove_model(store, args.model)
    detail = ", ".join(f"{table} {n}" for table, n in sorted(deleted.items()))
    return _say(
        args,
        {"model": args.model, "removed_rows": sum(deleted.values()), "tables": deleted},
        f"{args.model}: removed {sum(deleted.values())} rows ({detail})",
    )


def _say(args: argparse.Namespace, payload: dict, line: str) -> int:
    print(json.dumps(payload) if args.format == "json" else line)
    return 0
