"""An llm_trader model through the real CLI: backfill against a local chat-completions
server, then `backfill --rerun` with the server stopped reproduces the stored rows from
the LLM cache (real Dagster instance, worker processes, real DuckDB file)."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from trading_assets_tests.e2e import sqlite_project, write_config
from trading_assets_tests.openai_server import OpenAIServer
from trading_assets_tests.test_llm_trader import trading_responder

pytestmark = pytest.mark.slow

DATES = ["2025-10-01", "2025-10-02", "2025-10-03", "2025-10-06", "2025-10-07"]
TABLES = {
    "model_days": ("run_id", "started_at", "completed_at"),
    "orders": (),
    "holdings": (),
    "signals": (),
    "reasoning_logs": (),
    "tool_usage": ("latency_ms",),
    "llm_usage": ("requests", "cache_hits"),
}


def write_prices(folder) -> None:
    folder.mkdir()
    for j, symbol in enumerate(("AAA", "BBB")):
        lines = ["date,open,high,low,close,volume"]
        for i, day in enumerate(DATES):
            o = 100.0 + 50 * j + i
            lines.append(f"{day},{o},{o + 2},{o - 1},{o + 0.5},1000000")
        (folder / f"{symbol}.csv").write_text("\n".join(lines) + "\n")


def stored(store) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        out = {}
        for table, volatile in TABLES.items():
            cursor = con.execute(f"SELECT * FROM {table} ORDER BY ALL")
            names = [d[0] for d in cursor.description]
            keep = [i for i, n in enumerate(names) if n not in volatile]
            out[table] = [tuple(row[i] for i in keep) for row in cursor.fetchall()]
        usage = con.execute("SELECT sum(requests), sum(cache_hits) FROM llm_usage").fetchone()
    finally:
        con.close()
    return out, usage


def test_rerun_with_the_endpoint_down_reproduces_the_stored_rows(tmp_path):
    project = sqlite_project(tmp_path)
    write_prices(tmp_path / "prices")
    server = OpenAIServer(responder=trading_responder).start()
    llm = {"model": "test-model", "base_url": server.base_url, "max_retries": 0}
    config = write_config(
        tmp_path,
        "initial_cash: 10000\nuniverse: [AAA, BBB]\n"
        "market_data: {source: folder, path: prices}\ncorporate_actions: ignore\n"
        "models:\n  - signature: trader\n    agent: llm_trader\n"
        f"    params: {json.dumps({'llm': llm, 'max_steps': 5})}\n",
    )
    args = ("backfill", "--config", str(config), "--start", DATES[0], "--end", DATES[-1])
    try:
        first = project.run(*args)
    finally:
        server.stop()
    assert first.returncode == 0, first.stderr[-3000:]
    assert len(server.requests) == 3 * len(DATES)
    before, (sent, hits) = stored(project.store)
    assert (sent, hits) == (3 * len(DATES), 0)
    # one AAA bought a day, filled at each open
    assert before["holdings"][-1][1:4] == (dt.date(2025, 10, 7), "AAA", len(DATES))
    again = project.run(*args, "--rerun")  # the server is gone: a request would fail a day
    assert again.returncode == 0, again.stderr[-3000:]
    after, (sent, hits) = stored(project.store)
    assert (sent, hits) == (0, 3 * len(DATES))
    assert after == before
