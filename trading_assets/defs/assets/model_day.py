"""model_day: one trading agent on one trading date.

A run covers a range of partitions (single-run backfills); it walks each model's dates
in order in memory, reading only the state before the range from the store, so a re-run
of one partition is as correct as a full backfill.
"""

import dagster as dg

from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.partitions import (
    model_day_partitions,
    partition_key,
    previous_day_of_same_model,
    split_keys,
)
from trading_assets.defs.resources.llm import LLMResource
from trading_assets.defs.resources.merge_kernel import MergeKernel
from trading_assets.defs.resources.migration import MigrationResource
from trading_assets.defs.resources.store import StoreResource
from trading_assets.engine.run import run_model


@dg.asset(
    partitions_def=model_day_partitions,
    deps=[
        market_prices,
        dg.AssetDep("model_day", partition_mapping=previous_day_of_same_model),
    ],
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="simulation",
    kinds={"python", "duckdb"},
)
def model_day(
    context: dg.AssetExecutionContext,
    store: StoreResource,
    merge_kernel: MergeKernel,
    llm: LLMResource,
    migration: MigrationResource,
) -> dg.MaterializeResult:
    """Orders, holdings, signals and end-of-day value of each model-day in the range."""
    result_store = store.store()
    histories: dict = {}
    failures, summary = [], []
    for model, dates in split_keys(context.partition_keys).items():
        services = {"merge_kernel": merge_kernel, **llm.services(model, result_store)}
        run = run_model(
            result_store,
            model,
            dates,
            run_id=context.run_id,
            services=services,
            histories=histories,
            after_write=migration.after_write(context.log),
        )
        done = run.completed_dates
        last = run.results[-1] if run.results else None
        summary.append(
            f"| {model} | {dates[0]} | {dates[-1]} | {len(done)} | "
            f"{last.value if last else float('nan'):,.2f} |"
        )
        context.log.info(f"{model}: {len(done)}/{len(dates)} days from {dates[0]} to {dates[-1]}")
        if run.failure is not None:
            failures.append((model, run))
    metadata = {
        "models": dg.MetadataValue.md(
            "| model | from | to | days | last value |\n|---|---|---|---|---|\n"
            + "\n".join(summary)
        ),
        "partitions": len(context.partition_keys),
    }
    if failures:
        # Keep what succeeded visible: record the completed partitions, then fail the step.
        for model, run in failures:
            for day in run.completed_dates:
                context.log_event(
                    dg.AssetMaterialization(
                        asset_key=context.asset_key, partition=partition_key(day, model)
                    )
                )
        lines = [f"{m}: {r.failure.date} failed: {r.failure.error}" for m, r in failures]
        raise dg.Failure(description="\n".join(lines), metadata=metadata)
    return dg.MaterializeResult(metadata=metadata)
