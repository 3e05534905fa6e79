"""What is registered: list, disable and remove models, and the one-config chain rule.

A disabled model keeps its rows, but schedules, sensors and backfills leave it out. A
removed model loses every row that names it (results, legacy record, parity, analytics);
LLM answers stay, as they are keyed by endpoint, not by model.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import duckdb
import pandas as pd

from trading_assets.config import ModelSpec
from trading_assets.errors import StoreError
from trading_assets.store.metrics import expand_params
from trading_assets.store.results import ResultStore, read_spec

MODEL_COLUMNS = [
    "model",
    "agent",
    "enabled",
    "status",
    "config_hash",
    "days",
    "failed_days",
    "first_date",
    "last_date",
]
# tables whose `model` column is not a model signature
_NOT_BY_MODEL = ("llm_cache",)


class ModelDisabled(StoreError):
    """The model is registered but disabled: runs leave it out."""


@dataclass(frozen=True)
class ChainConflict:
    """Stored days of a model made with another config than the one about to run."""

    model: str
    other_hash: str
    first: dt.date  # the first stored day with the other config
    last: dt.date

    def error(self, new_hash: str) -> StoreError:
        return StoreError(
            f"model {self.model!r} has days stored with config {self.other_hash} from "
            f"{self.first} to {self.last}; this config is {new_hash}, and one chain holds "
            "one config",
            where=f"model {self.model}",
            fix=f"re-simulate from there with --start {self.first} (and no --end before "
            f"{self.last}), or give the changed config a new signature",
        )


def list_models(store: ResultStore) -> pd.DataFrame:
    """One row per registered model: enabled, last day's status, config hash, days stored,
    then one column per flattened parameter (`fast`, `slow`, `size`, ...)."""
    with store.connect() as con:
        frame = con.execute(
            """
            SELECT m.signature AS model, m.agent, m.spec, coalesce(m.enabled, true) AS enabled,
                   coalesce(arg_max(d.status, d.date), 'not run') AS status, m.config_hash,
                   count(d.date) AS days,
                   count(d.date) FILTER (WHERE d.status = 'failed') AS failed_days,
                   min(d.date) AS first_date, max(d.date) AS last_date
            FROM models m LEFT JOIN model_days d ON d.model = m.signature
            GROUP BY ALL ORDER BY model
            """
        ).df()
    frame["params"] = [
        json.dumps(ModelSpec.model_validate_json(spec).flat_params) for spec in frame["spec"]
    ]
    return expand_params(frame[[*MODEL_COLUMNS, "params"]]).drop(columns="params")


def set_enabled(store: ResultStore, model: str, enabled: bool) -> None:
    with store.connect() as con:
        read_spec(con, model, store.path)  # an unknown model is an error naming the known
        con.execute("UPDATE models SET enabled = ? WHERE signature = ?", [enabled, model])


def disabled_models(con: duckdb.DuckDBPyConnection) -> set[str]:
    rows = con.execute("SELECT signature FROM models WHERE NOT coalesce(enabled, true)")
    return {r[0] for r in rows.fetchall()}


def enabled_signatures(store: ResultStore) -> list[str]:
    with store.connect() as con:
        rows = con.execute(
            "SELECT signature FROM models WHERE coalesce(enabled, true) ORDER BY 1"
        ).fetchall()
    return [r[0] for r in rows]


def remove_model(store: ResultStore, model: str) -> dict[str, int]:
    """Delete every row naming `model`, in one transaction; rows deleted per table."""
    with store.connect() as con:
        read_spec(con, model, store.path)  # an unknown model is an error naming the known
        tables = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT table_name FROM information_schema.columns "
                "WHERE column_name = 'model' AND table_catalog = current_database() "
                "AND table_schema = current_schema() ORDER BY 1"
            ).fetchall()
            if r[0] not in _NOT_BY_MODEL
        ]
        deleted = {}
        con.execute("BEGIN")
        for table in tables:  # names from the catalog, not from the user
            [(n,)] = con.execute(f"DELETE FROM {table} WHERE model = ?", [model]).fetchall()
            if n:
                deleted[table] = n
        [(n,)] = con.execute("DELETE FROM models WHERE signature = ?", [model]).fetchall()
        deleted["models"] = n
        con.execute("COMMIT")
    return deleted


def chain_conflict(
    con: duckdb.DuckDBPyConnection,
    model: str,
    config_hash: str,
    first: dt.date | None,
    last: dt.date | None,
) -> ChainConflict | None:
    """Stored days of `model` outside [first, last] (the days a run rewrites) made with
    another config: running [first, last] with `config_hash` would splice two configs."""
    row = con.execute(
        "SELECT any_value(config_hash), min(date), max(date) FROM model_days "
        "WHERE model = ? AND config_hash IS DISTINCT FROM ? "
        "AND NOT (date BETWEEN coalesce(?, DATE '0001-01-01') AND coalesce(?, DATE '9999-12-31'))",
        [model, config_hash, first, last],
    ).fetchone()
    if row is None or row[1] is None:
        return None
    return ChainConflict(model, row[0], row[1], row[2])
