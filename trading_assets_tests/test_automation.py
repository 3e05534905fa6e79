"""Sensors and schedules evaluated against a real Dagster instance and DuckDB store.

new_models_sensor turns a model registered in the store into a partition of the model
dimension plus one run over its whole priced history (what a single-run backfill of
that model launches); the schedule and automation sensor are wired as documented.
"""

from __future__ import annotations

import dagster as dg
import pytest

from trading_assets.config import MarketDataConfig, ModelSpec
from trading_assets.defs.automation import (
    market_prices_daily,
    new_models_sensor,
    trading_day_automation,
)
from trading_assets.defs.resources.store import StoreResource
from trading_assets.market.sources import BundledSource
from trading_assets.store.results import ResultStore


def spec(signature: str, source: str = "bundled", path: str | None = None) -> ModelSpec:
    return ModelSpec(
        signature=signature,
        agent="buy_and_hold",
        params={},
        universe=("IBM",),
        initial_cash=10_000.0,
        market_data=MarketDataConfig(source=source, path=path),
        fees={},
    )


@pytest.fixture
def setup(tmp_path):
    store = ResultStore(tmp_path / "s.duckdb")
    store.write_prices("bundled", BundledSource().load())
    with dg.instance_for_test() as instance:
        yield instance, store


def evaluate(instance, store):
    context = dg.build_sensor_context(
        instance=instance, resources={"store": StoreResource(path=str(store.path))}
    )
    return new_models_sensor(context)


def test_new_models_sensor_with_new_model_adds_partition_and_full_history_run(setup):
    instance, store = setup
    store.register_models([spec("ibm-hold")])
    result = evaluate(instance, store)
    assert isinstance(result, dg.SensorResult)
    [add] = result.dynamic_partitions_requests
    assert list(add.partition_keys) == ["ibm-hold"]
    [run] = result.run_requests
    assert run.tags["dagster/asset_partition_range_start"] == "2000-03-01|ibm-hold"
    assert run.tags["dagster/asset_partition_range_end"] == "2013-03-01|ibm-hold"


def test_new_models_sensor_with_known_model_skips(setup):
    instance, store = setup
    store.register_models([spec("ibm-hold")])
    instance.add_dynamic_partitions("models", ["ibm-hold"])
    result = evaluate(instance, store)
    assert isinstance(result, dg.SkipReason)


def test_new_models_sensor_with_unpriced_model_waits_for_market_prices(setup, tmp_path):
    instance, store = setup
    store.register_models([spec("csv-model", source="folder", path=str(tmp_path / "none"))])
    result = evaluate(instance, store)
    assert isinstance(result, dg.SkipReason)
    assert "csv-model wait for market_prices" in result.skip_message


def test_schedule_and_automation_sensor_with_defaults_are_stopped_until_turned_on():
    assert market_prices_daily.cron_schedule == "30 17 * * 1-5"
    assert market_prices_daily.execution_timezone == "America/New_York"
    assert market_prices_daily.default_status == dg.DefaultScheduleStatus.STOPPED
    assert trading_day_automation.default_status == dg.DefaultSensorStatus.STOPPED
    assert new_models_sensor.default_status == dg.DefaultSensorStatus.STOPPED
