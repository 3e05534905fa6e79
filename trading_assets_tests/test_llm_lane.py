"""The LLM lane end to end against a real local OpenAI-style server, and its DuckDB cache.

Answers become LaneSignals through the kernel's rating table, failures become
LaneFailures with the contract's reason codes, cache hits send no request, failures are
not cached, and the API key never reaches the store.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pytest

from trading_assets.kernel.lanes import LaneFailure, LaneSignal
from trading_assets.llm.answer import CachedAnswer
from trading_assets.llm.client import LLMError
from trading_assets.llm.endpoint import LLMEndpoint
from trading_assets.llm.lane import LLMLane
from trading_assets.llm.prompt import build_messages, prompt_hash
from trading_assets.market.history import PriceHistory
from trading_assets.market.view import PointInTimeView
from trading_assets.store.db import migrate
from trading_assets.store.llm_cache import load_llm_cache, save_llm_cache

try:  # package layout (trading_assets_tests/__init__.py) or the repo root on sys.path
    from trading_assets_tests.openai_server import OpenAIServer, Reply
except ImportError:  # pytest's default "prepend" import of this folder
    from openai_server import OpenAIServer, Reply

KEY = "sk-lane-SECRET-9876543210"
NOW = dt.datetime(2025, 11, 3, 12, 0, 0)
DATES = tuple(dt.date(2025, 10, 1) + dt.timedelta(days=i) for i in range(30))


def make_history() -> PriceHistory:
    close = np.linspace(100.0, 130.0, len(DATES)).reshape(-1, 1)
    return PriceHistory(
        dates=DATES,
        symbols=("NVDA",),
        source="test",
        open=close - 0.5,
        high=close + 1,
        low=close - 1,
        close=close,
        volume=np.full_like(close, 1e6),
    )


HISTORY = make_history()


def view(day: int = 25) -> PointInTimeView:
    return PointInTimeView(HISTORY, DATES[day])


@pytest.fixture
def server():
    with OpenAIServer() as srv:
        yield srv


def make_lane(base_url: str, cache: dict | None = None, **overrides) -> LLMLane:
    settings = {
        "base_url": base_url,
        "model": "test-model",
        "api_key": KEY,
        "timeout_seconds": 0.3,
        "max_retries": 1,
        "backoff_seconds": 0.01,
    }
    settings.update(overrides)
    return LLMLane(LLMEndpoint(**settings), cache=cache, clock=FixedClock())


def test_lane_with_buy_answer_returns_strong_long_signal_and_rationale(server):
    server.script(Reply.rating("BUY", "Steady uptrend."))
    with make_lane(server.base_url) as lane:
        signal, rationale = lane.signal(view(), "NVDA", 0)
    assert signal == LaneSignal("llm", 1, 0.9, rating="BUY")
    assert rationale == "Steady uptrend."
    (entry,) = lane.new_entries().values()
    assert entry.rating == "BUY" and entry.created_at == NOW and "Steady" in entry.raw_content
    assert (lane.stats.hits, lane.stats.misses) == (0, 1)


@pytest.mark.parametrize(
    "rating, direction, confidence",
    [("OVERWEIGHT", 1, 0.6), ("HOLD", 0, 0.5), ("UNDERWEIGHT", -1, 0.6), ("SELL", -1, 0.9)],
)
def test_lane_with_each_tier_maps_through_the_kernel_table(server, rating, direction, confidence):
    server.script(Reply.rating(rating))
    with make_lane(server.base_url) as lane:
        signal, _ = lane.signal(view(), "NVDA", 5)
    assert (signal.direction, signal.confidence, signal.rating) == (direction, confidence, rating)


def test_lane_with_cache_hit_sends_no_request(server):
    with make_lane(server.base_url) as lane:
        first, _ = lane.signal(view(), "NVDA", 0)
        second, rationale = lane.signal(view(), "NVDA", 0)
    assert first == second and rationale
    assert len(server.requests) == 1
    assert (lane.stats.hits, lane.stats.misses) == (1, 1)


def test_lane_with_other_day_or_position_misses_the_cache(server):
    with make_lane(server.base_url) as lane:
        lane.signal(view(25), "NVDA", 0)
        lane.signal(view(26), "NVDA", 0)
        lane.signal(view(26), "NVDA", 100)
    assert len(server.requests) == 3 and len(lane.new_entries()) == 3


def test_lane_with_prefilled_cache_makes_no_request_and_adds_no_entries(server):
    messages = build_messages(view(), "NVDA", 0)
    ep = LLMEndpoint(base_url=server.base_url, model="test-model", api_key=KEY)
    cache = {(ep.cache_identity(), prompt_hash(messages)): CachedAnswer("SELL", "Old.", "{}", NOW)}
    with LLMLane(ep, cache=cache) as lane:
        signal, rationale = lane.signal(view(), "NVDA", 0)
    assert signal.rating == "SELL" and rationale == "Old."
    assert server.requests == [] and lane.new_entries() == {}


def test_lane_with_unknown_rating_returns_degraded_hold_and_caches_it(server):
    server.script(Reply.rating("STRONG BUY", "Very bullish."))
    with make_lane(server.base_url) as lane:
        signal, rationale = lane.signal(view(), "NVDA", 0)
        again, _ = lane.signal(view(), "NVDA", 0)
    assert isinstance(signal, LaneSignal) and signal.reason_code == "llm_unknown_rating"
    assert (signal.direction, signal.confidence, signal.rating) == (0, 0.5, None)
    assert rationale == "Very bullish." and again == signal
    assert len(server.requests) == 1 and lane.stats.unknown_ratings == 1


@pytest.mark.parametrize(
    "reply, reason, data_quality",
    [
        (Reply.error(401, f"bad key {KEY}"), "provider_auth_failed", "provider_auth_failed"),
        (Reply.error(429), "llm_rate_limited", None),
        (Reply.error(500), "llm_server_error", None),
        (Reply.malformed(), "llm_unparseable", None),
        (Reply.content("I think you should buy."), "llm_unparseable", None),
        (Reply.rating("BUY").after(2.0), "llm_timeout", None),
    ],
)
def test_lane_with_failing_endpoint_returns_lane_failure(server, reply, reason, data_quality):
    server.set_default(reply)
    with make_lane(server.base_url, max_retries=0) as lane:
        failure, rationale = lane.signal(view(), "NVDA", 0)
    assert isinstance(failure, LaneFailure) and rationale is None
    assert (failure.source, failure.reason_code, failure.data_quality) == (
        "llm",
        reason,
        data_quality,
    )
    assert failure.error and KEY not in failure.error
    assert lane.new_entries() == {} and dict(lane.stats.failures) == {reason: 1}


def test_lane_with_missing_key_returns_key_missing_without_request(server):
    with make_lane(server.base_url, api_key=None, require_api_key=True) as lane:
        failure, _ = lane.signal(view(), "NVDA", 0)
    assert failure.reason_code == "provider_api_key_missing" and server.requests == []


def test_lane_with_failure_then_healthy_server_fills_in_on_rerun(server):
    server.set_default(Reply.error(500, "down"))
    cache: dict = {}
    with make_lane(server.base_url, cache=cache) as lane:
        failure, _ = lane.signal(view(), "NVDA", 0)
    assert isinstance(failure, LaneFailure) and cache == {}
    server.set_default(Reply.rating("OVERWEIGHT", "Recovered."))
    with make_lane(server.base_url, cache=cache) as rerun:
        signal, rationale = rerun.signal(view(), "NVDA", 0)
    assert signal.rating == "OVERWEIGHT" and rationale == "Recovered." and len(cache) == 1


def test_lane_with_injected_client_uses_it():
    class FakeClient:
        def __init__(self) -> None:
            self.calls = 0

        def complete(self, messages):
            self.calls += 1
            if self.calls == 1:
                raise LLMError("llm_signal_failed", "connection refused", retryable=True)
            return '{"rating": "SELL", "rationale": "Fake."}'

    client = FakeClient()
    lane = LLMLane(LLMEndpoint(base_url="http://127.0.0.1:9/v1", model="m"), client=client)
    assert lane.signal(view(), "NVDA", 0)[0].reason_code == "llm_signal_failed"
    assert lane.signal(view(), "NVDA", 0)[0].rating == "SELL" and client.calls == 2


def test_llm_cache_with_save_and_load_round_trips_and_is_idempotent(server, tmp_path):
    db = tmp_path / "store.duckdb"
    with make_lane(server.base_url) as lane:
        for day in (20, 21, 22):
            lane.signal(view(day), "NVDA", 0)
    entries = lane.new_entries()
    con = migrated(str(db))
    con.execute("BEGIN")
    assert save_llm_cache(con, entries) == 3
    con.execute("COMMIT")
    save_llm_cache(con, entries)  # a re-run writes the same rows again
    assert con.execute("SELECT count(*) FROM llm_cache").fetchone() == (3,)
    assert load_llm_cache(con, lane.model) == entries
    assert load_llm_cache(con, "other-model@host") == {}
    con.close()

    with migrated(str(db)) as con:
        cache = load_llm_cache(con, lane.model)
    with make_lane(server.base_url, cache=cache) as rerun:
        for day in (20, 21, 22):
            rerun.signal(view(day), "NVDA", 0)
    assert len(server.requests) == 3 and rerun.stats.hits == 3


def test_llm_cache_with_distinct_rows_keeps_columns_aligned_and_upserts():
    entries = {
        ("m@h", f"{i:064x}"): CachedAnswer(
            ("BUY", "SELL", "weird")[i % 3],
            f'Why {i}: "quoted" – ünïcode',
            f"{{{i}}}",
            NOW + dt.timedelta(minutes=i),
        )
        for i in range(50)
    }
    con = migrated()
    save_llm_cache(con, entries)
    assert load_llm_cache(con, "m@h") == entries
    changed = {("m@h", f"{0:064x}"): CachedAnswer("HOLD", "Re-asked.", "{}", NOW)}
    save_llm_cache(con, changed)
    assert load_llm_cache(con, "m@h") == entries | changed
    assert save_llm_cache(con, {}) == 0


def test_llm_cache_with_rolled_back_transaction_keeps_nothing(server):
    with make_lane(server.base_url) as lane:
        lane.signal(view(), "NVDA", 0)
    con = migrated()
    con.execute("BEGIN")
    save_llm_cache(con, lane.new_entries())
    con.execute("ROLLBACK")
    assert load_llm_cache(con, lane.model) == {}


def test_llm_cache_with_key_sent_as_bearer_never_persists_it(server, tmp_path):
    db = tmp_path / "store.duckdb"
    with make_lane(server.base_url) as lane:
        lane.signal(view(), "NVDA", 0)
        assert KEY not in repr(lane) and KEY not in repr(lane.new_entries())
    assert server.requests[0].headers["authorization"] == f"Bearer {KEY}"
    con = migrated(str(db))
    save_llm_cache(con, lane.new_entries())
    con.execute("CHECKPOINT")
    con.close()
    data = db.read_bytes()
    assert b"Momentum is positive." in data  # the scan does see stored strings
    assert KEY.encode() not in data


class FixedClock:
    def now(self) -> dt.datetime:
        return NOW


def migrated(path: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with the store's schema (the cache table comes with it)."""
    con = duckdb.connect(path)
    migrate(con)
    return con
