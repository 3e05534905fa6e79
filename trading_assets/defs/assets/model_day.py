"""model_day: one trading agent on one trading date.

A run covers a range of partitions (single-run backfills); it walks each model's dates
in order in memory, reading only the state before the range from the store, so a re-run
of one partition is as correct as a full backfill.
"""

import dagster as dg

from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.automation_conditions import NEW_TRADING_DAY
from trading_assets.defs.checks import (
    PARITY_SPEC,
    check_legacy_parity,
    has_legacy_record,
    parity_summary_result,
)
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
from trading_assets.errors import TradingAssetsError
from trading_assets.market.calendar import is_trading_day


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
    flags = migration.flags()
    histories: dict = {}
    failures, summary, parity = [], [], {}
    closed_days, runs = 0, []
    for model, keyed_dates in split_keys(context.partition_keys).items():
        dates = [d for d in keyed_dates if is_trading_day(d)]
        closed_days += len(keyed_dates) - len(dates)
        if not dates:  # only exchange holidays in this range: nothing trades
            continue
        try:
            run, llm_note = _run_one(
                context, result_store, model, dates, histories, merge_kernel, llm, migration
            )
        except TradingAssetsError as exc:  # this model's chain cannot start; others go on
            failures.append(f"{model}: {type(exc).__name__}: {exc}")
            continue
        runs.append(run)
        done, last = run.completed_dates, (run.results[-1] if run.results else None)
        summary.append(
            f"| {model} | {dates[0]} | {dates[-1]} | {len(done)} | "
            f"{last.value if last else float('nan'):,.2f} | {llm_note} |"
        )
        context.log.info(f"{model}: {len(done)}/{len(dates)} days from {dates[0]} to {dates[-1]}")
        if flags.parity_checks and has_legacy_record(result_store, model):
            parity[model] = check_legacy_parity(context, result_store, model, dates)
        if run.failure is not None:
            failures.append(f"{model}: {run.failure.date} failed: {run.failure.error}")
    metadata = {
        "models": dg.MetadataValue.md(
            "| model | from | to | days | last value | LLM lane |\n|---|---|---|---|---|---|\n"
            + "\n".join(summary)
        ),
        "partitions": len(context.partition_keys),
        "exchange_holidays": closed_days,  # weekday partitions on which XNYS was closed
    }
    if failures:
        # Keep what succeeded visible: record every stored partition, then fail the step.
        for run in runs:
            for day in run.completed_dates:
                context.log_event(
                    dg.AssetMaterialization(
                        asset_key=context.asset_key, partition=partition_key(day, run.model)
                    )
                )
        raise dg.Failure(description="\n".join(failures), metadata=metadata)
    return dg.MaterializeResult(metadata=metadata, check_results=[parity_summary_result(parity)])


def _run_one(context, result_store, model, dates, histories, merge_kernel, llm, migration):
    services = {"merge_kernel": merge_kernel, **llm.services(model, result_store)}
    lane = services.get("llm_lane")
    try:
        run = run_model(
            result_store,
            model,
            dates,
            run_id=context.run_id,
            services=services,
            histories=histories,
            after_write=migration.after_write(context.log, context.run_id),
        )
    finally:
        if lane is not None:
            lane.close()
    return run, (f"{lane.stats}" if lane is not None else "no LLM lane")
