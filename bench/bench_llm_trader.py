"""LLM traders where the time goes: waiting for the endpoint, models concurrently.

6 `llm_trader` models x 20 days against the local chat-completions test server, which
answers each call after 500 ms; 3 calls a day (a price look-up, a buy, the stop signal).
One model's days are in order, so the floor is 20 x 3 x 0.5 s = 30 s. Runs the same
range run (`runs/model_day.py: run_range`, what the `model_day` asset does) twice, on
fresh stores: `llm.max_concurrency: 1` (one model at a time, as before) and `6`.

Prints, no asserts: wall time, requests the server answered, its peak of requests in
flight, and this process's peak RSS.

Run: .venv/bin/python bench/bench_llm_trader.py [--models 6] [--days 20] [--delay 0.5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for trading_assets_tests

from trading_assets.config import load_config, model_specs
from trading_assets.defs.resources.llm import LLMResource
from trading_assets.market.calendar import trading_days
from trading_assets.market.history import PriceHistory
from trading_assets.runs.model_day import run_range
from trading_assets.store.results import ResultStore
from trading_assets_tests.openai_server import OpenAIServer, Reply

SYMBOLS = ("AAA", "BBB")


def history(days: list[dt.date]) -> PriceHistory:
    rng = np.random.default_rng(0)
    close = 100 * np.cumprod(1 + rng.normal(0, 0.01, (len(days), len(SYMBOLS))), axis=0)
    return PriceHistory(
        dates=tuple(days), symbols=SYMBOLS, source="bundled", open=close * 0.999,
        high=close * 1.01, low=close * 0.99, close=close, volume=np.full_like(close, 1e6),
    )  # fmt: skip


def responder(delay: float):
    def answer(body: dict) -> Reply:
        done = sum(m["role"] == "assistant" for m in body["messages"])
        user = next(m["content"] for m in body["messages"] if m["role"] == "user")
        today = re.findall(r"\((\d{4}-\d{2}-\d{2})\)", user)[0]
        if done == 0:
            reply = Reply.tool_calls(("get_price_local", {"symbol": "AAA", "date": today}))
        elif done == 1:
            reply = Reply.tool_calls(("buy", {"symbol": "AAA", "amount": 1}))
        else:
            reply = Reply.content("<FINISH_SIGNAL>")
        return reply.after(delay)

    return answer


def one_run(folder: Path, base_url: str, models: int, days: list[dt.date], limit: int) -> float:
    llm = {"model": "bench-model", "base_url": base_url, "max_concurrency": limit}
    params = json.dumps({"llm": llm, "max_steps": 5})
    entries = "".join(
        f"  - signature: m{k}\n    agent: llm_trader\n    params: {params}\n" for k in range(models)
    )
    path = folder / "models.yaml"
    path.write_text(
        f"initial_cash: 100000\nuniverse: [{', '.join(SYMBOLS)}]\n"
        f"market_data: {{source: bundled}}\ncorporate_actions: ignore\nmodels:\n{entries}"
    )
    store = ResultStore(folder / "store.duckdb")
    store.register_models(model_specs(load_config(path)))
    store.write_prices("bundled", history(days))
    started = time.monotonic()
    outcome = run_range(
        store, {f"m{k}": days for k in range(models)}, endpoint_for=LLMResource().endpoint
    )
    took = time.monotonic() - started
    if outcome.failures:
        raise SystemExit("\n".join(outcome.failures))
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=6)
    parser.add_argument("--days", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.5)
    args = parser.parse_args()
    days = trading_days(dt.date(2025, 9, 2), dt.date(2025, 12, 31))[: args.days]
    floor = args.days * 3 * args.delay
    print(f"{args.models} models x {args.days} days, 3 calls a day, {args.delay:g} s a call")
    print(f"floor (one model's calls in order): {floor:.1f} s")
    for limit in (1, args.models):
        with (
            tempfile.TemporaryDirectory() as tmp,
            OpenAIServer(responder=responder(args.delay)) as server,
        ):
            took = one_run(Path(tmp), server.base_url, args.models, days, limit)
            print(
                f"max_concurrency {limit}: {took:6.1f} s ({took / floor:.2f} x floor), "
                f"{len(server.requests)} requests, peak in flight {server.peak_in_flight}"
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {rss:.0f} MB")


if __name__ == "__main__":
    main()
