"""Every row the demo writes is a valid v1alpha1 payload.

Runs the bundled demo config (3 models, including quant_llm without an endpoint) over
its full history through Dagster (in-process, ephemeral instance) and reads back every
model_days and signals row: each must convert to the contract's pydantic payload and
validate against the committed JSON Schema in docs/contracts/.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import dagster as dg
import jsonschema
import pytest

from trading_assets.config import load_config, model_specs
from trading_assets.contract.v1alpha1 import decision_from_row, status_from_row
from trading_assets.market.sources import BundledSource
from trading_assets.store.results import ResultStore
from trading_assets_tests.conftest import materialize_model_days, table_rows

CONTRACTS = Path(__file__).resolve().parents[1] / "docs" / "contracts"


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    # the settings the CLI and Makefile use: one planned event per range run
    patch = pytest.MonkeyPatch()
    patch.setenv("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    store = ResultStore(tmp_path_factory.mktemp("demo") / "s.duckdb")
    specs = model_specs(load_config(resources.files("trading_assets") / "configs" / "demo.yaml"))
    store.register_models(specs)
    store.write_prices("bundled", BundledSource().load())
    instance = dg.DagsterInstance.ephemeral()
    for spec in specs:
        instance.add_dynamic_partitions("models", [spec.signature])
        result = materialize_model_days(instance, store, spec.signature, "2000-03-01", "2013-03-01")
        assert result.success
    patch.undo()
    return store


def rows(store: ResultStore, table: str) -> list[dict]:
    return table_rows(store, table)


def schema(name: str) -> dict:
    return json.loads((CONTRACTS / f"{name}.v1alpha1.schema.json").read_text())


def test_demo_model_days_with_full_history_all_validate(demo_store):
    days = rows(demo_store, "model_days")
    assert len(days) == 3 * 3270
    validator = jsonschema.Draft202012Validator(schema("model-day-status"))
    for row in days:
        validator.validate(status_from_row(row).model_dump(mode="json"))


def test_demo_signals_with_full_history_all_validate(demo_store):
    signals = rows(demo_store, "signals")
    assert len(signals) > 100
    validator = jsonschema.Draft202012Validator(schema("symbol-decision"))
    for row in signals:
        validator.validate(decision_from_row(row).model_dump(mode="json"))


def test_demo_quant_llm_without_endpoint_is_quant_only_and_says_so(demo_store):
    mine = [r for r in rows(demo_store, "signals") if r["model"] == "quant-llm-bollinger"]
    assert mine
    for row in mine:
        assert row["degraded"] is False and row["llm_available"] is False
        assert row["llm_reason_code"] is None
        assert "llm" in json.loads(row["data_quality"])["not_configured"]
