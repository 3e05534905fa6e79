"""`trading-assets backfill`: register models, load prices, launch a Dagster asset
backfill of model_day + daily_portfolio + leaderboard, and wait for it, showing progress."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from trading_assets.cli.instance import (
    DAGSTER_EVENT_SETTINGS,
    get_instance,
    graphql,
    literal,
    running_daemon,
)
from trading_assets.config import ModelSpec
from trading_assets.defs.assets.analytics import daily_portfolio, leaderboard, metrics
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.partitions import MODELS_PARTITION, date_partitions_of
from trading_assets.errors import TradingAssetsError
from trading_assets.market.calendar import trading_days
from trading_assets.store.analytics import completed_days
from trading_assets.store.results import ResultStore, model_dates

LAUNCH = """
mutation Launch {
  launchPartitionBackfill(backfillParams: PARAMS) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { invalidOutputName }
    ... on UnauthorizedError { message }
    ... on PartitionKeysNotFoundError { message }
  }
}
"""
BACKFILL_ASSETS = ("model_day",)
SUCCESS = {"COMPLETED", "COMPLETED_SUCCESS"}
TERMINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def store_run_config(store: ResultStore) -> dict:
    return {"resources": {"store": {"config": {"path": str(store.path)}}}}


def materialize_here(instance: dg.DagsterInstance, store: ResultStore, assets: list) -> None:
    """Materialize cheap unpartitioned assets in this process; the run is recorded in the
    instance like any other (visible in the UI)."""
    from trading_assets.defs.resources.store import StoreResource

    result = dg.materialize(
        assets,
        instance=instance,
        resources={"store": StoreResource(path=str(store.path))},
        tags={"trading_assets/cli": "backfill"},
        # the run's events are in the instance (and the UI); keep the terminal readable
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    if not result.success:
        names = ", ".join(a.key.to_user_string() for a in assets)
        raise TradingAssetsError(f"{names} failed", fix="see the run's logs in the UI")


def run_backfill(
    store: ResultStore,
    specs: Sequence[ModelSpec],
    start: dt.date | None,
    end: dt.date | None,
    echo=print,
    poll_s: float = 2.0,
) -> dict:
    """Backfill `specs` over [start, end]; return the backfill id, status and timings."""
    t0, started_at = time.monotonic(), time.time()
    instance = get_instance()
    store.register_models(specs)
    materialize_here(instance, store, [market_prices])
    keys, per_model = [], {}
    date_partitions = date_partitions_of(store.path)  # as the freshly loaded code sees it
    for spec in specs:
        dates = model_dates(store, spec.signature, start, end)
        if dates:
            # every weekday partition between the first and last priced day: exchange
            # holidays materialize as no-ops, and a trading day missing from the prices
            # fails loudly instead of being skipped
            per_model[spec.signature] = len(trading_days(dates[0], dates[-1]))
            span = dg.PartitionKeyRange(dates[0].isoformat(), dates[-1].isoformat())
            keys += [
                f"{d}|{spec.signature}" for d in date_partitions.get_partition_keys_in_range(span)
            ]
    if not keys:
        raise TradingAssetsError(
            f"no trading day with market data between {start or 'the first day'} and "
            f"{end or 'the last day'}",
            fix="widen --start/--end to days the market data covers",
        )
    total = sum(per_model.values())
    existing = set(instance.get_dynamic_partitions(MODELS_PARTITION))
    instance.add_dynamic_partitions(
        MODELS_PARTITION, [s.signature for s in specs if s.signature not in existing]
    )
    env = {"TRADING_ASSETS_STORE": str(store.path), **DAGSTER_EVENT_SETTINGS}
    params = {
        "partitionNames": keys,
        "assetSelection": [{"path": [asset]} for asset in BACKFILL_ASSETS],
        "runConfigData": store_run_config(store),
        "title": f"trading-assets backfill: {len(per_model)} models, {total} model-days",
        "tags": [{"key": "trading_assets/cli", "value": "backfill"}],
    }
    # Launch first, then start a daemon if none runs: its first tick then finds the
    # backfill at once instead of 30 s later.
    answer = graphql(LAUNCH.replace("PARAMS", literal(params)), env)
    launched = answer.get("data", {}).get("launchPartitionBackfill", {})
    if launched.get("__typename") != "LaunchBackfillSuccess":
        raise TradingAssetsError(f"backfill was not launched: {answer}")
    backfill_id = launched["backfillId"]
    with running_daemon(instance, env) as started:
        echo(
            f"backfill {backfill_id}: {total} model-days over {len(per_model)} models "
            f"({'daemon started' if started else 'using the running daemon'})"
        )
        status = _wait(instance, store, backfill_id, per_model, echo, poll_s)
    if status in SUCCESS:
        materialize_here(instance, store, [daily_portfolio, metrics, leaderboard])
    return {
        "backfill_id": backfill_id,
        "status": status,
        "model_days": total,  # trading days x models
        "partitions": len(keys),  # weekday partitions (holidays are no-ops)
        "seconds": time.monotonic() - t0,
        "runs_done_after_seconds": _last_run_end(instance, backfill_id, started_at),
    }


def _wait(instance, store, backfill_id, per_model, echo, poll_s) -> str:
    """Poll until the daemon marks the backfill done, showing stored model-days."""
    last, total = None, sum(per_model.values())
    while True:
        backfill = instance.get_backfill(backfill_id)
        status = backfill.status.value if backfill else "UNKNOWN"
        line = (
            f"  {status.lower():<18} {_completed_days(store, list(per_model)):>7}/{total} "
            "model-days stored"
        )
        if line != last:
            echo(line)
            last = line
        if status in TERMINAL:
            return status
        time.sleep(poll_s)


def _last_run_end(
    instance: dg.DagsterInstance, backfill_id: str, started_at: float
) -> float | None:
    """Seconds from the command's start until the backfill's last run ended: every
    partition is then materialized in Dagster (the daemon marks the backfill itself done
    on its next tick, up to 30 s later)."""
    records = instance.get_run_records(dg.RunsFilter(tags={"dagster/backfill": backfill_id}))
    ends = [r.end_time for r in records if r.end_time]
    return max(ends) - started_at if ends else None


def _completed_days(store: ResultStore, models: list[str]) -> int:
    try:
        return completed_days(store, models)
    except TradingAssetsError:
        return 0


def default_store() -> Path:
    import os

    from trading_assets.vocab import DEFAULT_STORE_PATH, STORE_ENV

    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE_PATH)
