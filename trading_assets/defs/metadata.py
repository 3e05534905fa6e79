"""Metadata the UI shows: table schemas and row counts, percent tables, PNG plots, and
the owners and tags of the assets (one home for each, shared by the asset modules)."""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any

import dagster as dg
import pandas as pd

from trading_assets.analytics.metrics import with_percentages
from trading_assets.config import ModelSpec
from trading_assets.store.analytics import migrated_columns, table_shape
from trading_assets.store.results import ResultStore

OWNERS = ["team:quant-analytics"]


def tags(layer: str) -> dict[str, str]:
    """Tags every asset carries: the layer it belongs to and the store it writes."""
    return {"layer": layer, "store": "duckdb"}


def labels(layer: str) -> dict[str, Any]:
    """An asset's group, owners and tags: its layer names the group and the tag
    (`@dg.asset(**labels("analytics"), ...)`)."""
    return {"group_name": layer, "owners": OWNERS, "tags": tags(layer)}


def config_tags(specs: Sequence[ModelSpec]) -> dict[str, str]:
    """Run tags saying which config produced a run's model-days: its model, config_hash
    and flattened params (`trading_assets/param.fast`). A run over several models
    (a range launched by hand across them) names each: `trading_assets/<model>/...`."""
    tags: dict[str, str] = {}
    for spec in specs:
        prefix = "trading_assets/" if len(specs) == 1 else f"trading_assets/{spec.signature}/"
        tags |= {
            f"{prefix}model": spec.signature,
            f"{prefix}agent": spec.agent,
            f"{prefix}config_hash": spec.config_hash,
            **{f"{prefix}param.{k}": str(v) for k, v in spec.flat_params.items()},
        }
    return tags


def column_schema(columns: Iterable[tuple[str, str]]) -> dg.TableSchema:
    return dg.TableSchema(columns=[dg.TableColumn(name=name, type=kind) for name, kind in columns])


def table_metadata(store: ResultStore, table: str) -> dict:
    """`dagster/column_schema` and `dagster/row_count` of a store table, as stored now."""
    columns, rows = table_shape(store, table)
    return {
        "dagster/column_schema": column_schema(columns),
        "dagster/row_count": rows,
        "dagster/table_name": f"{store.backend}.{table}",
    }


def definition_schema(table: str) -> dict:
    """The column schema of a table the migrations create (no store opened at load)."""
    return {"dagster/column_schema": column_schema(migrated_columns(table))}


def percent_md(frame: pd.DataFrame) -> dg.MetadataValue:
    """A markdown table with fractions shown as percentages."""
    if frame.empty:
        return dg.MetadataValue.md("(no rows)")
    return dg.MetadataValue.md(with_percentages(frame).to_markdown(index=False, floatfmt=",.3f"))


def png_md(png: bytes, alt: str) -> str:
    """A PNG inline in markdown (a data URI: the UI's markdown renders it)."""
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
