"""Sensors and schedules evaluated against a real Dagster instance and DuckDB store.

new_models_sensor turns a model registered in the store into a partition of the model
dimension plus one run over its whole priced history (what a single-run backfill of
that model launches); the schedule and automation sensor are wired as documented.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg
import pytest

from trading_assets.config import MarketDataConfig, ModelSpec
from trading_assets.defs.automation import (
    market_prices_daily,
    models_config_sensor,
    new_models_sensor,
    new_prices_sensor,
    trading_day_automation,
    trading_day_close,
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


# -- trading_day_close: the XNYS calendar decides --------------------------------------

NEW_YORK = ZoneInfo("America/New_York")


def close_tick(instance, store, day: dt.date):
    with dg.build_schedule_context(
        instance=instance,
        scheduled_execution_time=dt.datetime(day.year, day.month, day.day, 18, tzinfo=NEW_YORK),
        resources={"store": StoreResource(path=str(store.path))},
    ) as context:
        return trading_day_close(context)


@pytest.fixture
def two_models(setup):
    instance, store = setup
    store.register_models([spec("hold-a"), spec("hold-b")])
    instance.add_dynamic_partitions("models", ["hold-a", "hold-b"])
    return instance, store


def test_trading_day_close_on_a_session_requests_each_enabled_models_day(two_models):
    instance, store = two_models
    requests = close_tick(instance, store, dt.date(2012, 6, 29))  # a Friday
    assert [(r.partition_key, r.run_key) for r in requests] == [
        ("2012-06-29|hold-a", "close-2012-06-29-hold-a"),
        ("2012-06-29|hold-b", "close-2012-06-29-hold-b"),
    ]


@pytest.mark.parametrize(
    "day, why",
    [(dt.date(2012, 6, 30), "Saturday"), (dt.date(2012, 7, 4), "Wednesday")],  # July 4th
)
def test_trading_day_close_on_weekend_or_holiday_launches_nothing(two_models, day, why):
    instance, store = two_models
    result = close_tick(instance, store, day)
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message == f"{day} ({why}) is not an XNYS session: nothing to simulate"


def test_trading_day_close_on_a_session_past_the_data_requests_no_run_and_says_why(two_models):
    # The bundled bars end on 2013-03-01 (a Friday); the next Monday is a session without
    # bars: a run for it could only fail (and its partition may not exist at all).
    instance, store = two_models
    result = close_tick(instance, store, dt.date(2013, 3, 4))
    assert isinstance(result, dg.SkipReason)
    assert result.skip_message.startswith(
        "2013-03-04: no bars for 2013-03-04 yet for hold-a, hold-b; market_prices_daily"
    )


def test_trading_day_close_with_no_model_registered_says_so(setup):
    instance, store = setup
    result = close_tick(instance, store, dt.date(2012, 6, 29))
    assert result.skip_message == "2012-06-29: no enabled model is registered (nothing to simulate)"


def test_trading_day_close_skips_models_disabled_in_the_watched_config(
    two_models, tmp_path, monkeypatch
):
    instance, store = two_models
    config = tmp_path / "models.yaml"
    config.write_text(
        "universe: [IBM]\nmarket_data: {source: bundled}\nmodels:\n"
        "  - {signature: hold-a, agent: buy_and_hold}\n"
        "  - {signature: hold-b, agent: buy_and_hold, enabled: false}\n"
    )
    monkeypatch.setenv("TRADING_ASSETS_CONFIG", str(config))
    requests = close_tick(instance, store, dt.date(2012, 6, 29))
    assert [r.partition_key for r in requests] == ["2012-06-29|hold-a"]


def test_trading_day_close_with_day_already_materialized_skips_that_model(two_models):
    instance, store = two_models
    instance.report_runless_asset_event(
        dg.AssetMaterialization("model_day", partition="2012-06-29|hold-a")
    )
    requests = close_tick(instance, store, dt.date(2012, 6, 29))
    assert [r.partition_key for r in requests] == ["2012-06-29|hold-b"]


# -- models_config_sensor: only what validates is registered ---------------------------


def config_sensor(instance, store, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"store": StoreResource(path=str(store.path))}
    )
    return models_config_sensor(context)


def test_models_config_sensor_registers_valid_new_models_and_loads_their_prices(
    setup, tmp_path, monkeypatch
):
    instance, store = setup
    config = tmp_path / "models.yaml"
    config.write_text(
        "universe: [IBM]\nmarket_data: {source: bundled}\nmodels:\n"
        "  - {signature: hold-a, agent: buy_and_hold}\n"
        "  - {signature: idle, agent: buy_and_hold, enabled: false}\n"
    )
    monkeypatch.setenv("TRADING_ASSETS_CONFIG", str(config))

    result = config_sensor(instance, store)

    assert store.model_signatures() == ["hold-a"]
    [run] = result.run_requests
    assert run.run_key == f"models-config-{result.cursor}"
    again = config_sensor(instance, store, cursor=result.cursor)
    assert again.skip_message == f"{config} unchanged"


def test_models_config_sensor_with_missing_market_data_rejects_only_that_model(
    setup, tmp_path, monkeypatch
):
    instance, store = setup
    missing = tmp_path / "no-such-folder"
    config = tmp_path / "models.yaml"
    config.write_text(
        f"universe: [IBM]\nmarket_data: {{source: folder, path: '{missing}'}}\nmodels:\n"
        "  - {signature: csv-model, agent: buy_and_hold}\n"
    )
    monkeypatch.setenv("TRADING_ASSETS_CONFIG", str(config))

    result = config_sensor(instance, store)

    assert store.model_signatures() == []  # nothing registered: the store is not poisoned
    assert result.run_requests == []
    assert "REJECTED csv-model" in result.skip_reason.skip_message
    assert "market data folder does not exist" in result.skip_reason.skip_message


def test_models_config_sensor_without_config_env_says_what_to_set(setup, monkeypatch):
    monkeypatch.delenv("TRADING_ASSETS_CONFIG", raising=False)
    result = config_sensor(*setup)
    assert result.skip_message == "$TRADING_ASSETS_CONFIG is not set: no models config to watch"


# -- new_prices_sensor: catch up days priced after the last materialized one -----------


def prices_sensor(instance, store, cursor=None):
    context = dg.build_sensor_context(
        instance=instance, cursor=cursor, resources={"store": StoreResource(path=str(store.path))}
    )
    return new_prices_sensor(context)


def test_new_prices_sensor_requests_one_range_over_the_new_days_once(two_models):
    instance, store = two_models
    # hold-a stopped three sessions before the bundled data's last day (2013-03-01)
    instance.report_runless_asset_event(
        dg.AssetMaterialization("model_day", partition="2013-02-26|hold-a")
    )

    result = prices_sensor(instance, store)

    [run] = result.run_requests  # hold-b has nothing materialized: new_models_sensor's job
    assert run.run_key == "prices-hold-a-2013-02-27-2013-03-01"
    assert run.tags["dagster/asset_partition_range_start"] == "2013-02-27|hold-a"
    assert run.tags["dagster/asset_partition_range_end"] == "2013-03-01|hold-a"
    again = prices_sensor(instance, store, cursor=result.cursor)
    assert isinstance(again, dg.SkipReason)
