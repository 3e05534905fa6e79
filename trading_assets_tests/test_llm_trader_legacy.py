"""The migration's last step: the fixture's gpt-5, imported and replayed, is continued
by an llm_trader model from its stored state (`start_from`), against a local server."""

from __future__ import annotations

import datetime as dt
import json

from trading_assets.config import ModelSpec
from trading_assets.defs.resources.llm import LLMResource
from trading_assets.legacy.importer import import_legacy
from trading_assets.runs.model import run_model
from trading_assets.runs.model_day import run_range
from trading_assets.store.legacy_import import legacy_trading_dates
from trading_assets.store.results import ResultStore, stored_day
from trading_assets_tests.legacy_fixture import FIXTURE_ROOT
from trading_assets_tests.openai_server import OpenAIServer, Reply

CONTINUE_AFTER = dt.date(2025, 10, 21)  # the fixture config's end_date


def test_gpt5_is_continued_by_an_llm_trader_from_its_imported_state(tmp_path):
    store = ResultStore(tmp_path / "s.duckdb")
    import_legacy(store, FIXTURE_ROOT)
    dates = legacy_trading_dates(store, "gpt-5")
    replayed = [d for d in dates if d <= CONTINUE_AFTER]
    later = [d for d in dates if d > CONTINUE_AFTER]
    assert run_model(store, "gpt-5", replayed).failure is None
    status, cash, value, _, held = stored_day(store, "gpt-5", replayed[-1])
    gpt5 = store.model_spec("gpt-5")
    with OpenAIServer(default=Reply.content("Holding. <FINISH_SIGNAL>")) as server:
        llm = {"model": "openai/gpt-5", "base_url": server.base_url}
        spec = ModelSpec(
            signature="gpt-5-llm",
            agent="llm_trader",
            params={"llm": llm},
            universe=gpt5.universe,
            initial_cash=gpt5.initial_cash,
            market_data=gpt5.market_data,
            fees=gpt5.fees,
            corporate_actions=gpt5.corporate_actions,
            start_from="gpt-5",
        )
        store.register_models([spec])
        outcome = run_range(store, {"gpt-5-llm": later}, endpoint_for=LLMResource().endpoint)
        first_prompt = server.requests[0].body["messages"][0]["content"]
    assert outcome.failures == []
    # the first continued day starts from gpt-5's last replayed day: same shares, same cash
    positions = json.loads(
        first_prompt.split("positions (shares per symbol, and CASH): ")[1].split("\n")[0]
    )
    assert {s: q for s, q in positions.items() if s != "CASH" and q} == held
    assert positions["CASH"] == cash
    new_status, new_cash, _, _, new_held = stored_day(store, "gpt-5-llm", later[0])
    assert (new_status, new_cash, new_held) == ("completed", cash, held)  # it held
    assert status == "completed" and value > 0
