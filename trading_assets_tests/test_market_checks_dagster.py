"""The data-quality checks on market_prices through Dagster (in-process materialize, real
store): a folder source with a missing day, an unexplained jump, an explained split and a
stale symbol; each failing check names the symbol and date."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from trading_assets.config import load_config, model_specs
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.definitions import defs
from trading_assets.defs.resources.store import StoreResource
from trading_assets.store.results import ResultStore

HEADER = "date,open,high,low,close,volume,split_ratio\n"
FILES = {
    # no bar on Friday 2012-01-06; a 2:1 split on the 9th explains the halved open
    "AAA.csv": HEADER + "2012-01-03,100,101,99,100,1000,\n2012-01-04,100,101,99,100,1000,\n"
    "2012-01-05,100,101,99,100,1000,\n2012-01-09,50,51,49,50,1000,2\n"
    "2012-01-10,50,51,49,50,1000,\n",
    # opens 40 % up on the 9th with no corporate action
    "BBB.csv": HEADER + "2012-01-03,20,21,19,20,1000,\n2012-01-04,20,21,19,20,1000,\n"
    "2012-01-05,20,21,19,20,1000,\n2012-01-06,20,21,19,20,1000,\n"
    "2012-01-09,28,29,27,28,1000,\n2012-01-10,28,29,27,28,1000,\n",
    # stops on the 5th while the others go on
    "CCC.csv": HEADER + "2012-01-03,5,6,4,5,1000,\n2012-01-04,5,6,4,5,1000,\n"
    "2012-01-05,5,6,4,5,1000,\n",
}
CONFIG = """universe: [AAA, BBB, CCC]
market_data: {source: folder, path: prices}
models:
  - {signature: bh, agent: buy_and_hold}
"""


def materialize(tmp_path: Path, files: dict[str, str]) -> dg.ExecuteInProcessResult:
    (tmp_path / "prices").mkdir()
    for name, text in files.items():
        (tmp_path / "prices" / name).write_text(text)
    (tmp_path / "models.yaml").write_text(CONFIG)
    store = ResultStore(tmp_path / "store.duckdb")
    store.register_models(model_specs(load_config(tmp_path / "models.yaml")))
    resources = {**defs.resources, "store": StoreResource(path=str(store.path))}
    with dg.DagsterInstance.ephemeral() as instance:
        return dg.materialize(
            [market_prices], instance=instance, resources=resources, raise_on_error=False
        )


@pytest.fixture
def evaluations(tmp_path):
    result = materialize(tmp_path, FILES)
    assert result.success  # failing checks do not block the asset
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def test_market_checks_are_declared_on_market_prices():
    checks = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    expected = {"missing_days", "positive_finite_prices", "unexplained_jumps", "stale_last_date"}
    assert expected <= checks


def test_missing_day_check_names_the_symbol_and_date(evaluations):
    check = evaluations["missing_days"]
    assert not check.passed
    assert "AAA" in check.description and "2012-01-06" in check.description
    assert "BBB" not in check.description


def test_unexplained_jump_warns_with_symbol_and_date_and_spares_the_split(evaluations):
    check = evaluations["unexplained_jumps"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.WARN
    assert "BBB" in check.description and "2012-01-09" in check.description
    assert "AAA" not in check.description


def test_stale_check_names_the_symbol_and_its_last_date(evaluations):
    check = evaluations["stale_last_date"]
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.description.endswith(
        "CCC: last bar older than the source's last date 2012-01-10 on 2012-01-05"
    )


def test_positive_prices_check_passes_on_valid_bars(evaluations):
    check = evaluations["positive_finite_prices"]
    assert check.passed and check.metadata["symbols_at_fault"].value == 0


def test_zero_price_never_reaches_the_store_the_load_names_file_and_line(tmp_path):
    files = {**FILES, "ZZZ.csv": HEADER + "2012-01-03,5,6,4,5,1000,\n2012-01-04,5,6,0,0,1000,\n"}
    result = materialize(tmp_path, files)
    # the source is not (re)loaded, and says why; other sources would still load
    assert result.success
    [materialization] = result.asset_materializations_for_node("market_prices")
    [error] = materialization.metadata["failed_sources"].data.values()
    assert "ZZZ.csv:3" in error and "positive" in error
    assert ResultStore(tmp_path / "store.duckdb").query("SELECT * FROM prices").empty
