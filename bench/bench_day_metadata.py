"""What each model-day's own metadata costs: one model_day range run, before and after.

- before: the phase-1 asset body (run-level metadata in a `MaterializeResult`; Dagster
  copies it onto one output-derived materialization per partition, batched when
  DAGSTER_EVENT_BATCH_SIZE is set);
- after: the real asset (each partition's own figures set on the output's per-partition
  metadata, dagster_patches/partition_metadata.py, so Dagster still writes one batch).

Both run back to back on a persistent instance in a temporary DAGSTER_HOME (SQLite
event log, or PostgreSQL with --postgres URL), each on a fresh store, with the CLI's
event settings. Prints the run's wall time, materialization events per partition, and
event-log bytes per partition. Figures are noisy on a shared machine: repeat and compare.

    .venv/bin/python bench/bench_day_metadata.py [--days 250] [--models 2] [--postgres URL]
"""

import argparse
import datetime as dt
import os
import tempfile
import time
from pathlib import Path

import dagster as dg

from trading_assets.config import load_config, model_specs
from trading_assets.defs.assets import model_day as asset_module
from trading_assets.defs.definitions import defs
from trading_assets.defs.partitions import MODELS_PARTITION, split_keys
from trading_assets.defs.resources.store import StoreResource
from trading_assets.market.calendar import trading_days
from trading_assets.market.sources import BundledSource
from trading_assets.runs.model_day import run_range
from trading_assets.store.results import ResultStore

AGENTS = [
    "{agent: buy_and_hold}",
    "{agent: sma_crossover, params: {fast: 5, slow: 20, size: 10}}",
    "{agent: bollinger}",
]
START = dt.date(2011, 1, 3)
real = defs.get_assets_def(dg.AssetKey("model_day"))


@dg.asset(
    name="model_day",
    partitions_def=real.partitions_def,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def before(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Phase 1: the run's summary, copied onto every partition's materialization."""
    outcome = run_range(store.store(), split_keys(context.partition_keys), run_id=context.run_id)
    return dg.MaterializeResult(
        metadata={
            "models": dg.MetadataValue.md(asset_module.summary_table(outcome)),
            "partitions": len(context.partition_keys),
            "exchange_holidays": outcome.closed_days,
        }
    )


def one(label: str, asset, home: Path, days: int, models: int, postgres: str | None) -> None:
    names = [f"m{i}" for i in range(models)]
    config = home / "models.yaml"
    lines = ["universe: [AAPL, MSFT]", "models:"]
    lines += [f"  - {{signature: {n}, {AGENTS[i % 3][1:]}" for i, n in enumerate(names)]
    config.write_text("\n".join(lines) + "\n")
    store = ResultStore(home / f"{label}.duckdb")
    store.register_models(model_specs(load_config(config)))
    store.write_prices("bundled", BundledSource().load())
    end = trading_days(START, dt.date(2013, 3, 1))[days - 1]
    instance_home = home / label
    instance_home.mkdir()
    storage = (
        f"storage:\n  postgres:\n    postgres_url: {postgres}\n"
        if postgres
        else f"storage:\n  sqlite:\n    base_dir: {instance_home}\n"
    )
    (instance_home / "dagster.yaml").write_text(storage)
    with dg.DagsterInstance.from_config(str(instance_home)) as instance:
        instance.add_dynamic_partitions(MODELS_PARTITION, names)
        started = time.perf_counter()
        result = dg.materialize(
            [asset],
            instance=instance,
            resources={**defs.resources, "store": StoreResource(path=str(store.path))},
            tags={
                "dagster/asset_partition_range_start": f"{START}|{names[0]}",
                "dagster/asset_partition_range_end": f"{end}|{names[-1]}",
            },
        )
        seconds = time.perf_counter() - started
        records = instance.fetch_materializations(dg.AssetKey("model_day"), limit=10_000)
        partitions = {r.partition_key for r in records.records}
        events = len(records.records)
        size = sum(len(dg.serialize_value(r.event_log_entry)) for r in records.records)
        if postgres:
            instance.wipe()
    assert result.success
    print(
        f"{label:7s} {len(partitions):6d} partitions {seconds:7.2f} s "
        f"{1000 * seconds / len(partitions):6.2f} ms/partition "
        f"{events / len(partitions):.2f} materializations/partition "
        f"{size / len(partitions):7.0f} event bytes/partition"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=250)
    parser.add_argument("--models", type=int, default=2)
    parser.add_argument("--postgres", default=None, help="postgresql://... (a scratch database)")
    args = parser.parse_args()
    for name in [n for n in os.environ if n.startswith("TA_")]:
        del os.environ[name]
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    os.environ.setdefault("DAGSTER_EVENT_BATCH_SIZE", "1000")  # as jobs/instance.py sets them
    print(f"model_day range run: {args.models} models x {args.days} trading days from {START}")
    with tempfile.TemporaryDirectory() as tmp:
        one("before", before, Path(tmp), args.days, args.models, args.postgres)
        one("after", real, Path(tmp), args.days, args.models, args.postgres)


if __name__ == "__main__":
    main()
