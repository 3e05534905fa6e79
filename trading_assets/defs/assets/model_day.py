"""model_day: one trading agent on one trading date.

A run covers a range of partitions (single-run backfills); it walks each model's dates
in order in memory, reading only the state before the range from the store, so a re-run
of one partition is as correct as a full backfill.

Per-partition metadata (Dagster 1.13.27): a MaterializeResult's metadata is copied to
every partition of the range, and `context.add_asset_metadata(..., partition_key=)`
gives each its own but emits them in the range subset's set order (hash-scrambled), so
the UI's "latest materialization" would be a random day. The asset therefore has no
output (`output_required=False`) and logs one `AssetMaterialization(partition=...)` per
model-day itself, sorted by (date, model): one event per partition, the newest last.
The price: an asset materialized in the same run downstream of model_day is skipped
(its Nothing input was never yielded), so the analytics run in their own run (the CLI
and the eager automation do that), and these events are not batched into the output's
event batch (bench/bench_day_metadata.py measures both).
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
from trading_assets.market.calendar import is_trading_day
from trading_assets.runs.model_day import RangeOutcome, day_figures, run_range


@dg.asset(
    partitions_def=model_day_partitions,
    deps=[
        market_prices,
        dg.AssetDep("model_day", partition_mapping=previous_day_of_same_model),
    ],
    backfill_policy=dg.BackfillPolicy.single_run(),
    # no output: the body logs each partition's own materialization (no duplicates)
    output_required=False,
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
):
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
    context.log.info(f"{len(context.partition_keys)} partitions:\n{summary_table(outcome)}")
    # Each partition's materialization carries that day's own figures, logged in date
    # order so the newest day is the asset's latest materialization (see module doc).
    yield from day_materializations(context, outcome, with_closed_days=not outcome.failures)
    if outcome.failures:  # what succeeded stays recorded (above); then the step fails
        raise dg.Failure(
            description="\n".join(outcome.failures),
            metadata={"models": dg.MetadataValue.md(summary_table(outcome))},
        )
    yield parity_summary_result(outcome.parity)


def day_materializations(
    context: dg.AssetExecutionContext, outcome: RangeOutcome, *, with_closed_days: bool
):
    """One AssetMaterialization per stored model-day (and per exchange holiday of the
    range when the run succeeded), ordered by (date, model)."""
    figures = {
        (day, run.model): meta for run in outcome.runs for day, meta in day_figures(run).items()
    }
    by_model = split_keys(context.partition_keys)
    keys = sorted((day, model) for model, days in by_model.items() for day in days)
    for day, model in keys:
        meta = figures.get((day, model))
        if meta is None and with_closed_days and not is_trading_day(day):
            meta = {"date": day.isoformat(), "status": "exchange closed (no trading, no row)"}
        if meta is not None:
            yield dg.AssetMaterialization(
                asset_key=context.asset_key, partition=partition_key(day, model), metadata=meta
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
