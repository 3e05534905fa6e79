"""register_models_job: models added from the UI alone. Its run config is a models YAML
fragment; valid models are registered (the CLI's rules) and get their model partition,
so model_day's backfill of them runs; a bad fragment fails the run with one clear line
and registers nothing. Real Definitions, real instance, real store."""

from __future__ import annotations

import dagster as dg
import pytest

from trading_assets.defs.definitions import defs
from trading_assets.defs.partitions import MODELS_PARTITION
from trading_assets.defs.resources.store import StoreResource
from trading_assets.market.sources import BundledSource
from trading_assets.store.results import ResultStore

GOOD = """universe: [AAPL, MSFT]
models:
  - {signature: ui-sma, agent: sma_crossover, params: {fast: 5, slow: 20, size: 10}}
"""


@pytest.fixture
def store(tmp_path, monkeypatch) -> ResultStore:
    result_store = ResultStore(tmp_path / "store.duckdb")
    result_store.write_prices("bundled", BundledSource().load())  # as market_prices does
    monkeypatch.setenv("TRADING_ASSETS_STORE", str(result_store.path))
    return result_store


def register(instance: dg.DagsterInstance, text: str) -> dg.ExecuteInProcessResult:
    return defs.get_job_def("register_models_job").execute_in_process(
        run_config={"ops": {"register_models": {"config": {"models_yaml": text}}}},
        instance=instance,
        raise_on_error=False,
    )


def failure(result: dg.ExecuteInProcessResult) -> str:
    (event,) = [e for e in result.all_events if e.is_step_failure]
    return event.step_failure_data.user_failure_data.description


def test_register_job_registers_the_fragments_model_and_its_backfill_runs(store):
    with dg.DagsterInstance.ephemeral() as instance:
        result = register(instance, GOOD)
        assert result.success
        assert instance.get_dynamic_partitions(MODELS_PARTITION) == ["ui-sma"]
        (spec,) = store.model_specs()
        assert (spec.signature, dict(spec.params)) == (
            "ui-sma",
            {"fast": 5, "slow": 20, "size": 10},
        )
        # what launching its backfill from model_day's page runs: one range of the model
        backfill = dg.materialize(
            [defs.get_assets_def("model_day")],
            instance=instance,
            resources={**defs.resources, "store": StoreResource(path=str(store.path))},
            tags={
                "dagster/asset_partition_range_start": "2012-01-03|ui-sma",
                "dagster/asset_partition_range_end": "2012-01-31|ui-sma",
            },
        )
    assert backfill.success
    days = store.query("SELECT count(*) AS n FROM model_days WHERE model = 'ui-sma'")["n"][0]
    assert days == 20  # January 2012's sessions


@pytest.mark.parametrize(
    ("text", "said"),
    [
        (
            "universe: [AAPL]\nmodels:\n  - {signature: bad, agent: sma_crossover, "
            "params: {fast: 20, slow: 5}}\n",
            "run config models_yaml: models[0] (bad): invalid params for agent 'sma_crossover'",
        ),
        ("universe: [AAPL]\nmodels: [}\n", "run config models_yaml:2: not valid YAML"),
        (
            "universe: [ZZZZ]\nmodels:\n  - {signature: nodata, agent: buy_and_hold}\n",
            "no model registered: REJECTED nodata:",
        ),
    ],
)
def test_register_job_with_bad_fragment_fails_with_one_line_and_registers_nothing(
    store, text, said
):
    with dg.DagsterInstance.ephemeral() as instance:
        result = register(instance, text)
        assert not result.success
        why = failure(result)
        assert why.startswith(said), why
        assert "\n" not in why and ("Fix:" in why or "REJECTED" in why)
        assert instance.get_dynamic_partitions(MODELS_PARTITION) == []
    assert store.model_specs() == []
