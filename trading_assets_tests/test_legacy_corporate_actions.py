"""The legacy import and corporate actions: AI-Trader applied none, so the replay models
are registered with `corporate_actions: ignore`, and the Alpha Vantage price source is
stored as having no corporate actions (`price_sources`, `market_prices` metadata)."""

from __future__ import annotations

import dagster as dg

from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.definitions import defs
from trading_assets.defs.resources.store import StoreResource
from trading_assets.legacy.importer import import_legacy
from trading_assets.store.results import ResultStore
from trading_assets_tests.legacy_fixture import FIXTURE_ROOT


def test_import_registers_replay_models_with_corporate_actions_ignore(tmp_path):
    store = ResultStore(tmp_path / "s.duckdb")
    report = import_legacy(store, FIXTURE_ROOT)
    specs = store.model_specs()
    assert {s.signature for s in specs} == set(report.accepted)
    assert {(s.agent, s.corporate_actions) for s in specs} == {("replay", "ignore")}
    [(flag, actions)] = store.query(
        "SELECT has_corporate_actions, (SELECT count(*) FROM corporate_actions) FROM price_sources"
    ).itertuples(index=False)
    assert flag is False and actions == 0
    assert store.load_prices(report.price_source).actions is None


def test_market_prices_metadata_says_the_legacy_source_has_no_actions(tmp_path):
    store = ResultStore(tmp_path / "s.duckdb")
    import_legacy(store, FIXTURE_ROOT)
    resources = {**defs.resources, "store": StoreResource(path=str(store.path))}
    with dg.DagsterInstance.ephemeral() as instance:
        result = dg.materialize([market_prices], instance=instance, resources=resources)
    [mat] = result.asset_materializations_for_node("market_prices")
    summary = mat.metadata["summary"].value
    assert "| corporate actions |" in summary and "none (source has none)" in summary
