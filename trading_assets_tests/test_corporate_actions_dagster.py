"""A folder source with a split and a dividend, end to end through Dagster: model_day
(in-process `materialize`, real store) applies them with `corporate_actions: apply`
and leaves the raw behaviour with `ignore`; the holdings and cash rows show it."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from trading_assets.config import load_config, model_specs, source_id
from trading_assets.defs.definitions import defs
from trading_assets.defs.partitions import MODELS_PARTITION
from trading_assets.defs.resources.store import StoreResource
from trading_assets.market.sources import FolderSource
from trading_assets.store.results import ResultStore
from trading_assets_tests.test_model_day_asset import run_range

D = dt.date
# AAA splits 2:1 on 2012-01-09 (prices halve) and pays 0.50 a share on 2012-01-11
BARS = """date,open,high,low,close,volume,split_ratio
2012-01-03,100.0,101.0,99.0,100.0,1000,
2012-01-04,100.0,103.0,99.0,102.0,1000,
2012-01-05,102.0,104.0,101.0,104.0,1000,
2012-01-06,104.0,105.0,103.0,104.0,1000,
2012-01-09,52.5,53.0,51.0,52.0,2000,2
2012-01-10,52.0,54.0,51.5,53.0,2000,
2012-01-11,52.5,53.5,52.0,53.0,2000,
2012-01-12,53.0,54.0,52.5,54.0,2000,
"""
SIDECAR = "symbol,ex_date,split_ratio,dividend\nAAA,2012-01-11,,0.5\n"
CONFIG = """initial_cash: 10000
universe: [AAA]
market_data: {{source: folder, path: prices}}
corporate_actions: {mode}
models:
  - {{signature: bh-{mode}, agent: buy_and_hold, params: {{fraction: 1.0}}}}
"""
MODELS = ("bh-apply", "bh-ignore")


@pytest.fixture
def store(tmp_path: Path, monkeypatch) -> ResultStore:
    for name in list(os.environ):  # no TA_* migration flags from the shell
        if name.startswith("TA_"):
            monkeypatch.delenv(name)
    (tmp_path / "prices").mkdir()
    (tmp_path / "prices" / "AAA.csv").write_text(BARS)
    (tmp_path / "prices" / "corporate_actions.csv").write_text(SIDECAR)
    result_store = ResultStore(tmp_path / "store.duckdb")
    for mode in ("apply", "ignore"):
        path = tmp_path / f"{mode}.yaml"
        path.write_text(CONFIG.format(mode=mode))
        specs = model_specs(load_config(path))
        result_store.register_models(specs)
    market = specs[0].market_data
    result_store.write_prices(source_id(market), FolderSource(market.path).load())
    return result_store


def test_model_day_with_folder_split_and_dividend_applies_them_only_with_apply(store):
    resources = {**defs.resources, "store": StoreResource(path=str(store.path))}
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(MODELS_PARTITION, list(MODELS))
        result = run_range(instance, resources, D(2012, 1, 3), D(2012, 1, 12), MODELS)
    assert result.success

    holdings = store.query("SELECT model, date, shares FROM holdings ORDER BY model, date")
    shares = {(m, pd.Timestamp(d).date()): q for m, d, q in holdings.itertuples(index=False)}
    days = store.query("SELECT model, date, cash, portfolio_value FROM model_days")
    cash = {(m, pd.Timestamp(d).date()): c for m, d, c, _ in days.itertuples(index=False)}
    value = {(m, pd.Timestamp(d).date()): v for m, d, _, v in days.itertuples(index=False)}

    # 10,000 / 100 = 100 shares at the first open, no cash left
    assert shares[("bh-apply", D(2012, 1, 6))] == 100
    assert shares[("bh-apply", D(2012, 1, 9))] == 200
    assert cash[("bh-apply", D(2012, 1, 10))] == 0.0
    assert cash[("bh-apply", D(2012, 1, 11))] == 200 * 0.5
    assert value[("bh-apply", D(2012, 1, 9))] == 200 * 52.0  # not half of it

    assert {q for (m, _), q in shares.items() if m == "bh-ignore"} == {100}
    assert value[("bh-ignore", D(2012, 1, 9))] == 100 * 52.0  # the raw split "loss"
    assert cash[("bh-ignore", D(2012, 1, 12))] == 0.0


def day_pages(instance: dg.DagsterInstance, model: str) -> dict[str, dict]:
    """Each model-day's metadata as its partition page shows it, by date."""
    records = instance.fetch_materializations(dg.AssetKey("model_day"), limit=100).records
    return {
        r.partition_key.split("|")[0]: {
            k: v.value for k, v in r.asset_materialization.metadata.items()
        }
        for r in records
        if r.partition_key.endswith(f"|{model}")
    }


def test_model_day_page_shows_the_split_the_dividend_the_reasoning_and_the_config(store):
    resources = {**defs.resources, "store": StoreResource(path=str(store.path))}
    with dg.DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions(MODELS_PARTITION, ["bh-apply"])
        result = run_range(instance, resources, D(2012, 1, 3), D(2012, 1, 12), ("bh-apply",))
        assert result.success
        pages = day_pages(instance, "bh-apply")
        tags = instance.get_run_by_id(result.run_id).tags

    # 100 shares bought at the first open; the 2:1 split doubles them before the 9th's open
    assert pages["2012-01-09"]["corporate_actions"] == "AAA split 2:1: 100 -> 200 shares"
    assert pages["2012-01-09"]["holdings"] == "AAA 200"
    assert pages["2012-01-11"]["corporate_actions"] == (
        "AAA dividend 0.5/share on 200 shares: +100.00 cash"
    )
    assert pages["2012-01-10"]["corporate_actions"] == "none"
    # the first day's signal says why it bought, as the signals table stores it
    (why,) = store.query(
        "SELECT reasoning FROM signals WHERE model = 'bh-apply' AND date = '2012-01-03'"
    )["reasoning"]
    assert pages["2012-01-03"]["reasoning"] == f"AAA: {why}"
    # which config produced the day: on the page and on the run
    (config_hash,) = store.query("SELECT config_hash FROM models WHERE signature = 'bh-apply'")[
        "config_hash"
    ]
    assert pages["2012-01-03"]["config_hash"] == config_hash
    assert pages["2012-01-03"]["param.fraction"] == 1.0
    assert tags["trading_assets/model"] == "bh-apply"
    assert tags["trading_assets/config_hash"] == config_hash
    assert tags["trading_assets/param.fraction"] == "1.0"
