"""What the LLM cache saves: a cache hit through the lane vs a real HTTP round-trip.

Prints, no asserts:
- the cache-hit path through `LLMLane.signal` (prompt build + hash + dict lookup), in µs;
- a cache miss: one round-trip to the local OpenAI-style test server (loopback HTTP, the
  cheapest possible provider; a real model adds seconds);
- saving and loading N cached answers with DuckDB.

Run: .venv/bin/python bench/bench_llm_cache.py
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for trading_assets_tests

from trading_assets.llm.answer import CachedAnswer
from trading_assets.llm.client import HttpChatClient
from trading_assets.llm.endpoint import LLMEndpoint
from trading_assets.llm.lane import LLMLane
from trading_assets.llm.prompt import build_messages, prompt_hash
from trading_assets.market.history import PriceHistory
from trading_assets.market.view import PointInTimeView
from trading_assets.store.db import migrate
from trading_assets.store.llm_cache import load_llm_cache, save_llm_cache
from trading_assets_tests.openai_server import OpenAIServer, Reply

N_DAYS, SYMBOLS = 260, ("AAPL", "MSFT", "NVDA", "AMZN")
ROUND_TRIPS = 300
HIT_REPEATS = 20


def history() -> PriceHistory:
    rng = np.random.default_rng(0)
    dates = tuple(dt.date(2024, 1, 1) + dt.timedelta(days=i) for i in range(N_DAYS))
    close = 100 * np.cumprod(1 + rng.normal(0, 0.01, (N_DAYS, len(SYMBOLS))), axis=0)
    return PriceHistory(
        dates=dates, symbols=SYMBOLS, source="bench", open=close * 0.999, high=close * 1.01,
        low=close * 0.99, close=close, volume=np.full_like(close, 1e6),
    )  # fmt: skip


def per_call_us(fn, calls: list, repeats: int = 1) -> tuple[float, float]:
    """Median and p95 µs per call over `repeats` passes through `calls`."""
    timings = []
    for _ in range(repeats):
        for args in calls:
            start = time.perf_counter_ns()
            fn(*args)
            timings.append((time.perf_counter_ns() - start) / 1e3)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95)]


def main() -> None:
    h = history()
    views = [(PointInTimeView(h, d), s, 0) for d in h.dates[-ROUND_TRIPS // len(SYMBOLS) :]
             for s in SYMBOLS]  # fmt: skip
    print(f"LLM cache benchmark: {len(views)} symbol-days, history {N_DAYS} days x {len(SYMBOLS)}")

    with OpenAIServer(default=Reply.rating("BUY", "Uptrend.")) as server:
        ep = LLMEndpoint(base_url=server.base_url, model="bench-model", api_key="sk-bench")
        with LLMLane(ep) as lane:
            lane.signal(*views[0])  # warm the connection pool
            miss_med, miss_p95 = per_call_us(lane.signal, views[1:])
            hit_med, hit_p95 = per_call_us(lane.signal, views, HIT_REPEATS)
            stats = lane.stats
        with HttpChatClient(ep) as client:
            messages = [build_messages(*v) for v in views]
            client.complete(messages[0])
            raw_med, _ = per_call_us(client.complete, [(m,) for m in messages])
    build_med, _ = per_call_us(build_messages, views, HIT_REPEATS)
    hash_med, _ = per_call_us(prompt_hash, [(m,) for m in messages], HIT_REPEATS)

    print("\nlane.signal, in-memory cache:")
    print(f"  hit   median {hit_med:9.1f} µs   p95 {hit_p95:9.1f} µs   ({stats.hits} hits)")
    print(
        f"  miss  median {miss_med:9.1f} µs   p95 {miss_p95:9.1f} µs   ({stats.misses} round-trips)"
    )
    print(f"  a miss costs {miss_med / hit_med:.0f}x a hit on loopback")
    print(f"  of a hit: build_messages {build_med:.1f} µs, prompt_hash {hash_med:.1f} µs "
          "(measured alone)")  # fmt: skip
    print(f"  raw HttpChatClient.complete round-trip median {raw_med:.1f} µs")

    print("\nDuckDB llm_cache (file db, one transaction per save):")
    now = dt.datetime(2025, 1, 1)
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1_000, 10_000, 50_000):
            entries = {
                ("bench-model@http://127.0.0.1:8000/v1", f"{i:064x}"): CachedAnswer(
                    "BUY", "Uptrend over the last five days; momentum positive.",
                    '{"rating": "BUY", "rationale": "Uptrend."}', now,
                )
                for i in range(n)
            }  # fmt: skip
            path = Path(tmp) / f"cache_{n}.duckdb"
            with duckdb.connect(str(path)) as con:
                migrate(con)  # the store's schema (llm_cache comes with migration 1)
                start = time.perf_counter()
                con.execute("BEGIN")
                save_llm_cache(con, entries)
                con.execute("COMMIT")
                save_s = time.perf_counter() - start
            with duckdb.connect(str(path)) as con:
                start = time.perf_counter()
                loaded = load_llm_cache(con, "bench-model@http://127.0.0.1:8000/v1")
                load_s = time.perf_counter() - start
            assert len(loaded) == n
            print(f"  N={n:>6}: save {save_s * 1e3:8.1f} ms ({save_s / n * 1e6:5.1f} µs/entry)   "
                  f"load {load_s * 1e3:7.1f} ms ({load_s / n * 1e6:5.2f} µs/entry)")  # fmt: skip


if __name__ == "__main__":
    main()
