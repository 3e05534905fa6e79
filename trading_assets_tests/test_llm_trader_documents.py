"""get_information: the llm_trader's documents, point in time, from the store.

Real local chat-completions server, real DuckDB store, real Dagster: the `documents`
asset reads the model's folder into the store (with its checks), the run reads the store
(the folder may be gone), and no request the server received carries a document
published at or after the open of its day.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from importlib.metadata import EntryPoint

import dagster as dg
import pytest

from trading_assets.defs.definitions import defs
from trading_assets.defs.resources.clock import ClockResource
from trading_assets.defs.resources.store import StoreResource
from trading_assets.errors import ConfigError
from trading_assets.llm import plugin_tools
from trading_assets.market.calendar import session_open
from trading_assets.store.documents import load_documents as stored_documents

try:  # package layout (trading_assets_tests/__init__.py) or the repo root on sys.path
    from trading_assets_tests.openai_server import OpenAIServer, Reply
    from trading_assets_tests.test_llm_trader import DATES, MODEL, bar, make_store, rows, run
except ImportError:  # pytest's default "prepend" import of this folder
    from openai_server import OpenAIServer, Reply
    from test_llm_trader import DATES, MODEL, bar, make_store, rows, run

MODELS = (MODEL,)
d0, d1, d2 = DATES[:3]  # 2025-10-01 (Wed), 10-02, 10-03: opens at 13:30 UTC
DOCS = [  # each title is unique, so a body scan finds it
    ("2025-09-30T20:00:00-04:00", "Alpha earnings beat estimates"),
    ("2025-10-01T13:29:59Z", "Alpha guidance raised before the bell"),
    ("2025-10-01T09:30:00-04:00", "Alpha opening surge at the bell"),  # d0's open itself
    ("2025-10-02T18:00:00Z", "Alpha afternoon slump"),
    ("2025-10-10T12:00:00Z", "Alpha far future recall"),
]


def write_docs(folder, docs=DOCS, extra: str = "") -> None:
    folder.mkdir(exist_ok=True)
    lines = [
        json.dumps(
            {
                "published_at": at,
                "symbols": ["AAA"],
                "title": title,
                "body": f"{title}. Alpha shares news.",
                "source": "wire",
                "url": f"https://news.test/{title.lower().replace(' ', '-')}",
            }
        )
        for at, title in docs
    ]
    (folder / "news.jsonl").write_text("\n".join(lines) + "\n" + extra)


@pytest.fixture
def server():
    with OpenAIServer(default=Reply.content("Nothing to do. <FINISH_SIGNAL>")) as srv:
        yield srv


def materialize_documents(instance, store, at: str = "2025-10-20T00:00:00Z"):
    return dg.materialize(
        [defs.get_assets_def(dg.AssetKey("documents"))],
        instance=instance,
        resources={
            "store": StoreResource(path=str(store.path)),
            "clock": ClockResource(fixed=at),
        },
    )


def ask_each_day(server: OpenAIServer, days) -> None:
    for _ in days:
        server.script(
            Reply.tool_calls(("get_information", {"query": "alpha news"})),
            Reply.content("Read the news. <FINISH_SIGNAL>"),
        )


def _today(body: dict) -> dt.date:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    (day,) = re.findall(r"today's \((\d{4}-\d{2}-\d{2})\)", user)
    return dt.date.fromisoformat(day)


def test_no_request_carries_a_document_published_at_or_after_its_days_open(
    tmp_path, server, instance
):
    write_docs(tmp_path / "docs")
    store = make_store(tmp_path, server.base_url, documents="docs")
    assert materialize_documents(instance, store).success
    shutil.rmtree(tmp_path / "docs")  # the run reads the store, not the folder
    ask_each_day(server, (d0, d1, d2))
    run(store, (d0, d1, d2))
    assert [r["status"] for r in rows(store, "model_days")] == ["completed"] * 3
    assert len(server.requests) == 6
    published = {t: dt.datetime.fromisoformat(at) for at, t in DOCS}
    for request in server.requests:
        today, text = _today(request.body), json.dumps(request.body)
        for title, at in published.items():
            if at >= session_open(today):
                assert title not in text, (today, title)
        names = {t["function"]["name"] for t in request.body["tools"]}
        assert names == {"get_price_local", "buy", "sell", "get_information"}
    # what the tool answered: all known before the open, newest first
    answers = {
        r["date"]: [d["title"] for d in json.loads(r["result"])["results"]]
        for r in rows(store, "tool_usage")
        if r["tool_name"] == "get_information"
    }
    assert answers == {
        d0: ["Alpha guidance raised before the bell", "Alpha earnings beat estimates"],
        d1: [
            "Alpha opening surge at the bell",
            "Alpha guidance raised before the bell",
            "Alpha earnings beat estimates",
        ],
        d2: [
            "Alpha afternoon slump",
            "Alpha opening surge at the bell",
            "Alpha guidance raised before the bell",
            "Alpha earnings beat estimates",
        ],
    }


def test_without_a_documents_source_the_tool_is_not_offered(tmp_path, server):
    store = make_store(tmp_path, server.base_url)
    server.script(
        Reply.tool_calls(("get_information", {"query": "alpha"})), Reply.content("<FINISH_SIGNAL>")
    )
    run(store, (d0,))
    names = {t["function"]["name"] for t in server.requests[0].body["tools"]}
    assert names == {"get_price_local", "buy", "sell"}
    [call] = [r for r in rows(store, "tool_usage")]
    assert call["error"].startswith("unknown tool 'get_information'")


def test_a_model_whose_documents_were_never_ingested_fails_with_the_fix(tmp_path, server):
    write_docs(tmp_path / "docs")
    store = make_store(tmp_path, server.base_url, documents="docs")
    outcome = run(store, (d0,))
    [failure] = outcome.failures
    assert "are not in the store" in failure and "materialize the documents asset" in failure
    assert server.requests == []


def test_the_documents_checks_flag_future_and_duplicate_items(tmp_path, server, instance):
    duplicate = [*DOCS, DOCS[0]]
    write_docs(tmp_path / "docs", duplicate)
    store = make_store(tmp_path, server.base_url, documents="docs")
    # ingested on 2025-10-05: the 10-10 item is dated after its own ingestion
    result = materialize_documents(instance, store, at="2025-10-05T00:00:00Z")
    assert result.success
    checks = {c.check_name: c for c in result.get_asset_check_evaluations()}
    future, dupes = checks["no_future_documents"], checks["no_duplicate_documents"]
    assert not future.passed and future.severity == dg.AssetCheckSeverity.ERROR
    assert "news.jsonl:5: published 2025-10-10T12:00:00+00:00" in future.description
    assert not dupes.passed and dupes.severity == dg.AssetCheckSeverity.WARN
    assert "news.jsonl:6: duplicates" in dupes.description
    docs, ingested_at = stored_documents(store, str((tmp_path / "docs").resolve()))
    assert len(docs) == 6 and ingested_at == dt.datetime(2025, 10, 5, tzinfo=dt.UTC)


def test_an_undated_row_is_never_stored_and_the_stored_documents_stay(tmp_path, server, instance):
    write_docs(tmp_path / "docs")
    store = make_store(tmp_path, server.base_url, documents="docs")
    assert materialize_documents(instance, store).success
    write_docs(tmp_path / "docs", extra=json.dumps({"title": "Undated alpha", "body": "?"}) + "\n")
    result = materialize_documents(instance, store)
    assert result.success
    [mat] = result.asset_materializations_for_node("documents")
    failed = mat.metadata["failed_sources"].data
    [(folder, why)] = failed.items()
    assert f"news.jsonl:{len(DOCS) + 1}: published_at: Field required" in why
    docs, _ = stored_documents(store, folder)
    assert [d.title for d in docs] == [t for _, t in DOCS]


def test_model_day_reads_documents_in_the_asset_graph():
    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey("model_day")).parent_keys
    assert dg.AssetKey("documents") in parents


# -- plugin tools (the trading_assets.llm_tools entry-point group) ---------------------

TOOL_PLUGIN = EntryPoint(
    name="get_sma_and_news",
    value="trading_assets_tests.plugin_tool:SmaAndNews",
    group=plugin_tools.TOOLS_GROUP,
)


@pytest.fixture
def with_tool_plugin(monkeypatch):
    plugin_tools.available_tools.cache_clear()
    monkeypatch.setattr(
        plugin_tools,
        "entry_points",
        lambda group: [TOOL_PLUGIN] if group == plugin_tools.TOOLS_GROUP else [],
    )
    yield
    plugin_tools.available_tools.cache_clear()


def test_a_plugin_tool_answers_from_the_same_point_in_time(
    tmp_path, server, instance, with_tool_plugin
):
    write_docs(tmp_path / "docs")
    store = make_store(tmp_path, server.base_url, documents="docs", tools=["get_sma_and_news"])
    assert materialize_documents(instance, store).success
    args = {"symbol": "aaa", "window": 2, "query": "alpha"}
    server.script(
        Reply.content("Waiting. <FINISH_SIGNAL>"),  # d0
        Reply.content("Waiting. <FINISH_SIGNAL>"),  # d1
        # d2: two closes before it
        Reply.tool_calls(("get_sma_and_news", args), ("get_sma_and_news", {**args, "peek": True})),
        Reply.content("<FINISH_SIGNAL>"),
    )
    run(store, (d0, d1, d2))
    names = [t["function"]["name"] for t in server.requests[0].body["tools"]]
    assert names == ["get_price_local", "buy", "sell", "get_information", "get_sma_and_news"]
    published = {t: dt.datetime.fromisoformat(at) for at, t in DOCS}
    for request in server.requests:
        text, today = json.dumps(request.body), _today(request.body)
        assert not [t for t, at in published.items() if at >= session_open(today) and t in text]
    calls = [r for r in rows(store, "tool_usage") if r["tool_name"] == "get_sma_and_news"]
    assert [c["date"] for c in calls] == [d2, d2]
    answer = json.loads(calls[0]["result"])
    closes = [bar(d, "AAA")["close"] for d in (d0, d1)]  # the two closes before d2
    assert answer["sma"] == pytest.approx(sum(closes) / 2)
    assert answer["known_before"] == "2025-10-03T13:30:00+00:00"
    assert answer["headlines"] == [
        "Alpha afternoon slump",
        "Alpha opening surge at the bell",
        "Alpha guidance raised before the bell",
        "Alpha earnings beat estimates",
    ]
    peek = calls[1]
    assert peek["refusal"] == "after_open" and "is not known on 2025-10-03" in peek["error"]
    [usage] = [u for u in rows(store, "llm_usage") if u["date"] == d2]
    assert usage["lookahead_refusals"] == 1


def test_a_model_naming_a_tool_no_plugin_registers_is_refused_at_loading(tmp_path, server):
    plugin_tools.available_tools.cache_clear()
    with pytest.raises(ConfigError) as err:
        make_store(tmp_path, server.base_url, tools=["get_sma_and_news"])
    message = str(err.value)
    assert "unknown llm tool 'get_sma_and_news'" in message
    assert "trading_assets.llm_tools" in message and "models[0] (trader)" in message
