"""The llm_trader agent end to end: real local chat-completions server, real DuckDB store.

A scripted model trades two symbols over a few days. What the test holds the system to:
- what the buy/sell tools confirmed is exactly what the engine filled at each day's open
  (fees and slippage included), and the tools' errors are the engine's rejections;
- get_price_local answers only what is known at the open, and no request the server
  received carries a price known only after the open of its day;
- every message and tool call is stored with the day (reasoning_logs, tool_usage), with
  the tokens of each answer summed per day (llm_usage);
- a re-run with the server stopped reproduces the stored rows from the cache; a changed
  template or model misses the cache;
- provider faults: 500 and 429 (Retry-After) are retried, a timeout fails the day under
  `on_failure: fail` and holds it (degraded, no trades, even confirmed ones) under `hold`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from pathlib import Path

import jsonschema
import numpy as np
import pytest

from trading_assets.config import load_config, model_specs
from trading_assets.contract.v1alpha1 import decision_from_row, status_from_row
from trading_assets.defs.resources.llm import LLMResource
from trading_assets.errors import ConfigError
from trading_assets.market.calendar import trading_days
from trading_assets.market.history import PriceHistory
from trading_assets.runs.metrics import compute_metrics
from trading_assets.runs.model_day import run_range
from trading_assets.store.results import ResultStore
from trading_assets_tests.conftest import materialize_model_days, table_rows

try:  # package layout (trading_assets_tests/__init__.py) or the repo root on sys.path
    from trading_assets_tests.openai_server import OpenAIServer, Reply
except ImportError:  # pytest's default "prepend" import of this folder
    from openai_server import OpenAIServer, Reply

SYMBOLS = ("AAA", "BBB")
DATES = tuple(trading_days(dt.date(2025, 10, 1), dt.date(2025, 10, 14)))
CASH = 10_000.0
PER_SHARE, MINIMUM, SLIPPAGE_BPS = 0.01, 1.0, 10.0
MODEL = "trader"
MODELS = (MODEL,)  # the conftest instance knows these
SCHEMAS = Path(__file__).resolve().parents[1] / "docs" / "contracts"
VOLATILE = {
    "model_days": ("run_id", "started_at", "completed_at"),
    "tool_usage": ("latency_ms",),  # the tool's own run time, measured again
    "llm_usage": ("requests", "cache_hits"),  # what the re-run sent vs took from the cache
}
WRITTEN = ("model_days", "orders", "holdings", "signals", "reasoning_logs", "tool_usage")


def make_history() -> PriceHistory:
    """Distinctive prices (4 decimals, all different) so a body scan can find each one."""
    n, m = len(DATES), len(SYMBOLS)
    i = np.arange(n).reshape(-1, 1)
    j = np.arange(m).reshape(1, -1)
    opens = 100.0 + 50.0 * j + 1.0 * i + 0.1111
    return PriceHistory(
        dates=DATES,
        symbols=SYMBOLS,
        source="bundled",
        open=opens,
        high=opens + 2.2222,
        low=opens - 1.3333,
        close=opens + 0.5757,
        volume=1_000_003.0 + 1_013.0 * i + 97.0 * j,
    )


HISTORY = make_history()


def bar(day: dt.date, symbol: str) -> dict[str, float]:
    r, c = DATES.index(day), SYMBOLS.index(symbol)
    return {f: float(getattr(HISTORY, f)[r, c]) for f in ("open", "high", "low", "close", "volume")}


def config_text(base_url: str, **params) -> str:
    llm = {
        "model": "test-model",
        "base_url": base_url,
        "timeout_seconds": 0.5,
        "max_retries": 1,
        "backoff_seconds": 0.01,
    }
    llm.update(params.pop("llm", {}))
    body = {"llm": llm, "max_steps": 3, **params}
    return (
        f"initial_cash: {CASH}\n"
        f"universe: [{', '.join(SYMBOLS)}]\n"
        "market_data: {source: bundled}\n"
        "corporate_actions: ignore\n"
        f"fees: {{commission: {{per_share: {PER_SHARE}, minimum: {MINIMUM}}}, "
        f"slippage_bps: {SLIPPAGE_BPS}}}\n"
        "models:\n"
        f"  - signature: {MODEL}\n"
        "    agent: llm_trader\n"
        f"    params: {json.dumps(body)}\n"
    )


def make_store(folder: Path, base_url: str, **params) -> ResultStore:
    path = folder / "models.yaml"
    path.write_text(config_text(base_url, **params))
    store = ResultStore(folder / "store.duckdb")
    store.register_models(model_specs(load_config(path)))
    store.write_prices("bundled", HISTORY)
    return store


def run(store: ResultStore, dates=DATES[:4]):
    return run_range(store, {MODEL: list(dates)}, endpoint_for=LLMResource().endpoint)


def rows(store: ResultStore, table: str, volatile: bool = True) -> list[dict]:
    drop = VOLATILE.get(table, ()) if volatile else ()
    return [
        {k: v for k, v in row.items() if k not in drop}
        for row in table_rows(
            store, table, "model, date" + (", seq" if "seq" in _cols(table) else "")
        )
    ]


def _cols(table: str) -> tuple[str, ...]:
    return ("seq",) if table in ("orders", "reasoning_logs", "tool_usage") else ()


@pytest.fixture
def server():
    with OpenAIServer(default=Reply.content("Nothing to do. <FINISH_SIGNAL>")) as srv:
        yield srv


d0, d1, d2, d3 = DATES[:4]


def script_four_days(server: OpenAIServer) -> list[tuple[int, int]]:
    """The conversation of d0..d3; returns each answer's (prompt, completion) tokens."""
    usages = [(100 + k, 10 + k) for k in range(9)]
    server.script(
        # d0: two look-ahead attempts, a buy the engine fills, one it rejects
        Reply.tool_calls(
            ("get_price_local", {"symbol": "AAA", "date": d0.isoformat()}),
            ("get_price_local", {"symbol": "AAA", "date": d1.isoformat()}),
            ("buy", {"symbol": "AAA", "amount": 10}),
            ("buy", {"symbol": "BBB", "amount": 1000}),
            usage=usages[0],
        ),
        Reply.content("Bought AAA. <FINISH_SIGNAL>", usage=usages[1]),
        # d1: yesterday's bar in full, a sell and a buy; an answer without tool calls ends it
        Reply.tool_calls(
            ("get_price_local", {"symbol": "aaa", "date": d0.isoformat()}),
            ("sell", {"symbol": "AAA", "amount": 4}),
            ("buy", {"symbol": "BBB", "amount": 5}),
            ("get_price_local", {"symbol": "AAA", "date": "2025-09-27"}),  # before the data
            usage=usages[2],
        ),
        Reply.content("Rotated some AAA into BBB.", usage=usages[3]),
        # d2: every kind of tool error, then a 0-share buy (a no-op) and the stop signal
        Reply.tool_calls(
            ("buy", '{"symbol": "AAA", "amount": '),  # malformed JSON
            ("short", {"symbol": "AAA", "amount": 1}),  # unknown tool
            ("buy", {"symbol": "AAA", "amount": -1}),
            ("buy", {"symbol": "AAA", "amount": 2.5}),
            ("buy", {"symbol": "ZZZ", "amount": 1}),
            ("sell", {"symbol": "BBB", "amount": 100}),
            ("buy", {"symbol": "AAA"}),
            ("buy", {"symbol": "AAA", "amount": 0}),
            usage=usages[4],
        ),
        Reply.content("<FINISH_SIGNAL>", usage=usages[5]),
        # d3: the model never stops: max_steps (3) ends the day; its trade stands
        Reply.tool_calls(("buy", {"symbol": "AAA", "amount": 1}), usage=usages[6]),
        Reply.tool_calls(
            ("get_price_local", {"symbol": "BBB", "date": d2.isoformat()}), usage=usages[7]
        ),
        Reply.tool_calls(
            ("get_price_local", {"symbol": "BBB", "date": d1.isoformat()}), usage=usages[8]
        ),
    )
    return usages


def tool_results(store: ResultStore, day: dt.date) -> list[dict]:
    return [r for r in rows(store, "tool_usage") if r["date"] == day]


def test_fills_at_each_open_exactly_what_the_tools_confirmed(tmp_path, server):
    store = make_store(tmp_path, server.base_url)
    script_four_days(server)
    outcome = run(store)
    assert outcome.failures == []
    days = {r["date"]: r for r in rows(store, "model_days")}
    assert [days[d]["status"] for d in DATES[:4]] == ["completed"] * 4
    orders = rows(store, "orders")
    for day in DATES[:4]:
        confirmed = []
        last_position = None
        for t in tool_results(store, day):
            if t["tool_name"] in ("buy", "sell") and t["error"] is None:
                args = json.loads(t["arguments"])
                confirmed.append((args["symbol"], t["tool_name"], args["amount"]))
                last_position = json.loads(t["result"])
        filled = [
            (o["symbol"], o["side"], o["quantity"])
            for o in orders
            if o["date"] == day and o["status"] in ("filled", "noop")
        ]
        assert filled == confirmed, day
        assert all(o["status"] != "rejected" for o in orders if o["date"] == day)
        if last_position is not None:  # the tool's last answer is the day's end state
            held = {h["symbol"]: h["shares"] for h in rows(store, "holdings") if h["date"] == day}
            assert {s: q for s, q in last_position.items() if s != "CASH" and q} == held
            assert last_position["CASH"] == pytest.approx(days[day]["cash"], abs=1e-9)
    # d0: 10 AAA at d0's open plus 10 bps slippage and the $1 minimum commission
    price = bar(d0, "AAA")["open"] * (1 + SLIPPAGE_BPS / 10_000)
    assert days[d0]["cash"] == pytest.approx(CASH - 10 * price - MINIMUM)
    assert [(o["symbol"], o["quantity"], o["status"]) for o in orders if o["date"] == d0] == [
        ("AAA", 10, "filled")
    ]
    assert [o["price"] for o in orders if o["date"] == d0] == [pytest.approx(price)]
    # d1: sold 4 AAA below the open, bought 5 BBB above it
    sell = bar(d1, "AAA")["open"] * (1 - SLIPPAGE_BPS / 10_000)
    buy = bar(d1, "BBB")["open"] * (1 + SLIPPAGE_BPS / 10_000)
    assert days[d1]["cash"] == pytest.approx(days[d0]["cash"] + 4 * sell - 5 * buy - 2 * MINIMUM)
    held = {(h["date"], h["symbol"]): h["shares"] for h in rows(store, "holdings")}
    assert held[(d2, "AAA")] == 6 and held[(d2, "BBB")] == 5
    assert held[(d3, "AAA")] == 7  # d3's buy, confirmed before max_steps ended the day
    # each traded symbol is an LLM-lane decision through the merge kernel, as replay's
    signals = {(s["date"], s["symbol"]): s for s in rows(store, "signals")}
    assert sorted(signals) == [(d0, "AAA"), (d1, "AAA"), (d1, "BBB"), (d3, "AAA")]
    assert signals[(d1, "AAA")]["llm_rating"] == "SELL"
    assert signals[(d1, "BBB")]["llm_rating"] == "BUY"
    assert signals[(d1, "BBB")]["quant_available"] is False
    assert signals[(d0, "AAA")]["reasoning"] == "Bought AAA. <FINISH_SIGNAL>"


def test_tool_errors_are_answers_the_model_can_act_on(tmp_path, server):
    store = make_store(tmp_path, server.base_url)
    script_four_days(server)
    run(store)
    d0_tools = tool_results(store, d0)
    assert [t["refusal"] for t in d0_tools] == ["after_open", "future_date", None, None]
    same_day = json.loads(d0_tools[0]["result"])
    assert same_day["ohlcv"] == {"open": bar(d0, "AAA")["open"]}
    assert "not known at today's open" in same_day["error"]
    assert "look-ahead refused" in json.loads(d0_tools[1]["result"])["error"]
    assert "insufficient_cash" in d0_tools[3]["error"]
    d1_tools = tool_results(store, d1)
    past = json.loads(d1_tools[0]["result"])
    assert past == {"symbol": "AAA", "date": d0.isoformat(), "ohlcv": bar(d0, "AAA")}
    assert "no prices for AAA on 2025-09-27" in d1_tools[3]["error"]
    assert d1_tools[3]["refusal"] is None  # the past is not look-ahead
    errors = [t["error"] for t in tool_results(store, d2)]
    assert "not valid JSON" in errors[0]
    assert "unknown tool 'short'" in errors[1]
    assert "invalid_quantity" in errors[2] and "invalid_quantity" in errors[3]
    assert "unknown symbol 'ZZZ'" in errors[4] and "AAA, BBB" in errors[4]
    assert "insufficient_shares" in errors[5]
    assert "missing argument 'amount'" in errors[6]
    assert errors[7] is None  # 0 shares: a no-op, as in the legacy engine
    # each error went back to the model as a tool message, and the day went on
    d2_requests = [r.body for r in server.requests if d2.isoformat() in _user(r.body)]
    tool_messages = [m for m in d2_requests[-1]["messages"] if m["role"] == "tool"]
    assert len(tool_messages) == 8
    assert all("error" in json.loads(m["content"]) for m in tool_messages[:7])
    usage = {r["date"]: r for r in rows(store, "llm_usage", volatile=False)}
    assert usage[d0]["lookahead_refusals"] == 2
    assert usage[d2]["tool_errors"] == 7
    assert [usage[d]["end_reason"] for d in DATES[:4]] == [
        "finish_signal",
        "no_tool_calls",
        "finish_signal",
        "max_steps",
    ]
    assert usage[d3]["steps"] == 3


def _user(body: dict) -> str:
    return next(m["content"] for m in body["messages"] if m["role"] == "user")


def test_no_request_carries_a_price_known_only_after_its_days_open(tmp_path, server):
    store = make_store(tmp_path, server.base_url)
    script_four_days(server)
    run(store)
    assert len(server.requests) == 9
    for request in server.requests:
        (today,) = re.findall(r"today's \((\d{4}-\d{2}-\d{2})\)", _user(request.body))
        today = dt.date.fromisoformat(today)
        text = json.dumps(request.body)
        forbidden = []
        for day in DATES:
            for symbol in SYMBOLS:
                values = bar(day, symbol)
                if day > today:
                    forbidden += values.values()
                elif day == today:
                    forbidden += [values[f] for f in ("high", "low", "close", "volume")]
        for value in forbidden:
            assert not re.search(rf"(?<![\d.]){re.escape(json.dumps(value))}(?!\d)", text), (
                today,
                value,
            )
        # and what it must carry: the date, yesterday's closes, today's opens, the stop signal
        system = request.body["messages"][0]["content"]
        assert f"Today's date: {today}" in system and "<FINISH_SIGNAL>" in system
        assert json.dumps(bar(today, "BBB")["open"]) in system
        if today != DATES[0]:
            yesterday = DATES[DATES.index(today) - 1]
            assert json.dumps(bar(yesterday, "AAA")["close"]) in system
        assert {t["function"]["name"] for t in request.body["tools"]} == {
            "get_price_local",
            "buy",
            "sell",
        }


def test_conversation_and_tokens_are_stored_with_the_day(tmp_path, server):
    store = make_store(
        tmp_path, server.base_url, prompt_price_per_million=2.0, completion_price_per_million=8.0
    )
    usages = script_four_days(server)
    run(store)
    logs = rows(store, "reasoning_logs")
    d0_logs = [m for m in logs if m["date"] == d0]
    assert [m["role"] for m in d0_logs] == ["system", "user", "assistant"] + ["tool"] * 4 + [
        "assistant"
    ]
    assert d0_logs[1]["content"] == f"Please analyze and update today's ({d0}) positions."
    assert json.loads(d0_logs[2]["tool_calls"])[2]["function"]["name"] == "buy"
    assert d0_logs[-1]["content"] == "Bought AAA. <FINISH_SIGNAL>"
    assert (d0_logs[2]["prompt_tokens"], d0_logs[2]["completion_tokens"]) == usages[0]
    usage = {r["date"]: r for r in rows(store, "llm_usage", volatile=False)}
    per_day = [usages[0:2], usages[2:4], usages[4:6], usages[6:9]]
    for day, used in zip(DATES[:4], per_day, strict=True):
        prompt, completion = sum(u[0] for u in used), sum(u[1] for u in used)
        assert (usage[day]["prompt_tokens"], usage[day]["completion_tokens"]) == (
            prompt,
            completion,
        )
        assert usage[day]["total_tokens"] == prompt + completion
        assert usage[day]["cost_usd"] == pytest.approx((prompt * 2.0 + completion * 8.0) / 1e6)
        assert usage[day]["requests"] == len(used) and usage[day]["cache_hits"] == 0
        assert usage[day]["latency_ms"] > 0


def test_rerun_with_the_server_stopped_reproduces_the_stored_rows(tmp_path):
    with OpenAIServer(default=Reply.content("<FINISH_SIGNAL>")) as server:
        store = make_store(tmp_path, server.base_url)
        script_four_days(server)
        assert run(store).failures == []
        sent = len(server.requests)
    before = {t: rows(store, t) for t in (*WRITTEN, "llm_usage")}
    outcome = run(store)  # the endpoint is gone: any request would fail the day
    assert outcome.failures == []
    assert {t: rows(store, t) for t in (*WRITTEN, "llm_usage")} == before
    usage = rows(store, "llm_usage", volatile=False)
    assert sum(u["requests"] for u in usage) == 0
    assert sum(u["cache_hits"] for u in usage) == sent == 9


def test_a_changed_template_or_model_misses_the_cache(tmp_path, server):
    store = make_store(tmp_path, server.base_url)
    run(store, DATES[:1])
    assert len(server.requests) == 1
    run(store, DATES[:1])
    assert len(server.requests) == 1  # the same request: from the cache
    template = tmp_path / "prompt.txt"
    template.write_text(
        "Trade well. {date} {positions} {yesterday_close_price} {today_buy_price} {STOP_SIGNAL}"
    )
    for params in ({"prompt_file": "prompt.txt"}, {"llm": {"model": "other-model"}}):
        (tmp_path / "models.yaml").write_text(config_text(server.base_url, **params))
        spec = model_specs(load_config(tmp_path / "models.yaml"))[0]
        with store.connect() as con:  # a new config: the old chain goes
            for table in (*WRITTEN, "llm_usage", "models"):
                column = "signature" if table == "models" else "model"
                con.execute(f"DELETE FROM {table} WHERE {column} = ?", [MODEL])
        store.register_models([spec])
        sent = len(server.requests)
        run(store, DATES[:1])
        assert len(server.requests) == sent + 1, params
    assert server.requests[-2].body["messages"][0]["content"].startswith("Trade well. 2025-10-01")
    assert server.requests[-1].body["model"] == "other-model"


def test_the_template_bytes_are_part_of_the_config_hash(tmp_path):
    template = tmp_path / "prompt.txt"
    hashes = []
    for text in (
        "A {date} {positions} {yesterday_close_price} {today_buy_price} {STOP_SIGNAL}",
        "B {date} {positions} {yesterday_close_price} {today_buy_price} {STOP_SIGNAL}",
    ):
        template.write_text(text)
        (tmp_path / "m.yaml").write_text(
            config_text("http://127.0.0.1:9/v1", prompt_file="prompt.txt")
        )
        spec = model_specs(load_config(tmp_path / "m.yaml"))[0]
        assert spec.params["prompt_template"] == text
        hashes.append(spec.config_hash)
    assert hashes[0] != hashes[1]
    template.write_text("{date} only")
    with pytest.raises(ConfigError, match="missing placeholders"):
        load_config(tmp_path / "m.yaml")
    template.unlink()
    with pytest.raises(ConfigError, match="cannot read the prompt template"):
        load_config(tmp_path / "m.yaml")


def test_the_api_key_reaches_the_provider_and_nothing_stored(tmp_path, server, monkeypatch):
    key = "sk-trader-SECRET-2468013579"
    monkeypatch.setenv("TRADER_TEST_KEY", key)
    store = make_store(tmp_path, server.base_url, llm={"api_key_env": "TRADER_TEST_KEY"})
    # a debugging proxy echoing the request's headers (Authorization first) as the answer
    server.script(Reply.echo_headers(200, into="content", prefix="<FINISH_SIGNAL> "))
    assert run(store, DATES[:1]).failures == []
    assert server.requests[0].headers["authorization"] == f"Bearer {key}"
    with store.connect() as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()]
        for table in tables:
            dump = json.dumps(con.execute(f"SELECT * FROM {table}").fetchall(), default=str)
            assert key not in dump, table
    [log] = [m for m in rows(store, "reasoning_logs") if m["role"] == "assistant"]
    assert "Bearer ***" in log["content"]


def test_500_and_429_with_retry_after_are_retried(tmp_path, server):
    store = make_store(tmp_path, server.base_url)
    server.script(
        Reply.error(500, "overloaded"),
        Reply.tool_calls(("buy", {"symbol": "AAA", "amount": 3})),
        Reply.error(429, "slow down", retry_after="0.4"),
        Reply.content("<FINISH_SIGNAL>"),
    )
    started = time.monotonic()
    outcome = run(store, DATES[:1])
    assert outcome.failures == []
    assert time.monotonic() - started >= 0.4  # waited as the server asked (backoff is 10 ms)
    assert len(server.requests) == 4
    [day] = rows(store, "model_days")
    assert day["status"] == "completed"
    assert [(o["symbol"], o["quantity"]) for o in rows(store, "orders")] == [("AAA", 3)]


def _fault_run(tmp_path, server, on_failure: str, fault: Reply):
    store = make_store(tmp_path, server.base_url, on_failure=on_failure)
    server.script(Reply.tool_calls(("buy", {"symbol": "AAA", "amount": 3})), fault, fault)
    return store, run(store, DATES[:2])


def test_on_failure_fail_fails_the_model_day_with_the_reason(tmp_path, server):
    store, outcome = _fault_run(tmp_path, server, "fail", Reply.content("late").after(2.0))
    assert len(outcome.failures) == 1 and f"{DATES[0]} failed" in outcome.failures[0]
    [day] = rows(store, "model_days")  # the chain stops at the failed day
    assert day["status"] == "failed"
    assert "no answer within 0.5 s" in day["error_message"]
    assert "1 order(s) the tools had confirmed are not filled" in day["error_message"]
    assert rows(store, "orders") == []
    [usage] = rows(store, "llm_usage", volatile=False)
    assert (usage["end_reason"], usage["error_code"]) == ("provider_failed", "llm_timeout")
    assert [t["tool_name"] for t in rows(store, "tool_usage")] == ["buy"]  # kept as data


def test_on_failure_hold_keeps_the_state_without_the_confirmed_trades(tmp_path, server):
    store, outcome = _fault_run(tmp_path, server, "hold", Reply.error(500, "down"))
    assert outcome.failures == []
    days = rows(store, "model_days")
    assert [d["status"] for d in days] == ["degraded_success", "completed"]
    assert days[0]["reason_codes"] == ["llm_server_error", "llm_trader_held"]
    assert days[0]["cash"] == CASH and days[0]["n_orders"] == 0
    assert rows(store, "holdings") == []  # the buy the tool confirmed is not filled
    tool = rows(store, "tool_usage")[0]
    assert tool["tool_name"] == "buy" and tool["error"] is None


def test_a_malformed_response_is_a_provider_failure(tmp_path, server):
    store, _ = _fault_run(tmp_path, server, "fail", Reply.malformed())
    [day] = rows(store, "model_days")
    assert day["status"] == "failed" and "not a chat completion" in day["error_message"]


def test_the_model_day_asset_runs_it_and_metrics_and_the_contract_read_it(
    tmp_path, server, instance
):
    store = make_store(tmp_path, server.base_url)
    server.script(
        Reply.tool_calls(("buy", {"symbol": "AAA", "amount": 10})),
        Reply.content("Bought. <FINISH_SIGNAL>"),
    )
    result = materialize_model_days(instance, store, MODEL, d0.isoformat(), d3.isoformat())
    assert result.success
    assert [d["status"] for d in rows(store, "model_days")] == ["completed"] * 4
    metrics = compute_metrics(store).frame.set_index("model").loc[MODEL]
    assert metrics["days"] == 4 and metrics["filled_orders"] == 1
    held = bar(d3, "AAA")["close"] * 10
    assert rows(store, "model_days")[-1]["positions_value"] == pytest.approx(held)
    for name, convert, table in (
        ("symbol-decision", decision_from_row, "signals"),
        ("model-day-status", status_from_row, "model_days"),
    ):
        schema = json.loads((SCHEMAS / f"{name}.v1alpha1.schema.json").read_text())
        for row in table_rows(store, table):
            jsonschema.validate(convert(row).model_dump(mode="json"), schema)
    [decision] = table_rows(store, "signals")
    # the kernel's LLM-only rule: a BUY (0.9) x the LLM solo penalty 0.7 -> OVERWEIGHT
    assert (decision["llm_rating"], decision["rating"]) == ("BUY", "OVERWEIGHT")
    assert decision["confidence"] == pytest.approx(0.9 * 0.7)


def trading_responder(body: dict) -> Reply:
    """A model that, each day, looks up a price, buys one AAA, then stops: 3 answers a day
    whatever order the requests of concurrent models arrive in."""
    answered = sum(m["role"] == "assistant" for m in body["messages"])
    today = re.findall(r"today's \((\d{4}-\d{2}-\d{2})\)", _user(body))[0]
    if answered == 0:
        return Reply.tool_calls(("get_price_local", {"symbol": "AAA", "date": today}))
    if answered == 1:
        return Reply.tool_calls(("buy", {"symbol": "AAA", "amount": 1}))
    return Reply.content("<FINISH_SIGNAL>")


def many_models(tmp_path: Path, base_url: str, n: int, **llm) -> ResultStore:
    path = tmp_path / "models.yaml"
    path.write_text(config_text(base_url, llm=llm))
    config = load_config(path)
    config = config.model_copy(
        update={
            "models": [config.models[0].model_copy(update={"signature": f"t{k}"}) for k in range(n)]
        }
    )
    store = ResultStore(tmp_path / "store.duckdb")
    store.register_models(model_specs(config))
    store.write_prices("bundled", HISTORY)
    return store


@pytest.mark.parametrize("limit", [1, 3])
def test_models_of_one_endpoint_run_concurrently_up_to_its_limit(tmp_path, limit):
    delay, days, n = 0.2, DATES[:3], 3
    with OpenAIServer(responder=lambda body: trading_responder(body).after(delay)) as server:
        store = many_models(tmp_path, server.base_url, n, max_concurrency=limit)
        started = time.monotonic()
        outcome = run_range(
            store, {f"t{k}": list(days) for k in range(n)}, endpoint_for=LLMResource().endpoint
        )
        took = time.monotonic() - started
        peak = server.peak_in_flight
    assert outcome.failures == []
    assert [r.model for r in outcome.runs] == ["t0", "t1", "t2"]  # in the order asked
    assert peak == limit
    one_model = len(days) * 3 * delay  # each model's own calls stay in order
    assert took >= one_model * n / limit
    if limit == n:
        assert took < 2 * one_model  # vs n x one_model one model at a time
    # each model bought one AAA a day, whatever the interleaving
    held = {(h["model"], h["date"]): h["shares"] for h in table_rows(store, "holdings")}
    assert held == {(f"t{k}", d): i + 1 for k in range(n) for i, d in enumerate(days)}


def test_days_up_to_the_knowledge_cutoff_say_the_model_may_remember_them(tmp_path, server):
    store = make_store(tmp_path, server.base_url, knowledge_cutoff=d1.isoformat())
    server.script(
        Reply.tool_calls(("buy", {"symbol": "AAA", "amount": 2})), Reply.content("<FINISH_SIGNAL>")
    )
    assert run(store, DATES[:3]).failures == []
    days = rows(store, "model_days")
    assert [d["status"] for d in days] == ["degraded_success", "degraded_success", "completed"]
    assert [d["reason_codes"] for d in days] == [
        ["before_knowledge_cutoff"],
        ["before_knowledge_cutoff"],
        [],
    ]
    assert [(o["date"], o["quantity"]) for o in rows(store, "orders")] == [(d0, 2)]
    (tmp_path / "models.yaml").write_text(config_text(server.base_url, knowledge_cutoff="June"))
    with pytest.raises(ConfigError, match="knowledge_cutoff 'June' is not YYYY-MM-DD"):
        load_config(tmp_path / "models.yaml")


def test_start_from_needs_a_stored_day_of_the_other_model(tmp_path, server):
    path = tmp_path / "models.yaml"
    text = config_text(server.base_url).replace(
        "    agent: llm_trader\n", "    agent: llm_trader\n    start_from: src\n"
    )
    path.write_text(text + "  - {signature: src, agent: buy_and_hold}\n")
    store = ResultStore(tmp_path / "store.duckdb")
    store.register_models(model_specs(load_config(path)))
    store.write_prices("bundled", HISTORY)
    outcome = run(store, DATES[1:2])
    assert "'src' has no stored day before 2025-10-02 to start from" in outcome.failures[0]
    assert run_range(store, {"src": [d0]}).failures == []
    assert run(store, DATES[1:2]).failures == []
    held = {
        model: {h["symbol"]: h["shares"] for h in rows(store, "holdings") if h["model"] == model}
        for model in ("src", MODEL)
    }
    assert held["src"] and held[MODEL] == held["src"]  # it held what src held (no trades)
    cash = {d["model"]: d["cash"] for d in rows(store, "model_days")}
    assert cash[MODEL] == cash["src"]
    path.write_text(text.replace("start_from: src", f"start_from: {MODEL}"))
    with pytest.raises(ConfigError, match="start_from must name another model"):
        load_config(path)


def test_unreadable_tool_calls_fail_the_day_and_are_not_cached(tmp_path, server):
    store = make_store(tmp_path, server.base_url)
    body = {"choices": [{"message": {"role": "assistant", "tool_calls": "buy AAA"}}]}
    server.script(Reply(body=json.dumps(body).encode()))
    run(store, DATES[:1])
    [day] = rows(store, "model_days")
    assert day["status"] == "failed" and "tool_calls is not a list" in day["error_message"]
    assert table_rows(store, "llm_cache") == []
    assert run(store, DATES[:1]).failures == []  # asked again: the default answer now
    assert len(server.requests) == 2
