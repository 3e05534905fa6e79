"""study: a parameter sweep as one unit, one partition per study.

A model-day partition is right for models a team follows day by day; a sweep of 1,000
trials would be 3.27 million of them. A study is one partition of its own dimension
(`trading-assets study run` registers it and adds the partition); its run simulates
every trial through the same engine and stores every trial's figures and daily returns
(runs/study.py). The materialization shows what an analyst compares: the best trials
with their parameters, a heat map over two parameters, the deflated Sharpe ratio, the
probability of backtest overfitting and the walk-forward folds.
"""

import enum
import json

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

from trading_assets.analytics.plots import heatmap_png, stability_png
from trading_assets.config import StudySpec
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.metadata import labels, png_md, table_metadata, tags
from trading_assets.defs.resources.merge_kernel import MergeKernel
from trading_assets.defs.resources.store import StoreResource
from trading_assets.runs.study import (
    STUDY_RISK_FREE,
    StudyResult,
    Trial,
    run_chunk,
    store_study,
)
from trading_assets.store.studies import study_spec

STUDIES_PARTITION = "studies"
study_partitions = dg.DynamicPartitionsDefinition(name=STUDIES_PARTITION)
TOP = 20  # trials shown as markdown; the sortable table has every trial (up to TABLE_ROWS)
TABLE_ROWS = 1000  # rows of the sortable trials table; every trial is in study_trials
STABILITY_METRICS = ["sharpe", "cumulative_return"]
STUDY_IO = "study_io_manager"  # the chunks' results between steps (defs/study_job.py)


class StudyChunks(dg.Config):
    """How many trials one step simulates. Fewer per chunk spreads a study over more
    processes or hosts (the job's executor) and makes a retry redo less."""

    trials_per_chunk: int = Field(default=50, ge=1)


@dg.op(
    ins={"prices": dg.In(dg.Nothing)},
    out={
        "spec": dg.Out(str, io_manager_key=STUDY_IO),
        "chunks": dg.DynamicOut(tuple, io_manager_key=STUDY_IO),
    },
    tags=tags("studies"),
)
def plan_study(context: dg.OpExecutionContext, config: StudyChunks, store: StoreResource):
    """The study's spec (read once, so every chunk sees the same; as JSON, which the IO
    manager pickles) and its trials in chunks of their places in the spec."""
    spec = study_spec(store.store(), context.partition_key)
    yield dg.Output(spec.model_dump_json(), "spec")
    size = config.trials_per_chunk
    for first in range(0, len(spec.trials), size):
        chunk = tuple(range(first, min(first + size, len(spec.trials))))
        yield dg.DynamicOutput(
            chunk, output_name="chunks", mapping_key=f"trials_{chunk[0]}_{chunk[-1]}"
        )


@dg.op(tags=tags("studies"), out=dg.Out(list, io_manager_key=STUDY_IO))
def run_trials(spec: str, chunk: tuple, store: StoreResource, merge_kernel: MergeKernel) -> list:
    """One chunk of trials through the engine, a step of its own; its results go to the
    collect step through the IO manager (without their specs, which the spec holds)."""
    study = StudySpec.model_validate_json(spec)
    trials = run_chunk(store.store(), study, chunk, services={"merge_kernel": merge_kernel})
    return [
        (i, t.returns, t.values, t.filled_orders, t.error)
        for i, t in zip(chunk, trials, strict=True)
    ]


@dg.op(tags=tags("studies"))
def collect_study(
    context: dg.OpExecutionContext, spec: str, chunks: list, store: StoreResource
) -> None:
    """Every trial stored with the guards and walk-forward over all of them, once every
    chunk is done (the guards need every trial)."""
    study = StudySpec.model_validate_json(spec)
    done = sorted((row for chunk in chunks for row in chunk), key=lambda row: row[0])
    trials = [Trial(study.trials[i], *rest) for i, *rest in done]
    result = store_study(store.store(), study, trials)
    context.add_output_metadata(study_metadata(result, store))


@dg.graph_asset(
    ins={"prices": dg.AssetIn(key=market_prices.key, dagster_type=dg.Nothing)},
    partitions_def=study_partitions,
    **labels("studies"),
    kinds={"duckdb", "python"},
)
def study(prices) -> None:
    """Every trial of one study, its overfitting guards and its walk-forward."""
    spec, chunks = plan_study(prices)
    return collect_study(spec, chunks.map(lambda chunk: run_trials(spec, chunk)).collect())


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
        # what every Sharpe ratio shown here, and the guards, are measured against
        "risk_free_rate": STUDY_RISK_FREE,
        "parameters": ", ".join(varying) or "none varies",
        f"top_{TOP}_trials": dg.MetadataValue.md(shown.to_markdown(index=False, floatfmt=".4f")),
        "trials_table": trials_table(trials, varying),
        **table_metadata(store.store(), "study_trials"),
    }
    if varying:
        png = stability_png(trials, varying, STABILITY_METRICS, f"{result.spec.name}: stability")
        metadata["stability"] = dg.MetadataValue.md(png_md(png, "Parameter stability"))
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


TABLE_FIGURES = ["sharpe", "cumulative_return", "annual_return", "max_drawdown", "calmar"]
TABLE_FIGURES += ["win_rate", "final_value", "filled_orders", "status"]


def trials_table(trials: pd.DataFrame, varying: list[str]) -> dg.MetadataValue:
    """Every trial (up to TABLE_ROWS, best Sharpe first) with its varying parameters as
    columns: a table the UI sorts by any column."""
    frame = trials[["trial", *varying, *TABLE_FIGURES]]
    frame = frame.sort_values("sharpe", ascending=False, na_position="last").head(TABLE_ROWS)
    # as the top-20 markdown shows them (study_trials keeps every digit)
    frame = frame.round({c: 2 if c == "final_value" else 4 for c in TABLE_FIGURES})
    schema = dg.TableSchema(
        columns=[dg.TableColumn(name=c, type=_column_type(frame[c])) for c in frame.columns]
    )
    records = [
        dg.TableRecord({k: _cell(v) for k, v in row.items()})
        for row in frame.to_dict(orient="records")
    ]
    return dg.MetadataValue.table(records, schema=schema)


def _column_type(column: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(column):
        return "bool"
    if pd.api.types.is_integer_dtype(column):
        return "int"
    return "float" if pd.api.types.is_float_dtype(column) else "string"


def _cell(value):
    """A table cell Dagster serializes: numpy scalars as Python ones, NaN as empty, a
    vocabulary enum (a status) as its word."""
    if isinstance(value, enum.Enum):
        return str(value.value)
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.integer | np.bool_):
        return value.item()
    return value if value is None or isinstance(value, int | str | bool) else str(value)


def _figure(value: float | None) -> float | str:
    # 4 places, as the trials are shown (studies keeps every digit)
    return (
        "n/a (fewer than 2 complete trials or too few days)" if value is None else round(value, 4)
    )
