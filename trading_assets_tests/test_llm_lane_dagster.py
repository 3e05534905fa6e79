"""The quant+LLM agent through Dagster, against a real local OpenAI-protocol server.

A quant_llm model (sma_crossover 5/20 on AAPL, several crossings in the first half of
2012) is materialized as a single-run range with the code location's own resources:

- healthy answers fill the LLM lane and the merged decision is the kernel's math; the
  answers are cached in the store, so a re-run sends no request and writes the same rows;
- every provider failure (401, 429, 500, a timeout, a malformed body, an unknown rating)
  degrades the affected decisions with the contract's reason code while the run, and so
  the backfill, goes on; once the provider is back a re-run fills the lane in, because
  failures are not cached (an unknown rating is an answer, and is);
- the API key reaches the provider and nothing else: not the store, the event log,
  the materialization metadata or the run config;
- without an `llm` block the model is quant-only by design, not degraded.

Every signals and model_days row these tests write is read back through
contract.v1alpha1 and validated against the committed JSON Schemas.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path

import dagster as dg
import jsonschema
import pandas as pd
import pytest

from trading_assets.config import load_config, model_specs
from trading_assets.contract.v1alpha1 import decision_from_row, status_from_row
from trading_assets.defs.definitions import defs
from trading_assets.defs.resources.llm import LLMResource
from trading_assets.defs.resources.store import StoreResource
from trading_assets.errors import ConfigError
from trading_assets.kernel.lanes import LaneFailure, LaneSignal
from trading_assets.kernel.merge import merge
from trading_assets.kernel.ratings import lane_from_llm_rating
from trading_assets.market.calendar import trading_days
from trading_assets.market.sources import BundledSource
from trading_assets.store.results import ResultStore
from trading_assets_tests.conftest import table_rows

try:  # package layout (trading_assets_tests/__init__.py) or the repo root on sys.path
    from trading_assets_tests.openai_server import OpenAIServer, Reply
except ImportError:  # pytest's default "prepend" import of this folder
    from openai_server import OpenAIServer, Reply

KEY_ENV = "TEST_LLM_KEY"
KEY = "sk-test-SECRET-123"
MODEL = "qllm"
MODELS = (MODEL,)  # the conftest instance knows these
MODEL_DAY = dg.AssetKey("model_day")
START, END = dt.date(2012, 1, 3), dt.date(2012, 6, 29)
# The failure matrix runs a shorter range that still holds every crossing of the long one.
FAIL_START = dt.date(2012, 4, 2)
VOLATILE = ("run_id", "started_at", "completed_at")
SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "contracts"


@functools.cache
def bundled_prices():
    return BundledSource().load()


@functools.cache
def validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / f"{name}.v1alpha1.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema)


def model_yaml(base_url: str | None) -> str:
    """The quant_llm model; `base_url=None` leaves the LLM lane out (quant-only)."""
    llm = (
        f"      llm: {{model: test-model, base_url: '{base_url}', api_key_env: {KEY_ENV}, "
        # a short backoff keeps the retried failures (429, 500, timeout) quick
        "timeout_seconds: 0.5, max_retries: 1, backoff_seconds: 0.05}\n"
        if base_url
        else ""
    )
    return (
        "initial_cash: 100000\n"
        "universe: [AAPL]\n"
        "market_data: {source: bundled}\n"
        "models:\n"
        f"  - signature: {MODEL}\n"
        "    agent: quant_llm\n"
        "    params:\n"
        "      quant: {agent: sma_crossover, params: {fast: 5, slow: 20, size: 10}}\n" + llm
    )


@pytest.fixture(autouse=True)
def environment(monkeypatch):
    """The key the LLM resource reads at run time; no TA_* flags from the shell."""
    monkeypatch.setenv(KEY_ENV, KEY)  # (conftest clears the TA_* flags)


@pytest.fixture
def server():
    with OpenAIServer() as srv:
        yield srv


def make_store(folder: Path, base_url: str | None) -> ResultStore:
    config = folder / "models.yaml"
    config.write_text(model_yaml(base_url))
    store = ResultStore(folder / "store.duckdb")
    store.register_models(model_specs(load_config(config)))
    store.write_prices("bundled", bundled_prices())
    return store


@pytest.fixture
def store(tmp_path, server) -> ResultStore:
    return make_store(tmp_path, server.base_url)


def resources_for(store: ResultStore, **overrides) -> dict:
    """The code location's resources, with only the store path (and overrides) replaced."""
    return {**defs.resources, "store": StoreResource(path=str(store.path)), **overrides}


def run_range(
    instance, store: ResultStore, start: dt.date = START, end: dt.date = END, **overrides
) -> dg.ExecuteInProcessResult:
    result = dg.materialize(
        [defs.get_assets_def(MODEL_DAY)],
        instance=instance,
        resources=resources_for(store, **overrides),
        tags={
            "dagster/asset_partition_range_start": f"{start.isoformat()}|{MODEL}",
            "dagster/asset_partition_range_end": f"{end.isoformat()}|{MODEL}",
        },
        raise_on_error=False,
    )
    assert_rows_follow_the_contract(store)  # (g): after every run, every row written
    return result


def rows(store: ResultStore, table: str) -> list[dict]:
    """Rows as DuckDB returns them (what the contract converters take), in key order."""
    return table_rows(store, table, "model, date, symbol" if table == "signals" else "model, date")


def assert_rows_follow_the_contract(store: ResultStore) -> None:
    for row in rows(store, "signals"):
        payload = decision_from_row(row).model_dump(mode="json")
        validator("symbol-decision").validate(payload)
        assert payload["contract_version"] == "v1alpha1"
    for row in rows(store, "model_days"):
        payload = status_from_row(row).model_dump(mode="json")
        validator("model-day-status").validate(payload)
        assert payload["contract_version"] == "v1alpha1"


def frame(store: ResultStore, table: str) -> pd.DataFrame:
    order = "model, date, symbol" if table == "signals" else "model, date"
    data = store.query(f"SELECT * FROM {table} ORDER BY {order}")
    return data.drop(columns=[c for c in VOLATILE if c in data.columns])


def cache_rows(store: ResultStore) -> pd.DataFrame:
    return store.query("SELECT * FROM llm_cache ORDER BY created_at")


def quant_lane(row: dict) -> LaneSignal:
    return LaneSignal("quant", row["quant_direction"], row["quant_confidence"])


def prompt_date(request) -> str:
    """The simulated date a recorded request asked about (from the user message)."""
    facts = request.body["messages"][1]["content"].split("\n")[1]
    return json.loads(facts)["date"]


# -- (a) healthy answers, (b) cache hits ------------------------------------------------


def test_quant_llm_with_healthy_llm_fills_the_lane_and_merges_by_kernel_math(
    store, instance, server
):
    answers = [("SELL", "Momentum rolled over."), ("BUY", "Breakout."), ("BUY", "Still strong.")]
    server.script(*(Reply.rating(r, why) for r, why in answers))
    server.set_default(Reply.rating("HOLD", "No view."))

    result = run_range(instance, store)

    assert result.success
    signals = rows(store, "signals")
    assert len(signals) >= 3, "the quant lane must signal several times in the range"
    assert len(server.requests) == len(signals)  # the LLM is asked only where quant signals
    assert [prompt_date(r) for r in server.requests] == [s["date"].isoformat() for s in signals]
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in server.requests)
    expected = answers + [("HOLD", "No view.")] * (len(signals) - len(answers))
    for row, (rating, why) in zip(signals, expected, strict=True):
        assert row["llm_available"] and row["quant_available"]
        assert row["llm_rating"] == rating and row["llm_reason_code"] is None
        assert row["reasoning"].startswith("quant: ") and row["reasoning"].endswith(f"llm: {why}")
        assert not row["degraded"] and row["reason_codes"] == []
        assert row["data_quality"] is None and row["source_diagnostics"] is None
        merged = merge(quant_lane(row), lane_from_llm_rating(rating))
        assert (row["direction"], row["confidence"], row["rating"]) == (
            merged.direction,
            merged.confidence,
            merged.rating,
        )
    days = rows(store, "model_days")
    assert len(days) == len(trading_days(START, END))
    assert {d["status"] for d in days} == {"completed"}
    cache = cache_rows(store)
    assert len(cache) == len(signals)
    assert set(cache["model"]) == {f"test-model@http://127.0.0.1:{server.port}/v1"}
    assert list(cache["rating"]) == [rating for rating, _ in expected]
    # a quant order stands only where the merged direction agrees with it
    orders = store.query("SELECT date, side FROM orders WHERE model = ?", [MODEL])
    traded = {
        (pd.Timestamp(d).date(), side)
        for d, side in zip(orders["date"], orders["side"], strict=True)
    }
    for row in signals:
        if row["direction"] != row["quant_direction"]:
            assert (row["date"], "buy" if row["quant_direction"] == 1 else "sell") not in traded
    assert signals[1]["quant_direction"] == 1 == signals[1]["direction"]  # BUY agreed
    assert (signals[1]["date"], "buy") in traded
    vetoed = signals[2]  # a quant sell the LLM's BUY outweighed: the position stays
    assert (vetoed["quant_direction"], vetoed["direction"]) == (-1, 1)
    held = store.query(
        "SELECT shares FROM holdings WHERE model = ? AND date = ?", [MODEL, vetoed["date"]]
    )
    assert list(held["shares"]) == [10]


def test_quant_llm_with_range_rerun_hits_the_cache_and_writes_identical_rows(
    store, instance, server
):
    server.set_default(Reply.rating("BUY", "Trend up."))
    assert run_range(instance, store).success
    first_requests = len(server.requests)
    signals, days, cache = frame(store, "signals"), frame(store, "model_days"), cache_rows(store)

    rerun = run_range(instance, store)

    assert rerun.success
    assert first_requests > 0 and len(server.requests) == first_requests  # zero new requests
    pd.testing.assert_frame_equal(frame(store, "signals"), signals)
    pd.testing.assert_frame_equal(frame(store, "model_days"), days)
    pd.testing.assert_frame_equal(cache_rows(store), cache)


# -- (c) failures degrade and the run goes on, (d) recovery -----------------------------

FAILURES = [
    pytest.param(Reply.error(401, "invalid api key"), "provider_auth_failed", 1, id="401"),
    pytest.param(Reply.error(429, "slow down"), "llm_rate_limited", 2, id="429"),
    pytest.param(Reply.error(500, "upstream exploded"), "llm_server_error", 2, id="500"),
    pytest.param(Reply.rating("BUY").after(1.5), "llm_timeout", 2, id="slow"),
    pytest.param(Reply.malformed(), "llm_unparseable", 1, id="malformed-json"),
    pytest.param(
        Reply.rating("STRONG BUY", "Very bullish."), "llm_unknown_rating", 1, id="unknown"
    ),
]


def assert_degraded_by(store: ResultStore, reason: str) -> list[dict]:
    """Every model-day complete; each decision degraded by `reason`, quant-only merged."""
    signals = rows(store, "signals")
    assert len(signals) >= 2
    signal_days = {s["date"] for s in signals}
    days = rows(store, "model_days")
    assert [d["date"] for d in days] == trading_days(FAIL_START, END)  # every day complete
    for day in days:
        assert day["progress"] == 100 and day["error_code"] is None
        if day["date"] in signal_days:
            assert day["status"] == "degraded_success" and day["degraded"]
            assert day["reason_codes"] == [reason]
        else:
            assert day["status"] == "completed" and not day["degraded"]
    unknown = reason == "llm_unknown_rating"  # an answer, so a (doubtful) signal
    for row in signals:
        assert row["degraded"] and row["reason_codes"] == [reason]
        assert row["llm_reason_code"] == reason and row["quant_available"]
        assert row["llm_available"] is unknown
        diagnostic = json.loads(row["source_diagnostics"])["llm"]
        assert diagnostic["reason_code"] == reason
        assert bool(diagnostic["error"]) is not unknown  # a failure says what happened
        llm = lane_from_llm_rating("STRONG BUY") if unknown else LaneFailure("llm", reason)
        merged = merge(quant_lane(row), llm)
        assert (row["direction"], row["confidence"], row["rating"]) == (
            merged.direction,
            merged.confidence,
            merged.rating,
        )
        if reason == "provider_auth_failed":  # the one failure that is a data_quality state
            assert row["data_quality_state"] == "provider_auth_failed"
            assert json.loads(row["data_quality"]) == {
                "state": "provider_auth_failed",
                "source": "llm",
                "issues": [{"source": "llm", "state": "provider_auth_failed"}],
                "not_configured": [],
            }
        else:  # documented: a failure without a state adds no data_quality issue
            assert row["data_quality"] is None and row["data_quality_state"] is None
    return signals


@pytest.mark.parametrize("reply, reason, attempts", FAILURES)
def test_quant_llm_with_failing_provider_degrades_and_fills_in_once_provider_is_back(
    store, instance, server, reply, reason, attempts
):
    server.set_default(reply)

    failed = run_range(instance, store, FAIL_START)

    assert failed.success  # a provider failure never stops the backfill
    signals = assert_degraded_by(store, reason)
    assert len(server.requests) == attempts * len(signals)  # max_retries: 1, then give up
    unknown = reason == "llm_unknown_rating"
    assert len(cache_rows(store)) == (len(signals) if unknown else 0)  # failures: not cached

    failed_requests = len(server.requests)
    server.set_default(Reply.rating("BUY", "Recovered."))
    recovered = run_range(instance, store, FAIL_START)

    assert recovered.success
    new_requests = len(server.requests) - failed_requests
    if unknown:  # an answer is cached, even a doubtful one: the re-run reuses it
        assert new_requests == 0
        assert_degraded_by(store, reason)
        return
    signals = rows(store, "signals")
    assert new_requests == len(signals)  # nothing of the failed run was cached
    for row in signals:
        assert row["llm_available"] and row["llm_rating"] == "BUY"
        assert row["llm_reason_code"] is None and not row["degraded"]
        assert row["reason_codes"] == [] and row["reasoning"].endswith("llm: Recovered.")
    assert {d["status"] for d in rows(store, "model_days")} == {"completed"}
    assert len(cache_rows(store)) == len(signals)


# -- (e) the API key stays a secret ---------------------------------------------------


ECHOES = [
    pytest.param(Reply.error(401, f"Incorrect API key provided: {KEY}"), id="401-json-key"),
    # a debugging proxy echoing the request's headers in a non-JSON body
    pytest.param(Reply.echo_headers(401, prefix="rejected\n"), id="401-text-headers"),
    pytest.param(Reply.echo_headers(502, prefix="bad gateway\n"), id="502-text-headers"),
    # ... or as the answer's text, which is then not the JSON the lane asked for
    pytest.param(Reply.echo_headers(200, into="content"), id="200-content-headers"),
    pytest.param(Reply.content(f"debug: api_key={KEY}"), id="200-content-api_key"),
]


@pytest.mark.parametrize("echo", ECHOES)
def test_quant_llm_with_api_key_keeps_it_out_of_store_logs_metadata_and_config(
    tmp_path, store, instance, server, echo
):
    # The provider echoes the key on the first request (a 5xx echo is retried once), then
    # answers.
    server.script(echo, echo)
    server.set_default(Reply.rating("BUY", "Momentum is positive."))

    result = run_range(instance, store)

    assert result.success
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"  # it was used
    diagnostics = [s["source_diagnostics"] for s in rows(store, "signals")]
    assert diagnostics[0] and "***" in diagnostics[0]  # the echo was redacted
    assert all(d is None for d in diagnostics[2:])  # later answers were healthy
    store_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("store.duckdb*") if p.is_file())
    assert b"Momentum is positive." in store_bytes  # the scan does see stored text
    assert KEY.encode() not in store_bytes
    logs = "\n".join(dg.serialize_value(entry) for entry in instance.all_logs(result.run_id))
    assert "model_day" in logs and KEY not in logs
    records = instance.fetch_materializations(MODEL_DAY, limit=1000).records
    assert records
    metadata = "\n".join(dg.serialize_value(r.asset_materialization) for r in records)
    assert KEY not in metadata
    run = instance.get_run_by_id(result.run_id)
    assert KEY not in json.dumps(run.run_config, default=str)
    assert KEY not in dg.serialize_value(run)
    assert KEY not in json.dumps(run.tags)


# -- (f) no LLM configured ------------------------------------------------------------


def test_quant_llm_without_llm_config_is_quant_only_and_not_degraded(tmp_path, instance, server):
    store = make_store(tmp_path, base_url=None)
    # Even with a base URL on the resource, a model without an `llm` block has no LLM lane.
    llm = LLMResource(base_url=server.base_url, timeout_seconds=0.5, max_retries=0)

    result = run_range(instance, store, llm=llm)

    assert result.success
    assert server.requests == []
    signals = rows(store, "signals")
    assert len(signals) >= 3
    for row in signals:
        assert row["quant_available"] and not row["llm_available"]
        assert row["llm_reason_code"] is None and row["llm_rating"] is None
        assert not row["degraded"] and row["reason_codes"] == []
        assert row["source_diagnostics"] is None
        quality = json.loads(row["data_quality"])
        assert quality == {"state": "ok", "source": None, "issues": [], "not_configured": ["llm"]}
        assert row["data_quality_state"] == "ok"
        merged = merge(quant_lane(row), None)
        assert (row["direction"], row["confidence"]) == (merged.direction, merged.confidence)
        payload = decision_from_row(row)
        assert payload.signals.llm is None and not payload.degradation.degraded
    assert {d["status"] for d in rows(store, "model_days")} == {"completed"}
    assert cache_rows(store).empty


def test_quant_llm_with_inline_api_key_in_config_never_stores_it(tmp_path):
    config = tmp_path / "models.yaml"
    config.write_text(
        model_yaml("http://127.0.0.1:9/v1").replace(f"api_key_env: {KEY_ENV}", f"api_key: {KEY}")
    )
    try:
        specs = model_specs(load_config(config))
    except ConfigError as exc:  # refusing the config is a fix too
        assert KEY not in str(exc)
        return
    store = ResultStore(tmp_path / "store.duckdb")
    store.register_models(specs)
    assert KEY not in store.query("SELECT spec FROM models")["spec"].iloc[0]
