"""A model that continues another model's stored state (`start_from`): its first day
starts from that model's last stored cash and holdings before it, not from
initial_cash; no stored day to start from, or holdings outside its universe, is refused."""

from __future__ import annotations

import datetime as dt

import pytest

from trading_assets.config import FeesConfig, MarketDataConfig, ModelSpec, load_config
from trading_assets.errors import ConfigError, StoreError
from trading_assets.market.calendar import trading_days
from trading_assets.market.sources import BundledSource
from trading_assets.runs.model import run_model
from trading_assets.store.results import ResultStore

DAYS = trading_days(dt.date(2012, 1, 3), dt.date(2012, 1, 10))  # 6 sessions


def spec(signature: str, start_from: str | None = None, universe=("IBM",)) -> ModelSpec:
    return ModelSpec(
        signature=signature,
        agent="buy_and_hold",
        params={},
        universe=universe,
        initial_cash=10_000.0,
        market_data=MarketDataConfig(),
        fees=FeesConfig(),
        start_from=start_from,
    )


@pytest.fixture
def store(tmp_path) -> ResultStore:
    store = ResultStore(tmp_path / "s.duckdb")
    store.write_prices("bundled", BundledSource().load())
    return store


def day(store, model, date):
    return store.query(
        "SELECT d.cash, d.portfolio_value, h.shares FROM model_days d LEFT JOIN holdings h "
        "USING (model, date) WHERE d.model = ? AND d.date = ?",
        [model, date],
    ).iloc[0]


def test_continued_model_starts_from_the_sources_close_not_its_initial_cash(store):
    source = spec("old")
    continued = spec("new", "old")
    store.register_models([source, continued])
    run_model(store, "old", DAYS)
    run_model(store, "new", DAYS[3:])  # continues from old's last day before DAYS[3]
    old_day3, new_day4, old_day4 = (
        day(store, "old", DAYS[2]),
        day(store, "new", DAYS[3]),
        day(store, "old", DAYS[3]),
    )
    # buy_and_hold already holds everything it can buy: the new model keeps the old one's
    # shares and cash, so on day 4 both are worth the same
    assert new_day4.shares == old_day3.shares > 0
    assert new_day4.cash == old_day3.cash < 10_000.0 * 0.02
    assert new_day4.portfolio_value == old_day4.portfolio_value


def test_continued_model_changes_its_config_hash_and_plain_specs_keep_theirs():
    plain = spec("new")
    continued = spec("new", "old")
    assert continued.config_hash != plain.config_hash
    # the hash this spec had before start_from existed (printed by the previous commit)
    assert plain.config_hash == "ee932c160afb478a"


def test_continued_model_with_nothing_stored_before_its_first_day_is_refused(store):
    store.register_models([spec("old"), spec("new", "old")])
    with pytest.raises(StoreError) as err:
        run_model(store, "new", DAYS[3:])
    assert "model 'old' has no stored day before 2012-01-06 to start from" in str(err.value)


def test_continued_model_holding_a_symbol_outside_its_universe_is_refused(store):
    store.register_models([spec("old"), spec("new", "old", universe=("AAPL",))])
    run_model(store, "old", DAYS)
    with pytest.raises(StoreError, match="model 'old' holds IBM on 2012-01-05, outside this"):
        run_model(store, "new", DAYS[3:])


def test_models_yaml_start_from_names_another_model_and_refuses_itself(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text(
        "universe: [IBM]\nmodels:\n  - {signature: new, agent: buy_and_hold, start_from: old}\n"
    )
    [model] = load_config(path).models
    assert model.start_from == "old"
    path.write_text(
        "universe: [IBM]\nmodels:\n  - {signature: new, agent: buy_and_hold, start_from: new}\n"
    )
    with pytest.raises(ConfigError, match="start_from must name another model"):
        load_config(path)
