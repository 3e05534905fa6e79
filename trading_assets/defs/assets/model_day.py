"""model_day: one trading agent on one trading date.

A run covers a range of partitions (single-run backfills); it walks each model's dates
in order in memory, reading only the state before the range from the store, so a re-run
of one partition is as correct as a full backfill.
"""

import dagster as dg

from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.automation_conditions import NEW_TRADING_DAY
from trading_assets.defs.checks import PARITY_SPEC, log_parity_evaluations, parity_summary_result
from trading_assets.defs.metadata import OWNERS, definition_schema, tags
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
from trading_assets.runs.model_day import RangeOutcome, run_range


@dg.asset(
    partitions_def=model_day_partitions,
    deps=[
        market_prices,
        dg.AssetDep("model_day", partition_mapping=previous_day_of_same_model),
    ],
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[PARITY_SPEC],
    automation_condition=NEW_TRADING_DAY,
    group_name="simulation",
    kinds={"python", "duckdb"},
    owners=OWNERS,
    tags=tags("simulation"),
    # one row per model-day in model_days (orders, holdings and signals hang off it)
    metadata={**definition_schema("model_days"), "dagster/table_name": "duckdb.model_days"},
)
def model_day(
    context: dg.AssetExecutionContext,
    store: StoreResource,
    merge_kernel: MergeKernel,
    llm: LLMResource,
    migration: MigrationResource,
) -> dg.MaterializeResult:
    """Orders, holdings, signals and end-of-day value of each model-day in the range."""
    outcome = run_range(
        store.store(),
        split_keys(context.partition_keys),
        run_id=context.run_id,
        services={"merge_kernel": merge_kernel},
        endpoint_for=llm.endpoint,
        parity=migration.flags().parity_checks,
        after_write=migration.after_write(context.log, context.run_id),
        log=context.log.info,
    )
    for model, outcomes in outcome.parity.items():
        log_parity_evaluations(context, model, outcomes)
    metadata = {
        "models": dg.MetadataValue.md(summary_table(outcome)),
        "partitions": len(context.partition_keys),
        "exchange_holidays": outcome.closed_days,
    }
    if outcome.failures:
        # Keep what succeeded visible: record every stored partition, then fail the step.
        for run in outcome.runs:
            for day in run.completed_dates:
                context.log_event(
                    dg.AssetMaterialization(
                        asset_key=context.asset_key, partition=partition_key(day, run.model)
                    )
                )
        raise dg.Failure(description="\n".join(outcome.failures), metadata=metadata)
    return dg.MaterializeResult(
        metadata=metadata, check_results=[parity_summary_result(outcome.parity)]
    )


def summary_table(outcome: RangeOutcome) -> str:
    """Markdown: one row per model run (range, days stored, last value, LLM lane stats)."""
    lines = ["| model | from | to | days | last value | LLM lane |", "|---|---|---|---|---|---|"]
    for run in outcome.runs:
        dates, last = outcome.ranges[run.model], (run.results[-1] if run.results else None)
        lines.append(
            f"| {run.model} | {dates[0]} | {dates[-1]} | {len(run.completed_dates)} | "
            f"{last.value if last else float('nan'):,.2f} | {run.llm_note} |"
        )
    return "\n".join(lines)
