"""Asset check on model_day: legacy parity, one evaluation per partition compared.

The check runs inside the model_day step (a run covers a range of partitions). Each
model-day with an imported legacy record gets its own evaluation event; a model-day
without one gets none, and a run that compared nothing leaves the planned check
skipped (the spec's result is optional: `can_subset=True` on model_day). So a green
evaluation always means compared and equal. Blocking: a failed evaluation fails the
step after the results are stored, so downstream assets in the same run do not run,
and the analytics' automation skips a failed check.

The check is partitioned like model_day (`AssetCheckSpec(partitions_def=...)`, preview
in Dagster 1.13), so Dagster keeps a status per model-day: a failed day is red on its
own partition, and the check's summary in the Checks tab is red while any day's latest
evaluation failed. Dagster counts an evaluation as current only when it targets the
partition's latest materialization; so the step records the day's materialization
first and then each evaluation with a pointer to it (`target_materialization_data`:
an evaluation built by hand has none, and would count as stale at once).
"""

from collections.abc import Iterable, Mapping

import dagster as dg

from trading_assets.dagster_patches.check_targets import Target
from trading_assets.dagster_patches.check_targets import (
    latest_materializations as _latest_materializations,
)
from trading_assets.defs.partitions import model_day_partitions, partition_key
from trading_assets.legacy.parity import CHECK_NAME, ParityOutcome

MODEL_DAY = dg.AssetKey("model_day")
PARITY_SPEC = dg.AssetCheckSpec(
    CHECK_NAME,
    asset=MODEL_DAY,
    blocking=True,
    partitions_def=model_day_partitions,
    description="The new store reproduces the imported legacy AI-Trader record of this "
    "model-day: positions, cash (exact), value, status, decision, confidence and error. "
    "Evaluated only on model-days with a legacy record; skipped elsewhere.",
)
MAX_DIFFS_IN_METADATA = 10


def parity_by_partition(parity: Mapping[str, list[ParityOutcome]]) -> dict[str, ParityOutcome]:
    """The run's parity outcomes (by model) keyed by model-day partition."""
    return {
        str(partition_key(o.date, model)): o for model, outcomes in parity.items() for o in outcomes
    }


def parity_metadata(outcome: ParityOutcome) -> dict[str, str]:
    """What the model-day's own page says about its legacy record."""
    if outcome.passed:
        return {CHECK_NAME: "passed: equal to the legacy record"}
    shown = "; ".join(str(d) for d in outcome.diffs[:3])
    more = f" (+{len(outcome.diffs) - 3} more)" if len(outcome.diffs) > 3 else ""
    return {CHECK_NAME: f"FAILED: {len(outcome.diffs)} difference(s): {shown}{more}"}


def parity_evaluations(
    compared: Mapping[str, ParityOutcome], targets: Mapping[str, Target]
) -> list[dg.AssetCheckEvaluation]:
    """One evaluation per compared partition, each pointing at the partition's
    materialization in `targets`. The step yields them (not `log_event`): only yielded
    evaluations make a blocking failure fail the step."""
    evaluations = []
    for key, outcome in sorted(compared.items()):
        diffs = [str(d) for d in outcome.diffs[:MAX_DIFFS_IN_METADATA]]
        evaluations.append(
            dg.AssetCheckEvaluation(
                asset_key=MODEL_DAY,
                check_name=CHECK_NAME,
                passed=outcome.passed,
                severity=dg.AssetCheckSeverity.ERROR,
                blocking=True,
                partition=key,
                target_materialization_data=targets.get(key),
                description=None if outcome.passed else f"{len(outcome.diffs)} difference(s)",
                # the model-day in the metadata too: the run's log shows no partition
                metadata={
                    "model_day": key,
                    "differences": len(outcome.diffs),
                    "diffs": dg.MetadataValue.md("\n".join(f"- {d}" for d in diffs))
                    if diffs
                    else "none",
                },
            )
        )
    return evaluations


def latest_materializations(instance: dg.DagsterInstance, keys: Iterable[str]) -> dict[str, Target]:
    """Each model_day partition's latest materialization (what an evaluation targets)."""
    return _latest_materializations(instance, MODEL_DAY, keys)
