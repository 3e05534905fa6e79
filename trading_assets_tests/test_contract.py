"""The v1alpha1 contract: payloads built from real store rows validate against the committed
JSON Schemas, the schema files match the models, and invalid payloads are refused."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import get_args

import jsonschema
import pytest
from pydantic import ValidationError

from trading_assets.contract.schema import schema_texts, write_schemas
from trading_assets.contract.v1alpha1 import (
    STAGE_PROGRESS,
    STAGES,
    ModelDayStatus,
    Rating,
    SymbolDecision,
    decision_from_row,
    decision_row,
    status_from_row,
)
from trading_assets.kernel.lanes import LaneFailure, LaneSignal
from trading_assets.kernel.merge import merge
from trading_assets.kernel.ratings import RATINGS, lane_from_llm_rating
from trading_assets.store.db import connect

DOCS = Path(__file__).resolve().parents[1] / "docs" / "contracts"
DAY = dt.date(2025, 10, 2)
MERGES = {
    "two_lanes": merge(LaneSignal("quant", 1, 0.9), lane_from_llm_rating("BUY")),
    "llm_failed": merge(
        LaneSignal("quant", -1, 0.6), LaneFailure("llm", "llm_timeout", error="no answer in 30 s")
    ),
    "llm_absent": merge(LaneSignal("quant", 1, 0.4), None),
    "quant_absent": merge(None, lane_from_llm_rating("sell")),
    "dirty_data": merge(
        LaneSignal("quant", 0, 0.5, data_quality="stale_data"),
        LaneSignal(
            "llm", 1, 0.9, data_quality="provider_mismatch", reason_code="llm_unknown_rating"
        ),
    ),
}


def schema(name: str) -> dict:
    return json.loads((DOCS / f"{name}.v1alpha1.schema.json").read_text())


@pytest.fixture
def con(stores):
    # the store's own DDL, on the backend under test: the converters must match its columns
    with connect(stores.new()) as connection:
        yield connection


def roundtrip(con, table: str, row: dict) -> dict:
    """Insert a row (alone in its table) and read it back as DuckDB returns it."""
    con.execute(f"DELETE FROM {table}")
    columns = ", ".join(f'"{c}"' for c in row)
    con.execute(
        f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(row))})", list(row.values())
    )
    cursor = con.execute(f"SELECT * FROM {table}")
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def day_row(**overrides) -> dict:
    row = dict(
        model="m1",
        date=DAY,
        status="completed",
        stage="write",
        progress=100,
        cash=900.0,
        portfolio_value=1010.0,
        positions_value=110.0,
        daily_return=0.01,
        cumulative_return=0.01,
        n_orders=2,
        n_filled=1,
        n_rejected=1,
        degraded=False,
        reason_codes=[],
        data_quality_state=None,
        error_code=None,
        error_message=None,
        error_retryable=None,
        run_id="r-1",
        config_hash="abc123",
        started_at=dt.datetime(2026, 1, 1, 9),
        completed_at=dt.datetime(2026, 1, 1, 9, 1),
        contract_version="v1alpha1",
    )
    return row | overrides


def test_committed_schema_files_equal_generated_ones():
    for name, text in schema_texts().items():
        committed = DOCS / name
        assert committed.exists(), f"run: python -m trading_assets.contract.schema {DOCS}"
        assert committed.read_text() == text, f"{name} is stale: regenerate it"


def test_write_schemas_writes_both_files(tmp_path):
    paths = write_schemas(tmp_path)
    assert sorted(p.name for p in paths) == sorted(schema_texts())
    for path in paths:
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text()))


def test_decision_row_with_any_merge_has_exactly_the_store_columns(con):
    columns = [
        c
        for (c,) in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'signals' "
            "AND table_catalog = current_database() AND table_schema = current_schema() "
            "ORDER BY ordinal_position"
        ).fetchall()
    ]
    for merged in MERGES.values():
        assert list(decision_row("m1", DAY, "AAPL", merged, None)) == columns


@pytest.mark.parametrize("case", sorted(MERGES))
def test_decision_row_through_duckdb_gives_payload_valid_against_schema(con, case):
    merged = MERGES[case]
    row = roundtrip(con, "signals", decision_row("m1", DAY, "AAPL", merged, "because"))
    payload = decision_from_row(row).model_dump(mode="json")
    jsonschema.validate(payload, schema("symbol-decision"))
    assert payload["contract_version"] == "v1alpha1"
    assert payload["decision"] == merged.rating
    assert payload["confidence"] == merged.confidence
    assert payload["degradation"]["degraded"] == merged.degraded
    assert payload["degradation"]["reason_codes"] == list(merged.reason_codes)
    assert payload["rationale"] == "because"
    assert SymbolDecision.model_validate(payload) == decision_from_row(row)


def test_decision_payload_tells_absent_lane_from_failed_lane(con):
    failed = decision_from_row(
        roundtrip(con, "signals", decision_row("m1", DAY, "AAPL", MERGES["llm_failed"], None))
    )
    absent = decision_from_row(
        roundtrip(con, "signals", decision_row("m1", DAY, "MSFT", MERGES["llm_absent"], None))
    )
    assert failed.signals.llm.available is False and failed.degradation.degraded
    assert failed.degradation.source_diagnostics["llm"].error == "no answer in 30 s"
    assert absent.signals.llm is None and not absent.degradation.degraded
    assert absent.data_quality.state == "ok" and absent.data_quality.not_configured == ["llm"]
    assert absent.signals.quant.available and absent.signals.quant.rating == "OVERWEIGHT"


def test_decision_payload_with_dirty_data_names_the_worst_state(con):
    payload = decision_from_row(
        roundtrip(con, "signals", decision_row("m1", DAY, "AAPL", MERGES["dirty_data"], None))
    )
    assert (payload.data_quality.state, payload.data_quality.source) == ("provider_mismatch", "llm")
    assert [i.state for i in payload.data_quality.issues] == ["stale_data", "provider_mismatch"]


@pytest.mark.parametrize(
    ("overrides", "stage_states"),
    [
        ({}, ["completed"] * 5),
        (
            {
                "status": "degraded_success",
                "degraded": True,
                "reason_codes": ["llm_timeout"],
                "data_quality_state": "stale_data",
            },
            ["completed"] * 5,
        ),
        (
            {"status": "running", "stage": "fill", "progress": 60},
            ["completed", "completed", "running", "pending", "pending"],
        ),
        ({"status": "pending", "stage": None, "progress": 0}, ["pending"] * 5),
        (
            {
                "status": "cancelled",
                "stage": "decide",
                "progress": 10,
                "error_code": "cancelled",
                "error_message": "cancelled by the user",
                "error_retryable": True,
            },
            ["completed", "cancelled", "pending", "pending", "pending"],
        ),
    ],
)
def test_status_row_through_duckdb_gives_payload_valid_against_schema(con, overrides, stage_states):
    status = status_from_row(roundtrip(con, "model_days", day_row(**overrides)))
    payload = status.model_dump(mode="json")
    jsonschema.validate(payload, schema("model-day-status"))
    assert [s["name"] for s in payload["stages"]] == list(STAGES)
    assert [s["status"] for s in payload["stages"]] == stage_states
    assert (payload["result"] is not None) == (status.status in ("completed", "degraded_success"))


def test_failed_status_has_null_result_and_actionable_error(con):
    row = day_row(
        status="failed",
        stage="fill",
        progress=60,
        error_code="market_data_error",
        error_message="no open price for AAPL on 2025-10-02",
        error_retryable=False,
    )
    payload = status_from_row(roundtrip(con, "model_days", row)).model_dump(mode="json")
    jsonschema.validate(payload, schema("model-day-status"))
    assert payload["result"] is None  # even though the row still holds yesterday's cash
    assert payload["error"] == {
        "code": "market_data_error",
        "retryable": False,
        "message": "no open price for AAPL on 2025-10-02",
    }
    assert [s["status"] for s in payload["stages"]][:3] == ["completed", "completed", "failed"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"status": "done"}, "status"),
        ({"stage": "analysts"}, "stage"),
        ({"contract_version": "v2"}, "contract_version"),
        ({"progress": 101}, "progress"),
        ({"status": "failed"}, "needs error"),
        ({"degraded": True}, "degraded_success exactly when degraded"),
    ],
)
def test_status_from_row_with_invalid_values_is_rejected(overrides, message):
    with pytest.raises(ValidationError, match=message):
        status_from_row(day_row(**overrides))


def test_failed_status_with_a_result_is_rejected():
    ok = status_from_row(day_row()).model_dump()
    with pytest.raises(ValidationError, match="failed day has no result"):
        ModelDayStatus.model_validate(
            ok | {"status": "failed", "error": {"code": "x", "message": "y", "retryable": False}}
        )


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("decision",), "STRONG_BUY"),
        (("signals", "merged", "rating"), "STRONG_BUY"),
        (("signals", "merged", "direction"), 2),
        (("degradation", "source_diagnostics"), {"news": {"reason_code": "x"}}),
        (("confidence",), 1.2),
    ],
)
def test_decision_payload_with_unknown_enum_value_is_rejected(path, value):
    payload = decision_from_row(decision_row("m1", DAY, "AAPL", MERGES["two_lanes"], None))
    data = payload.model_dump(mode="json")
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    with pytest.raises(ValidationError):
        SymbolDecision.model_validate(data)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema("symbol-decision"))


def test_decision_payload_with_unknown_reason_code_is_accepted():
    payload = decision_from_row(decision_row("m1", DAY, "AAPL", MERGES["llm_failed"], None))
    data = payload.model_dump(mode="json")
    data["degradation"]["reason_codes"].append("some_future_code")
    jsonschema.validate(data, schema("symbol-decision"))
    assert "some_future_code" in SymbolDecision.model_validate(data).degradation.reason_codes


def test_contract_enums_with_kernel_values_agree():
    assert get_args(Rating) == RATINGS
    assert tuple(STAGE_PROGRESS) == STAGES
    progress = list(STAGE_PROGRESS.values())
    assert progress == sorted(set(progress)) and progress[-1] == 100


def test_json_examples_in_contract_doc_validate_against_the_schemas():
    text = (DOCS / "result-contract-v1alpha1.md").read_text()
    examples = [json.loads(block.split("```")[0]) for block in text.split("```json\n")[1:]]
    assert len(examples) == 3
    for example in examples:
        model, name = (
            (ModelDayStatus, "model-day-status")
            if "status" in example
            else (SymbolDecision, "symbol-decision")
        )
        jsonschema.validate(example, schema(name))
        model.model_validate(example)
