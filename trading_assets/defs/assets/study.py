"""study: a parameter sweep as one unit, one partition per study.

A model-day partition is right for models a team follows day by day; a sweep of 1,000
trials would be 3.27 million of them. A study is one partition of its own dimension
(`trading-assets study run` registers it and adds the partition); its run simulates
every trial through the same engine and stores every trial's figures and daily returns
(runs/study.py). The materialization shows what an analyst compares: the best trials
with their parameters, a heat map over two parameters, the deflated Sharpe ratio, the
probability of backtest overfitting and the walk-forward folds.
"""

import json

import dagster as dg
import pandas as pd

from trading_assets.analytics.plots import heatmap_png
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.metadata import labels, png_md, table_metadata
from trading_assets.defs.resources.merge_kernel import MergeKernel
from trading_assets.defs.resources.store import StoreResource
from trading_assets.runs.study import StudyResult, run_study
from trading_assets.store.studies import study_spec

STUDIES_PARTITION = "studies"
study_partitions = dg.DynamicPartitionsDefinition(name=STUDIES_PARTITION)
TOP = 20  # trials shown in the UI; every trial is in study_trials


@dg.asset(
    deps=[market_prices],
    partitions_def=study_partitions,
    **labels("studies"),
    kinds={"duckdb", "python"},
)
def study(
    context: dg.AssetExecutionContext, store: StoreResource, merge_kernel: MergeKernel
) -> dg.MaterializeResult:
    """Every trial of one study, its overfitting guards and its walk-forward."""
    spec = study_spec(store.store(), context.partition_key)
    result = run_study(store.store(), spec, services={"merge_kernel": merge_kernel})
    return dg.MaterializeResult(metadata=study_metadata(result, store))


def gridded(result: StudyResult) -> pd.DataFrame:
    """Each trial's figures with one column per parameter that varies across trials."""
    params = pd.DataFrame([json.loads(p) for p in result.figures["params"]])
    varying = [c for c in params if params[c].astype(str).nunique() > 1]
    return pd.concat([result.figures[["trial"]], params[varying], result.figures], axis=1).loc[
        :, lambda f: ~f.columns.duplicated()
    ]


def study_metadata(result: StudyResult, store: StoreResource) -> dict:
    trials = gridded(result)
    varying = [c for c in trials.columns[1:] if c not in result.figures.columns]
    shown = trials[["trial", *varying, "sharpe", "cumulative_return", "max_drawdown"]]
    shown = shown.sort_values("sharpe", ascending=False, na_position="last").head(TOP)
    metadata: dict = {
        "trials": len(result.trials),
        "dropped_by_constraints": result.spec.dropped,
        "best_trial": result.best or "none",
        "deflated_sharpe": _figure(result.deflated_sharpe),
        "pbo": _figure(result.pbo.probability if result.pbo else None),
        "parameters": ", ".join(varying) or "none varies",
        f"top_{TOP}_trials": dg.MetadataValue.md(shown.to_markdown(index=False, floatfmt=".4f")),
        **table_metadata(store.store(), "study_trials"),
    }
    if len(varying) >= 2:
        png = heatmap_png(trials, varying[0], varying[1], "sharpe", f"{result.spec.name}: Sharpe")
        metadata["heatmap_sharpe"] = dg.MetadataValue.md(png_md(png, "Sharpe heat map"))
    if result.walk is not None:
        folds = pd.DataFrame(
            [
                {
                    "in_sample": f"{f.fold.in_sample[0]}..{f.fold.in_sample[1]}",
                    "out_of_sample": f"{f.fold.out_of_sample[0]}..{f.fold.out_of_sample[1]}",
                    "pick": f.pick,
                    "oos_return": f.out_of_sample_return,
                }
                for f in result.walk.folds
            ]
        )
        metadata["walk_forward"] = dg.MetadataValue.md(folds.to_markdown(index=False))
    return metadata


def _figure(value: float | None) -> float | str:
    return "n/a (fewer than 2 complete trials or too few days)" if value is None else value
