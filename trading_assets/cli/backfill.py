"""`trading-assets backfill`: register models, load prices, launch a Dagster asset
backfill of model_day + daily_portfolio + leaderboard, and wait for it, showing progress."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from trading_assets.cli.instance import get_instance, graphql, running_daemon
from trading_assets.config import ModelSpec
from trading_assets.defs.partitions import MODELS_PARTITION
from trading_assets.engine.run import model_dates
from trading_assets.errors import TradingAssetsError
from trading_assets.store.results import ResultStore

LAUNCH = """
mutation Launch($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
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
TERMINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def store_run_config(store: ResultStore) -> dict:
    return {"resources": {"store": {"config": {"path": str(store.path)}}}}


def load_prices(instance: dg.DagsterInstance, store: ResultStore) -> None:
    """Materialize market_prices in this process, recorded in the instance like any run."""
    from trading_assets.defs.assets.market import market_prices
    from trading_assets.defs.resources.store import StoreResource

    result = dg.materialize(
        [market_prices],
        instance=instance,
        resources={"store": StoreResource(path=str(store.path))},
        tags={"trading_assets/cli": "backfill"},
    )
    if not result.success:
        raise TradingAssetsError("market_prices failed", fix="see the run's logs in the UI")


def run_backfill(
    store: ResultStore,
    specs: Sequence[ModelSpec],
    start: dt.date | None,
    end: dt.date | None,
    echo=print,
    poll_s: float = 2.0,
) -> dict:
    """Backfill `specs` over [start, end]; return the backfill id, status and timings."""
    t0 = time.monotonic()
    instance = get_instance()
    store.register_models(specs)
    load_prices(instance, store)
    keys, per_model = [], {}
    for spec in specs:
        dates = model_dates(store, spec.signature, start, end)
        per_model[spec.signature] = len(dates)
        keys += [f"{d.isoformat()}|{spec.signature}" for d in dates]
    if not keys:
        raise TradingAssetsError(
            f"no trading day with market data between {start or 'the first day'} and "
            f"{end or 'the last day'}",
            fix="widen --start/--end to days the market data covers",
        )
    existing = set(instance.get_dynamic_partitions(MODELS_PARTITION))
    instance.add_dynamic_partitions(
        MODELS_PARTITION, [s.signature for s in specs if s.signature not in existing]
    )
    env = {"TRADING_ASSETS_STORE": str(store.path)}
    params = {
        "partitionNames": keys,
        "assetSelection": [{"path": ["model_day"]}, {"path": ["daily_portfolio"]}],
        "runConfigData": store_run_config(store),
        "title": f"trading-assets backfill: {len(specs)} models, {len(keys)} model-days",
        "tags": [{"key": "trading_assets/cli", "value": "backfill"}],
    }
    with running_daemon(instance, env) as started:
        answer = graphql(LAUNCH, {"params": params}, env)
        launched = answer.get("data", {}).get("launchPartitionBackfill", {})
        if launched.get("__typename") != "LaunchBackfillSuccess":
            raise TradingAssetsError(f"backfill was not launched: {answer}")
        backfill_id = launched["backfillId"]
        echo(
            f"backfill {backfill_id}: {len(keys)} model-days over {len(specs)} models "
            f"({'daemon started' if started else 'using the running daemon'})"
        )
        status = _wait(instance, store, backfill_id, per_model, echo, poll_s)
    return {
        "backfill_id": backfill_id,
        "status": status,
        "model_days": len(keys),
        "seconds": time.monotonic() - t0,
    }


def _wait(instance, store, backfill_id, per_model, echo, poll_s) -> str:
    last = None
    while True:
        backfill = instance.get_backfill(backfill_id)
        status = backfill.status.value if backfill else "UNKNOWN"
        done = _completed_days(store, list(per_model))
        line = f"  {status.lower():<18} {done:>7}/{sum(per_model.values())} model-days stored"
        if line != last:
            echo(line)
            last = line
        if status in TERMINAL:
            return status
        time.sleep(poll_s)


def _completed_days(store: ResultStore, models: list[str]) -> int:
    try:
        frame = store.query(
            "SELECT count(*) AS n FROM model_days WHERE list_contains(?, model) "
            "AND status <> 'failed'",
            [models],
        )
        return int(frame["n"].iloc[0])
    except TradingAssetsError:
        return 0


def default_store() -> Path:
    import os

    return Path(os.environ.get("TRADING_ASSETS_STORE") or ".data/trading_assets.duckdb")
