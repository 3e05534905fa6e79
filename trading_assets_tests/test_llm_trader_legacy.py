"""The migration's last step: the fixture's gpt-5, imported and replayed, is continued
by an llm_trader model from its stored state, with the models YAML that
`import-legacy --write-models` writes, against a local chat-completions server."""

from __future__ import annotations

import datetime as dt
import json

import yaml

from trading_assets.config import load_config, model_specs
from trading_assets.defs.resources.llm import LLMResource
from trading_assets.legacy.config import load_config as load_legacy_config
from trading_assets.legacy.continuation import write_continuation
from trading_assets.legacy.importer import import_legacy
from trading_assets.runs.model import run_model
from trading_assets.runs.model_day import run_range
from trading_assets.store.legacy_import import legacy_trading_dates
from trading_assets.store.results import ResultStore, stored_day
from trading_assets_tests.legacy_fixture import FIXTURE_ROOT
from trading_assets_tests.openai_server import OpenAIServer, Reply

CONTINUE_AFTER = dt.date(2025, 10, 21)  # the fixture config's end_date


def test_gpt5_is_continued_by_an_llm_trader_from_its_imported_state(tmp_path, monkeypatch):
    store = ResultStore(tmp_path / "s.duckdb")
    import_legacy(store, FIXTURE_ROOT)
    legacy = load_legacy_config(FIXTURE_ROOT / "configs" / "default_config.json")
    imported = [store.model_spec(s) for s in store.model_signatures()]
    path = tmp_path / "continue.yaml"
    assert write_continuation(path, legacy, imported) == 1  # gpt-5: the only enabled model
    written = yaml.safe_load(path.read_text())
    [model] = written["models"]
    assert model["signature"] == "gpt-5-live" and model["start_from"] == "gpt-5"
    assert model["params"]["llm"] == {
        "model": "openai/gpt-5",  # the legacy basemodel
        "api_key_env": "OPENAI_API_KEY",  # the key itself is never in the file
        "max_retries": legacy.agent_config.max_retries,
        "backoff_seconds": legacy.agent_config.base_delay,
    }
    [spec] = model_specs(load_config(path))
    assert set(store.model_spec("gpt-5").universe) <= set(spec.universe)
    store.register_models([spec])
    # gpt-5 replayed up to the legacy config's end date; the live model takes over after it
    dates = legacy_trading_dates(store, "gpt-5")
    replayed = [d for d in dates if d <= CONTINUE_AFTER]
    later = [d for d in dates if d > CONTINUE_AFTER]
    assert run_model(store, "gpt-5", replayed).failure is None
    status, cash, _, _, held = stored_day(store, "gpt-5", replayed[-1])
    with OpenAIServer(default=Reply.content("Holding. <FINISH_SIGNAL>")) as server:
        monkeypatch.setenv("OPENAI_API_BASE", server.base_url)  # no base_url in the config
        outcome = run_range(store, {"gpt-5-live": later}, endpoint_for=LLMResource().endpoint)
        first = server.requests[0].body
    assert outcome.failures == []
    assert first["model"] == "openai/gpt-5"
    # its first day starts from gpt-5's last replayed day: the same shares and cash
    prompt = first["messages"][0]["content"]
    line = prompt.split("positions (shares per symbol, and CASH): ")[1].split("\n")[0]
    positions = json.loads(line)
    assert status == "completed" and held
    assert {s: q for s, q in positions.items() if s != "CASH" and q} == held
    assert positions["CASH"] == cash
    assert stored_day(store, "gpt-5-live", later[0])[:2] == ("completed", cash)  # it held
