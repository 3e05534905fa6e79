"""`trading-assets backfill`: register models, load prices, run model_day over every
model's date range, then the analytics; blocking, with progress.

Two ways to run the model-days, both real Dagster runs (one per model, every model-day a
materialized partition, visible in the UI):
- default: range runs launched by this command, in-process or in N worker processes
  (cli/range_runs.py); done when every run has ended and every partition is materialized;
- `--daemon`: a Dagster asset backfill launched through the GraphQL
  `launchPartitionBackfill` mutation, as the UI does, run by the daemon (started for the
  command if none runs). `launch_backfill` alone is the asynchronous launch.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Sequence

import dagster as dg

from trading_assets.cli.instance import ensure_home, get_instance, graphql, running_daemon
from trading_assets.cli.range_runs import (
    BACKFILL_TAG,
    MODEL_DAY,
    RangeRun,
    default_workers,
    run_ranges,
    start_workers,
)
from trading_assets.config import ModelSpec
from trading_assets.defs.assets.analytics import daily_portfolio, leaderboard, metrics
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.partitions import MODELS_PARTITION, date_partitions_of
from trading_assets.errors import TradingAssetsError
from trading_assets.instance import DAGSTER_EVENT_SETTINGS
from trading_assets.market.calendar import trading_days
from trading_assets.store.analytics import completed_days
from trading_assets.store.results import ResultStore, model_dates

# The partition keys are a literal in the document (a JSON list of strings is a GraphQL
# list literal); everything else is a variable. Why not variables for the keys: a
# backfill can name tens of thousands of keys, over the 128 KiB limit of one
# command-line argument. Why not `partitionsByAssets` ranges: Dagster 1.13.27 fails on a
# range with a dynamic dimension (see bench/README.md, "Dagster defects").
LAUNCH = """
mutation Launch($config: RunConfigData, $tags: [ExecutionTag!], $title: String) {
  launchPartitionBackfill(backfillParams: {
    partitionNames: KEYS, assetSelection: [{path: ["model_day"]}],
    runConfigData: $config, tags: $tags, title: $title
  }) {
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
    daemon: bool = False,
    workers: int | None = None,
) -> dict:
    """Backfill `specs` over [start, end]; return the backfill id, status and timings."""
    t0, started_at = time.monotonic(), time.time()
    instance = get_instance()
    store.register_models(specs)
    materialize_here(instance, store, [market_prices])
    if not daemon:  # after ensure_home: the workers inherit DAGSTER_HOME and the settings;
        # after market_prices: their definitions see the date span it just recorded
        ensure_home()
        start_workers(max(1, min(workers or default_workers(), len(specs))))
    ranges = _model_ranges(store, specs, start, end)
    existing = set(instance.get_dynamic_partitions(MODELS_PARTITION))
    instance.add_dynamic_partitions(
        MODELS_PARTITION, [s.signature for s in specs if s.signature not in existing]
    )
    keys = _partition_keys(store, ranges)
    total = sum(
        len(trading_days(dt.date.fromisoformat(r.first), dt.date.fromisoformat(r.last)))
        for r in ranges
    )
    if daemon:
        backfill_id = launch_backfill(store, ranges, total)
        with running_daemon(instance, _daemon_env(store)) as started:
            echo(
                f"backfill {backfill_id}: {total} model-days over {len(ranges)} models "
                f"({'daemon started' if started else 'using the running daemon'})"
            )
            status = _wait(instance, store, backfill_id, ranges, total, echo, poll_s)
        runs_done = _last_run_end(instance, {"dagster/backfill": backfill_id}, started_at)
    else:
        backfill_id = uuid.uuid4().hex[:8]
        n = max(1, min(workers or default_workers(), len(ranges)))
        echo(
            f"backfill {backfill_id}: {total} model-days over {len(ranges)} models, "
            f"one run per model in {'this process' if n == 1 else f'{n} worker processes'}"
        )
        outcomes = run_ranges(ranges, str(store.path), backfill_id, n, echo)
        runs_done = _last_run_end(instance, {BACKFILL_TAG: backfill_id}, started_at)
        missing = set(keys) - set(instance.get_materialized_partitions(MODEL_DAY))
        if missing:
            echo(f"  {len(missing)} partitions not materialized, e.g. {sorted(missing)[0]}")
        ok = all(o.success for o in outcomes) and not missing
        status = "COMPLETED_SUCCESS" if ok else "COMPLETED_FAILED"
    if status in SUCCESS:
        materialize_here(instance, store, [daily_portfolio, metrics, leaderboard])
    return {
        "backfill_id": backfill_id,
        "status": status,
        "model_days": total,  # trading days x models
        "partitions": len(keys),  # weekday partitions (holidays are no-ops)
        "seconds": time.monotonic() - t0,
        "runs_done_after_seconds": runs_done,
    }


def _model_ranges(store, specs, start, end) -> list[RangeRun]:
    """Each model's weekday partitions between its first and last priced day: exchange
    holidays materialize as no-ops, and a trading day missing from the prices fails
    loudly instead of being skipped."""
    ranges = []
    for spec in specs:
        dates = model_dates(store, spec.signature, start, end)
        if dates:
            ranges.append(RangeRun(spec.signature, dates[0].isoformat(), dates[-1].isoformat()))
    if not ranges:
        raise TradingAssetsError(
            f"no trading day with market data between {start or 'the first day'} and "
            f"{end or 'the last day'}",
            fix="widen --start/--end to days the market data covers",
        )
    return ranges


def _partition_keys(store: ResultStore, ranges: Sequence[RangeRun]) -> list[str]:
    date_partitions = date_partitions_of(store.path)  # as the freshly loaded code sees it
    return [
        f"{d}|{r.model}"
        for r in ranges
        for d in date_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(r.first, r.last))
    ]


def _daemon_env(store: ResultStore) -> dict[str, str]:
    return {"TRADING_ASSETS_STORE": str(store.path), **DAGSTER_EVENT_SETTINGS}


def launch_backfill(store: ResultStore, ranges: Sequence[RangeRun], total: int) -> str:
    """Launch a Dagster asset backfill of the ranges for the daemon; return its id."""
    variables = {
        "config": store_run_config(store),
        "title": f"trading-assets backfill: {len(ranges)} models, {total} model-days",
        "tags": [{"key": "trading_assets/cli", "value": "backfill"}],
    }
    document = LAUNCH.replace("KEYS", json.dumps(_partition_keys(store, ranges)))
    answer = graphql(document, variables, _daemon_env(store))
    launched = (answer.get("data") or {}).get("launchPartitionBackfill") or {}
    if launched.get("__typename") != "LaunchBackfillSuccess":
        raise TradingAssetsError(f"backfill was not launched: {answer}")
    return launched["backfillId"]


def _wait(instance, store, backfill_id, ranges, total, echo, poll_s) -> str:
    """Poll until the daemon marks the backfill done, showing stored model-days."""
    last = None
    while True:
        backfill = instance.get_backfill(backfill_id)
        status = backfill.status.value if backfill else "UNKNOWN"
        line = (
            f"  {status.lower():<18} "
            f"{_completed_days(store, [r.model for r in ranges]):>7}/{total} model-days stored"
        )
        if line != last:
            echo(line)
            last = line
        if status in TERMINAL:
            return status
        time.sleep(poll_s)


def _last_run_end(
    instance: dg.DagsterInstance, tags: dict[str, str], started_at: float
) -> float | None:
    """Seconds from the command's start until the backfill's last run ended: every
    partition is then materialized in Dagster (the daemon marks the backfill itself done
    on its next tick, up to 30 s later)."""
    records = instance.get_run_records(dg.RunsFilter(tags=tags))
    ends = [r.end_time for r in records if r.end_time]
    return max(ends) - started_at if ends else None


def _completed_days(store: ResultStore, models: list[str]) -> int:
    try:
        return completed_days(store, models)
    except TradingAssetsError:
        return 0
