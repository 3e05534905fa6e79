"""Asset check on model_day: legacy parity, one evaluation per partition compared.

The check runs inside the model_day step (a run covers a range of partitions). Each
model-day with an imported legacy record gets its own evaluation event; a model-day
without one gets none, and a run that compared nothing leaves the planned check
skipped (the spec's result is optional: `can_subset=True` on model_day). So a green
evaluation always means compared and equal. Blocking: a failed evaluation fails the
step after the results are stored, so downstream assets in the same run do not run,
and the analytics' automation skips a failed check.
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
    "model-day: positions, cash (exact), value, status, decision, confidence and error. "
    "Evaluated only on model-days with a legacy record; skipped elsewhere.",
)
MAX_DIFFS_IN_METADATA = 10


def parity_evaluations(model: str, outcomes: list[ParityOutcome]) -> list[dg.AssetCheckEvaluation]:
    """One evaluation per compared partition of a model. The step yields them (not
    `log_event`): only yielded evaluations make a blocking failure fail the step."""
    evaluations = []
    for outcome in outcomes:
        diffs = [str(d) for d in outcome.diffs[:MAX_DIFFS_IN_METADATA]]
        key = partition_key(outcome.date, model)
        evaluations.append(
            dg.AssetCheckEvaluation(
                asset_key=MODEL_DAY,
                check_name=CHECK_NAME,
                passed=outcome.passed,
                severity=dg.AssetCheckSeverity.ERROR,
                blocking=True,
                partition=key,
                description=None if outcome.passed else f"{len(outcome.diffs)} difference(s)",
                # the model-day in the metadata too: the run's log shows no partition
                metadata={
                    "model_day": str(key),
                    "diffs": dg.MetadataValue.md("\n".join(f"- {d}" for d in diffs))
                    if diffs
                    else 0,
                },
            )
        )
    return evaluations
