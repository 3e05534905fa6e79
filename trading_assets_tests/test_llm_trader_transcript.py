"""The model-day's page shows the day's conversation as a readable transcript: the
markdown in the model-day's materialization, read back from the Dagster instance (real
local chat-completions server, real DuckDB store, real Dagster)."""

from __future__ import annotations

import dagster as dg

from trading_assets.defs.partitions import partition_key

try:  # package layout (trading_assets_tests/__init__.py) or the repo root on sys.path
    from trading_assets_tests.conftest import materialize_model_days
    from trading_assets_tests.openai_server import OpenAIServer, Reply
    from trading_assets_tests.test_llm_trader import DATES, MODEL, make_store
except ImportError:  # pytest's default "prepend" import of this folder
    from conftest import materialize_model_days
    from openai_server import OpenAIServer, Reply
    from test_llm_trader import DATES, MODEL, make_store

MODELS = (MODEL,)
d0, d1 = DATES[:2]
LONG = "Because " + "the trend is up " * 200  # 3,208 characters of reasoning


def page(instance, day) -> str:
    [record] = instance.fetch_materializations(
        dg.AssetRecordsFilter(
            asset_key=dg.AssetKey("model_day"), asset_partitions=[str(partition_key(day, MODEL))]
        ),
        limit=1,
    ).records
    value = record.asset_materialization.metadata["transcript"]
    assert isinstance(value, dg.MarkdownMetadataValue)
    return value.md_str


def test_the_model_day_page_shows_the_conversation_as_a_transcript(tmp_path, instance):
    with OpenAIServer(default=Reply.content("Nothing to do. <FINISH_SIGNAL>")) as server:
        store = make_store(tmp_path, server.base_url)
        server.script(
            Reply.tool_calls(
                ("get_price_local", {"symbol": "AAA", "date": d0.isoformat()}),
                ("buy", {"symbol": "AAA", "amount": 10}),
                content=LONG,
                usage=(120, 30),
            ),
            Reply.content("Bought ten AAA. <FINISH_SIGNAL>", usage=(200, 8)),
        )
        result = materialize_model_days(instance, store, MODEL, d0.isoformat(), d1.isoformat())
    assert result.success
    text = page(instance, d0)
    assert text.startswith(f"**{d0}**: 2 answers, 358 tokens (320 prompt, 38 completion)")
    assert "ended: `finish_signal`" in text and "1 look-ahead refusals" in text
    # every message in order, by role, readable (not a JSON blob)
    headings = [line for line in text.splitlines() if line.startswith("#### ")]
    assert headings == [
        "#### 1. system",
        "#### 2. user",
        "#### 3. assistant (answer 1, 150 tokens)",
        "#### 4. tool result: `get_price_local` **look-ahead refused (after_open)**",
        "#### 5. tool result: `buy`",
        "#### 6. assistant (answer 2, 208 tokens)",
    ]
    assert "> Today's date: 2025-10-01" in text
    assert '- calls `buy({"symbol": "AAA", "amount": 10})`' in text
    assert '"AAA": 10' in text  # the buy tool's answer: the new positions
    assert "> Bought ten AAA. <FINISH_SIGNAL>" in text
    # a long text is cut, saying how much is left out
    assert "… (1,708 more characters)" in text and LONG not in text
    assert page(instance, d1).startswith(f"**{d1}**: 1 answers, 2 tokens")
