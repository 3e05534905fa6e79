"""Snapshot tests of the code location's Dagster definitions.

What a change to `trading_assets.defs` must not break silently: the asset graph
(market_prices -> model_day -> daily_portfolio -> metrics -> leaderboard, and model_day's
own date chain), model_day's date x model partitions (dates are XNYS sessions), the mapping that
chains a model's days (the previous session of the SAME model, never every model), the
date span read from the market data's coverage sidecar,
single-run backfill policy, the in-process executor, the blocking legacy_parity check,
the schedules and sensors (all STOPPED by default) and the resources.
"""

from __future__ import annotations

import datetime as dt
import json

import dagster as dg
import pytest

from trading_assets.defs.definitions import defs
from trading_assets.defs.partitions import DATE_START, MODELS_PARTITION, trading_date_partitions
from trading_assets.defs.resources.llm import LLMResource
from trading_assets.defs.resources.merge_kernel import MergeKernel
from trading_assets.defs.resources.migration import MigrationResource
from trading_assets.defs.resources.store import StoreResource
from trading_assets.engine.run import previous_trading_day
from trading_assets.market.calendar import is_trading_day, trading_days
from trading_assets.store.coverage import Coverage, coverage_path, read_coverage

MARKET_PRICES = dg.AssetKey("market_prices")
DOCUMENTS = dg.AssetKey("documents")
MODEL_DAY = dg.AssetKey("model_day")
DAILY_PORTFOLIO = dg.AssetKey("daily_portfolio")
LEADERBOARD = dg.AssetKey("leaderboard")
METRICS = dg.AssetKey("metrics")
STUDY = dg.AssetKey("study")
MODELS = ("m1", "m2", "m3")
BUNDLED_START, BUNDLED_END = "2000-03-01", "2013-03-01"


@pytest.fixture(scope="module")
def asset_graph():
    return defs.resolve_asset_graph()


@pytest.fixture(scope="module")
def model_day():
    return defs.get_assets_def(MODEL_DAY)


def date_dimension(model_day) -> dg.TimeWindowPartitionsDefinition:
    return model_day.partitions_def.get_partitions_def_for_dimension("date")


def dates_between(model_day, start: str, end: str) -> list[str]:
    return date_dimension(model_day).get_partition_keys_in_range(dg.PartitionKeyRange(start, end))


def upstream_of(model_day, asset_graph, key: str, instance) -> list[str]:
    pdef = model_day.partitions_def
    mapping = asset_graph.get_partition_mapping(MODEL_DAY, MODEL_DAY)
    result = mapping.get_upstream_mapped_partitions_result_for_partitions(
        pdef.empty_subset().with_partition_keys([key]),
        pdef,
        pdef,
        dynamic_partitions_store=instance,
    )
    assert not list(result.required_but_nonexistent_subset.get_partition_keys())
    return sorted(result.partitions_subset.get_partition_keys())


def downstream_of(model_day, asset_graph, key: str, instance) -> list[str]:
    pdef = model_day.partitions_def
    mapping = asset_graph.get_partition_mapping(MODEL_DAY, MODEL_DAY)
    subset = mapping.get_downstream_partitions_for_partitions(
        pdef.empty_subset().with_partition_keys([key]),
        pdef,
        pdef,
        dynamic_partitions_store=instance,
    )
    return sorted(subset.get_partition_keys())


# -- loading and graph ----------------------------------------------------------------


def test_definitions_with_default_environment_validate_loadable():
    dg.Definitions.validate_loadable(defs)


def test_asset_graph_with_all_assets_has_the_documented_lineage(asset_graph):
    assert set(asset_graph.get_all_asset_keys()) == {
        MARKET_PRICES,
        DOCUMENTS,
        MODEL_DAY,
        DAILY_PORTFOLIO,
        METRICS,
        LEADERBOARD,
        STUDY,
    }
    parents = {
        key: set(asset_graph.get(key).parent_keys) for key in asset_graph.get_all_asset_keys()
    }
    assert parents == {
        MARKET_PRICES: set(),
        DOCUMENTS: set(),
        MODEL_DAY: {MARKET_PRICES, DOCUMENTS, MODEL_DAY},
        DAILY_PORTFOLIO: {MODEL_DAY},
        METRICS: {DAILY_PORTFOLIO, MARKET_PRICES},
        LEADERBOARD: {METRICS, MODEL_DAY},
        STUDY: {MARKET_PRICES},
    }


def test_asset_graph_with_model_day_self_dependency_uses_previous_day_of_same_model(
    asset_graph,
):
    mapping = asset_graph.get_partition_mapping(MODEL_DAY, MODEL_DAY)
    assert mapping == dg.MultiPartitionMapping(
        {
            "date": dg.DimensionPartitionMapping(
                "date", dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
            ),
            "model": dg.DimensionPartitionMapping("model", dg.IdentityPartitionMapping()),
        }
    )


def test_asset_graph_with_unpartitioned_market_prices_maps_every_model_day_to_it(asset_graph):
    for upstream in (MARKET_PRICES, DOCUMENTS):
        assert isinstance(
            asset_graph.get_partition_mapping(MODEL_DAY, upstream), dg.AllPartitionMapping
        )


def test_asset_groups_with_each_asset_are_as_documented(asset_graph):
    groups = {key: asset_graph.get(key).group_name for key in asset_graph.get_all_asset_keys()}
    assert groups == {
        MARKET_PRICES: "market_data",
        DOCUMENTS: "market_data",
        MODEL_DAY: "simulation",
        DAILY_PORTFOLIO: "analytics",
        METRICS: "analytics",
        LEADERBOARD: "analytics",
        STUDY: "studies",
    }


def test_assets_with_owners_tags_and_code_references_show_who_and_where(asset_graph):
    for key in asset_graph.get_all_asset_keys():
        node = asset_graph.get(key)
        assert node.owners == ["team:quant-analytics"], key
        assert node.tags["layer"] == node.group_name, key
        refs = node.metadata["dagster/code_references"].code_references
        assert any(r.file_path.endswith(".py") and r.line_number > 0 for r in refs), key


def test_model_day_column_schema_with_migrated_store_lists_model_days_columns(asset_graph):
    schema = asset_graph.get(MODEL_DAY).metadata["dagster/column_schema"]
    names = [c.name for c in schema.columns]
    assert names[:3] == ["model", "date", "status"]
    assert {"cash", "portfolio_value", "daily_return", "n_filled", "n_rejected"} <= set(names)


def test_implicit_asset_job_with_all_assets_uses_in_process_executor():
    job = defs.resolve_implicit_global_asset_job_def()
    assert job.executor_def is dg.in_process_executor
    assert set(job.asset_layer.selected_asset_keys) == {
        MARKET_PRICES,
        DOCUMENTS,
        MODEL_DAY,
        DAILY_PORTFOLIO,
        METRICS,
        LEADERBOARD,
        STUDY,
    }


# -- model_day partitions -------------------------------------------------------------


def test_model_day_partitions_with_two_dimensions_are_date_and_dynamic_models(model_day):
    pdef = model_day.partitions_def
    assert isinstance(pdef, dg.MultiPartitionsDefinition)
    assert [d.name for d in pdef.partitions_defs] == ["date", "model"]
    dates = date_dimension(model_day)
    assert isinstance(dates, dg.TimeWindowPartitionsDefinition)
    assert (dates.cron_schedule, dates.fmt, dates.timezone) == ("0 0 * * 1-5", "%Y-%m-%d", "UTC")
    models = pdef.get_partitions_def_for_dimension("model")
    assert models == dg.DynamicPartitionsDefinition(name=MODELS_PARTITION)


def test_model_day_partitions_with_instance_models_give_date_pipe_model_keys(model_day, instance):
    keys = model_day.partitions_def.get_partition_keys(dynamic_partitions_store=instance)
    assert "2012-01-03|m1" in keys and "2012-01-03|m3" in keys
    assert keys[0].keys_by_dimension == {"date": "2000-01-03", "model": "m1"}


def test_model_day_date_keys_with_bundled_history_are_the_weekdays(model_day):
    keys = dates_between(model_day, BUNDLED_START, BUNDLED_END)
    start, end = dt.date.fromisoformat(BUNDLED_START), dt.date(2013, 3, 1)
    weekdays = [
        (start + dt.timedelta(days=i)).isoformat()
        for i in range((end - start).days + 1)
        if (start + dt.timedelta(days=i)).weekday() < 5
    ]
    assert keys == weekdays
    # the XNYS sessions among them are exactly the bundled history's 3,270 days
    assert len(trading_days(start, end)) == 3270
    assert {d.isoformat() for d in trading_days(start, end)} <= set(keys)


@pytest.mark.parametrize(
    "closed",
    ["2001-09-11", "2001-09-12", "2001-09-13", "2001-09-14", "2012-07-04", "2012-12-25"],
)
def test_model_day_date_keys_with_exchange_closed_weekday_keep_a_no_op_partition(model_day, closed):
    # a partition (so the weekday cron stays exclusion-free and cheap for the daemon)
    # that the asset materializes without simulating: XNYS says nobody trades that day
    assert closed in dates_between(model_day, "2001-09-01", "2012-12-31")
    assert not is_trading_day(dt.date.fromisoformat(closed))


def test_model_day_date_keys_with_weekend_leave_it_out(model_day):
    keys = set(dates_between(model_day, "2012-07-01", "2012-07-08"))
    assert "2012-07-07" not in keys and "2012-07-08" not in keys


# -- the date chain -------------------------------------------------------------------


def test_partition_mapping_with_day_after_closure_maps_to_previous_weekday_of_same_model(
    model_day, asset_graph, instance
):
    # Dagster chains weekdays; the engine then reads state from the previous XNYS session
    assert upstream_of(model_day, asset_graph, "2001-09-17|m1", instance) == ["2001-09-14|m1"]
    assert previous_trading_day(dt.date(2001, 9, 17)) == dt.date(2001, 9, 10)


def test_partition_mapping_with_day_after_holiday_maps_to_holiday_of_same_model(
    model_day, asset_graph, instance
):
    assert upstream_of(model_day, asset_graph, "2012-07-05|m2", instance) == ["2012-07-04|m2"]
    assert previous_trading_day(dt.date(2012, 7, 5)) == dt.date(2012, 7, 3)


def test_partition_mapping_with_monday_maps_to_friday_of_same_model(
    model_day, asset_graph, instance
):
    assert upstream_of(model_day, asset_graph, "2012-01-09|m3", instance) == ["2012-01-06|m3"]


def test_partition_mapping_with_first_date_has_no_upstream(model_day, asset_graph, instance):
    first = date_dimension(model_day).get_first_partition_key()
    assert upstream_of(model_day, asset_graph, f"{first}|m1", instance) == []


def test_partition_mapping_with_downstream_of_a_day_is_next_weekday_of_same_model(
    model_day, asset_graph, instance
):
    assert downstream_of(model_day, asset_graph, "2001-09-10|m1", instance) == ["2001-09-11|m1"]


# -- policies, checks, automation, resources ------------------------------------------


def test_model_day_backfill_policy_with_any_range_is_single_run(model_day):
    assert model_day.backfill_policy == dg.BackfillPolicy.single_run()
    assert model_day.backfill_policy.max_partitions_per_run is None  # the whole range


def test_downstream_assets_with_eager_automation_are_unpartitioned(asset_graph):
    from trading_assets.defs.automation_conditions import AFTER_PASSING_CHECKS

    for key in (DAILY_PORTFOLIO, METRICS, LEADERBOARD):
        node = asset_graph.get(key)
        assert node.partitions_def is None
    # the analytics right after model_day wait for its blocking parity check to pass
    assert asset_graph.get(DAILY_PORTFOLIO).automation_condition == AFTER_PASSING_CHECKS
    # lineage says what each reads, but the leaderboard waits for metrics, not for a day
    assert asset_graph.get(LEADERBOARD).automation_condition == (
        dg.AutomationCondition.eager().ignore(dg.AssetSelection.assets(MODEL_DAY))
    )
    assert asset_graph.get(MARKET_PRICES).partitions_def is None


def test_model_day_check_specs_with_legacy_parity_is_blocking(model_day, asset_graph):
    specs = list(model_day.check_specs)
    assert [(s.name, s.asset_key, s.blocking) for s in specs] == [
        ("legacy_parity", MODEL_DAY, True)
    ]
    model_day_checks = {k for k in asset_graph.asset_check_keys if k.asset_key == MODEL_DAY}
    assert model_day_checks == {dg.AssetCheckKey(MODEL_DAY, "legacy_parity")}


def test_market_prices_check_specs_are_the_five_data_quality_rules(asset_graph):
    checks = {k.name for k in asset_graph.asset_check_keys if k.asset_key == MARKET_PRICES}
    assert checks == {
        "missing_days",
        "positive_finite_prices",
        "possible_corporate_actions",
        "unexplained_jumps",
        "stale_last_date",
    }


def test_schedules_and_sensors_with_default_status_are_stopped():
    repo = defs.get_repository_def()
    schedules = {s.name: s for s in repo.schedule_defs}
    sensors = {s.name: s for s in repo.sensor_defs}
    assert set(schedules) == {"market_prices_daily", "trading_day_close"}
    assert set(sensors) == {
        "models_config_sensor",
        "new_models_sensor",
        "new_prices_sensor",
        "trading_day_automation",
    }
    assert all(s.default_status == dg.DefaultScheduleStatus.STOPPED for s in schedules.values())
    assert all(s.default_status == dg.DefaultSensorStatus.STOPPED for s in sensors.values())


def test_market_prices_schedule_with_weekday_cron_runs_after_the_new_york_close():
    schedule = defs.get_repository_def().get_schedule_def("market_prices_daily")
    assert schedule.cron_schedule == "30 17 * * 1-5"
    assert schedule.execution_timezone == "America/New_York"
    job = defs.get_repository_def().get_job(schedule.job_name)
    assert set(job.asset_layer.selected_asset_keys) == {MARKET_PRICES, DOCUMENTS}


def test_trading_day_close_schedule_runs_daily_after_the_close_and_targets_model_day():
    schedule = defs.get_repository_def().get_schedule_def("trading_day_close")
    # every day at 18:00 New York: the XNYS calendar, not cron, skips weekends and holidays
    assert (schedule.cron_schedule, schedule.execution_timezone) == (
        "0 18 * * *",
        "America/New_York",
    )
    job = defs.get_repository_def().get_job(schedule.job_name)
    assert set(job.asset_layer.selected_asset_keys) == {MODEL_DAY}


def test_trading_day_automation_with_assets_targets_model_day_and_analytics():
    sensor = defs.get_repository_def().get_sensor_def("trading_day_automation")
    assert isinstance(sensor, dg.AutomationConditionSensorDefinition)
    assert sensor.emit_backfills
    assert sensor.asset_selection.resolve(defs.resolve_asset_graph()) == {
        MODEL_DAY,
        DAILY_PORTFOLIO,
        METRICS,
        LEADERBOARD,
    }


def test_resources_with_defaults_are_store_kernel_llm_and_migration():
    resources = defs.resources
    assert set(resources) == {
        "store", "merge_kernel", "llm", "migration", "clock", "study_io_manager",
    }  # fmt: skip
    # a study's chunk results between steps: on the instance's storage unless a folder
    # every worker host reaches is named (TRADING_ASSETS_STUDY_IO_DIR)
    assert isinstance(resources["study_io_manager"], dg.FilesystemIOManager)
    assert isinstance(resources["store"], StoreResource)
    assert isinstance(resources["merge_kernel"], MergeKernel)
    assert isinstance(resources["llm"], LLMResource)
    assert isinstance(resources["migration"], MigrationResource)
    path = resources["store"].path
    assert isinstance(path, dg.EnvVar) and path.env_var_name == "TRADING_ASSETS_STORE"


def test_llm_resource_with_defaults_carries_no_api_key():
    fields = set(LLMResource.model_fields)
    assert fields == {"base_url", "timeout_seconds", "max_retries"}
    assert not any("key" in name for name in fields)


# -- the date dimension spans the stored market data (defs/partitions.py) ---------------


def test_date_partitions_with_historical_coverage_run_from_its_first_to_its_last_bar():
    bundled = Coverage(first=dt.date(2000, 3, 1), last=dt.date(2013, 3, 1))
    keys = trading_date_partitions(bundled, today=dt.date(2026, 11, 29)).get_partition_keys()
    assert (keys[0], keys[-1]) == ("2000-03-01", "2013-03-01")
    # weekdays: the 3,270 XNYS sessions and 123 holidays (recorded no-ops)
    assert len(keys) == 3393 and len(trading_days(dt.date(2000, 3, 1), dt.date(2013, 3, 1))) == 3270


def test_date_partitions_with_live_coverage_keep_todays_partition():
    live = Coverage(first=dt.date(2020, 1, 2), last=dt.date(2026, 11, 25))
    keys = trading_date_partitions(live, today=dt.date(2026, 11, 26)).get_partition_keys(
        current_time=dt.datetime(2026, 11, 26, 23, tzinfo=dt.UTC)
    )
    assert (keys[0], keys[-1]) == ("2020-01-02", "2026-11-26")


def test_date_partitions_without_coverage_span_the_default_period():
    thursday = dt.date(2026, 12, 3)
    keys = trading_date_partitions(None, today=thursday).get_partition_keys(
        current_time=dt.datetime(2026, 12, 3, 23, tzinfo=dt.UTC)
    )
    assert (keys[0], keys[-1]) == (DATE_START.isoformat(), "2026-12-03")


def test_market_prices_with_bundled_source_writes_the_coverage_the_definitions_read(tmp_path):
    from trading_assets.config import load_config, model_specs
    from trading_assets.store.results import ResultStore

    (tmp_path / "models.yaml").write_text(
        "universe: [AAPL]\nmodels:\n  - {signature: m1, agent: buy_and_hold}\n"
    )
    store = ResultStore(tmp_path / "store.duckdb")
    store.register_models(model_specs(load_config(tmp_path / "models.yaml")))
    assert read_coverage(store.path) is None
    result = dg.materialize(
        [defs.get_assets_def(MARKET_PRICES)],
        resources={**defs.resources, "store": StoreResource(path=str(store.path))},
    )
    assert result.success
    assert read_coverage(store.path) == Coverage(
        first=dt.date(2000, 3, 1), last=dt.date(2013, 3, 1)
    )
    assert json.loads(coverage_path(store.path).read_text()) == {
        "first": "2000-03-01",
        "last": "2013-03-01",
    }
