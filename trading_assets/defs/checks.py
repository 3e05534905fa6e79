"""Asset checks on model_day: legacy parity, one evaluation per partition.

The check runs inside the model_day step (a run covers a range of partitions), so each
partition gets its own evaluation event, and the spec's one required result summarises
the range. Blocking: a parity failure stops downstream assets in the same run, and the
analytics' automation waits for passing checks.
"""

import dagster as dg

from trading_assets.defs.partitions import partition_key
from trading_assets.legacy.parity import CHECK_NAME, ParityOutcome

MODEL_DAY = dg.AssetKey("model_day")
PARITY_SPEC = dg.AssetCheckSpec(
    CHECK_NAME,
    asset=MODEL_DAY,
    blocking=True,
    description="The new store reproduces the imported legacy AI-Trader record of this "
    "model-day: positions, cash (exact), value, status, decision, confidence and error.",
)
MAX_DIFFS_IN_METADATA = 10


def log_parity_evaluations(
    context: dg.AssetExecutionContext, model: str, outcomes: list[ParityOutcome]
) -> None:
    """One evaluation per partition of a model's parity outcomes (recorded with its run)."""
    for outcome in outcomes:
        diffs = [str(d) for d in outcome.diffs[:MAX_DIFFS_IN_METADATA]]
        key = partition_key(outcome.date, model)
        context.log_event(
            dg.AssetCheckEvaluation(
                asset_key=MODEL_DAY,
                check_name=CHECK_NAME,
                passed=outcome.passed,
                severity=dg.AssetCheckSeverity.ERROR,
                partition=key,
                # the model-day in the metadata too: the run's log shows no partition
                metadata={
                    "model_day": str(key),
                    "diffs": dg.MetadataValue.md("\n".join(f"- {d}" for d in diffs))
                    if diffs
                    else 0,
                },
            )
        )


def parity_summary_result(checked: dict[str, list[ParityOutcome]]) -> dg.AssetCheckResult:
    """The one result the spec needs per run: the range's summary."""
    failed = {m: [o for o in outs if not o.passed] for m, outs in checked.items()}
    lines = [
        f"- {m}: {o.date} " + "; ".join(str(d) for d in o.diffs[:3])
        for m, outs in failed.items()
        for o in outs[:MAX_DIFFS_IN_METADATA]
    ]
    n_checked = sum(len(o) for o in checked.values())
    n_failed = sum(len(o) for o in failed.values())
    return dg.AssetCheckResult(
        asset_key=MODEL_DAY,
        check_name=CHECK_NAME,
        passed=n_failed == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "checked_model_days": n_checked,
            "failed_model_days": n_failed,
            "models_with_legacy_record": len(checked),
            "first_failures": dg.MetadataValue.md("\n".join(lines) or "none"),
        },
    )
