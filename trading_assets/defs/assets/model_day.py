"""model_day: one trading agent on one trading date.

A run covers a range of partitions (single-run backfills); it walks each model's dates
in order in memory, reading only the state before the range from the store, so a re-run
of one partition is as correct as a full backfill.

Per-partition metadata (Dagster 1.13.27): a MaterializeResult's metadata is copied to
every partition of the range, so each model-day's own figures go where
`context.add_asset_metadata(..., partition_key=)` puts them
(`dagster_patches/partition_metadata.py`: the same, without its per-call walk of the
whole range). Dagster then still writes one
materialization per partition in one event batch (batched storage: 0.25 ms an event),
where materializations logged from the body would be written one by one. Dagster emits
the batch in set order; the embedded event-log storage writes it in partition-key order
(date first), so the UI's "latest materialization" is the latest day.
"""

from collections.abc import Iterator

import dagster as dg

from trading_assets.dagster_patches.partition_metadata import add_partition_metadata
from trading_assets.defs.assets.documents import documents
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.automation_conditions import NEW_TRADING_DAY
from trading_assets.defs.checks import (
    PARITY_SPEC,
    latest_materializations,
    parity_by_partition,
    parity_evaluations,
    parity_metadata,
)
from trading_assets.defs.metadata import config_tags, definition_schema, labels
from trading_assets.defs.partitions import (
    key_date,
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

CLOSED = {"status": "exchange closed (no trading, no row)"}


# A multi_asset only for `can_subset=True`: it makes the legacy_parity check's output
# optional (an @asset's check specs must each yield a result every run). A run with no
# legacy day to compare then records no evaluation, and Dagster shows the planned check
# as skipped, never as a vacuous pass.
@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "model_day",
            deps=[
                market_prices,
                documents,  # llm_trader's get_information reads them (all of them, each day)
                dg.AssetDep("model_day", partition_mapping=previous_day_of_same_model),
            ],
            automation_condition=NEW_TRADING_DAY,
            **labels("simulation"),
            kinds={"python", "duckdb"},
            description="Orders, holdings, signals and end-of-day value of each model-day.",
            # one row per model-day in model_days (orders, holdings and signals hang off it)
            metadata={
                **definition_schema("model_days"),
                "dagster/table_name": "duckdb.model_days",
            },
        )
    ],
    partitions_def=model_day_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    check_specs=[PARITY_SPEC],
    can_subset=True,
    name="model_day",
)
def model_day(
    context: dg.AssetExecutionContext,
    store: StoreResource,
    merge_kernel: MergeKernel,
    llm: LLMResource,
    migration: MigrationResource,
) -> Iterator[dg.MaterializeResult | dg.AssetMaterialization | dg.AssetCheckEvaluation]:
    """Orders, holdings, signals and end-of-day value of each model-day in the range."""
    outcome = run_range(
        store.store(report=context.log.info),  # waiting for a busy store becomes log lines
        split_keys(context.partition_keys),
        run_id=context.run_id,
        services={"merge_kernel": merge_kernel},
        endpoint_for=llm.endpoint,
        parity=migration.flags().parity_checks,
        after_write=migration.after_write(context.log, context.run_id),
        log=context.log.info,
    )
    # What goes to the instance passes the run's scrub (runs/model_day.py): the failures
    # and run_range's log lines are scrubbed there, the summary and figures here.
    summary = outcome.scrub(summary_table(outcome))
    context.log.info(f"{len(context.partition_keys)} partitions:\n{summary}")
    # the run says which config produced it, however it was launched (CLI, sensor, UI)
    run_tags = config_tags([r.spec for r in outcome.runs if r.spec is not None])
    if run_tags:
        context.instance.add_run_tags(context.run_id, run_tags)
    figures = outcome.scrub(
        {
            # a MetadataValue is not walked by the scrub: its text is scrubbed first
            partition_key(day, run.model): meta
            | _transcript(outcome.scrub(run.transcripts.get(day)))
            for run in outcome.runs
            for day, meta in day_figures(run).items()
        }
    )
    compared = parity_by_partition(outcome.parity)
    for key, parity in compared.items():
        if key in figures:  # the day's own page says first whether it matched its legacy record
            figures[key] = {**parity_metadata(parity), **figures[key]}
    if outcome.failures:
        # Keep what succeeded visible: record every stored partition, then fail the step.
        for key, meta in sorted(figures.items(), key=lambda item: str(item[0])):
            yield dg.AssetMaterialization(asset_key=context.asset_key, partition=key, metadata=meta)
        yield from parity_evaluations(compared, latest_materializations(context.instance, compared))
        raise dg.Failure(
            description="\n".join(outcome.failures),
            metadata={"models": dg.MetadataValue.md(summary)},
        )
    for key in context.partition_keys:
        if key not in figures and not is_trading_day(key_date(key)):
            figures[key] = {"date": key_date(key).isoformat(), **CLOSED}
    add_partition_metadata(context, context.asset_key, figures)
    # yielded, not returned: with two outputs a returned NamedTuple reads as a tuple of them
    yield dg.MaterializeResult(asset_key=context.asset_key)
    # after the materializations are stored: each evaluation targets its day's (checks.py)
    yield from parity_evaluations(compared, latest_materializations(context.instance, compared))


def _transcript(markdown: str | None) -> dict:
    """An llm_trader day's conversation, readable on the model-day's page."""
    return {} if markdown is None else {"transcript": dg.MetadataValue.md(markdown)}


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
