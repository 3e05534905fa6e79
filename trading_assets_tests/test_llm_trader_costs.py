"""Where analysts look: an llm_trader's tokens and cost in `metrics` and the
leaderboard, and its figures after the knowledge cutoff apart from the rest (real local
chat-completions server, real DuckDB store)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from trading_assets.config import load_config, model_specs
from trading_assets.errors import ConfigError
from trading_assets.runs.metrics import compute_metrics, ranked_leaderboard
from trading_assets.store.metrics import replace_metrics, stored_metrics

try:  # package layout (trading_assets_tests/__init__.py) or the repo root on sys.path
    from trading_assets_tests.openai_server import OpenAIServer, Reply
    from trading_assets_tests.test_llm_trader import (
        DATES,
        MODEL,
        config_text,
        make_store,
        rows,
        run,
        script_four_days,
    )
except ImportError:  # pytest's default "prepend" import of this folder
    from openai_server import OpenAIServer, Reply
    from test_llm_trader import (
        DATES,
        MODEL,
        config_text,
        make_store,
        rows,
        run,
        script_four_days,
    )

MODELS = (MODEL,)
d0, d1, d2, d3 = DATES[:4]
PROMPT_PRICE, COMPLETION_PRICE = 1.25, 10.0  # USD per million tokens


@pytest.fixture
def server():
    with OpenAIServer(default=Reply.content("Nothing to do. <FINISH_SIGNAL>")) as srv:
        yield srv


def test_tokens_and_cost_add_up_in_metrics_and_the_leaderboard(tmp_path, server):
    store = make_store(
        tmp_path,
        server.base_url,
        prompt_price_per_million=PROMPT_PRICE,
        completion_price_per_million=COMPLETION_PRICE,
    )
    usages = script_four_days(server)  # 9 answers over d0..d3
    run(store)
    prompt = sum(p for p, _ in usages)
    completion = sum(c for _, c in usages)
    metrics = compute_metrics(store).frame.set_index("model").loc[MODEL]
    assert metrics["llm_answers"] == 9
    assert (metrics["prompt_tokens"], metrics["completion_tokens"]) == (prompt, completion)
    assert metrics["total_tokens"] == prompt + completion == 1_062
    cost = (prompt * PROMPT_PRICE + completion * COMPLETION_PRICE) / 1e6
    assert metrics["llm_cost_usd"] == pytest.approx(cost)
    # stored in the metrics table, and the leaderboard copies them under the same names
    replace_metrics(store, compute_metrics(store).frame)
    board = ranked_leaderboard(store, stored_metrics(store)).set_index("model").loc[MODEL]
    token_columns = sorted(c for c in board.index if "token" in c)
    assert token_columns == ["completion_tokens", "prompt_tokens", "total_tokens"]
    assert board["total_tokens"] == 1_062
    assert board["llm_cost_usd"] == pytest.approx(cost)


def test_without_prices_there_is_no_cost_and_a_quant_model_has_no_tokens(tmp_path, server):
    store = make_store(tmp_path, server.base_url)
    run(store, DATES[:2])
    metrics = compute_metrics(store).frame.set_index("model").loc[MODEL]
    assert metrics["total_tokens"] == 4  # 2 answers of the default reply, (1, 1) each
    assert metrics["llm_cost_usd"] is None or math.isnan(metrics["llm_cost_usd"])


def test_the_figures_after_the_knowledge_cutoff_are_reported_apart(tmp_path, server):
    store = make_store(tmp_path, server.base_url, knowledge_cutoff=d1.isoformat())
    script_four_days(server)
    run(store)
    returns = {d["date"]: d["daily_return"] for d in rows(store, "model_days")}
    later = np.array([returns[d2], returns[d3]])
    metrics = compute_metrics(store).frame.set_index("model").loc[MODEL]
    assert metrics["days"] == 4
    assert metrics["knowledge_cutoff"] == d1
    assert metrics["days_after_cutoff"] == 2
    assert metrics["cumulative_return_after_cutoff"] == pytest.approx(np.prod(1 + later) - 1)
    excess = later - metrics["risk_free_rate"] / 252
    sharpe = excess.mean() / excess.std(ddof=1) * np.sqrt(252)
    assert metrics["sharpe_after_cutoff"] == pytest.approx(sharpe)
    replace_metrics(store, compute_metrics(store).frame)
    board = ranked_leaderboard(store, stored_metrics(store)).set_index("model").loc[MODEL]
    assert board["days_after_cutoff"] == 2
    assert board["sharpe_after_cutoff"] == pytest.approx(sharpe)


def test_without_a_cutoff_nothing_is_claimed_after_it(tmp_path, server):
    store = make_store(tmp_path, server.base_url)
    run(store, DATES[:2])
    metrics = compute_metrics(store).frame.set_index("model").loc[MODEL]
    assert metrics["days_after_cutoff"] is None or math.isnan(metrics["days_after_cutoff"])


def test_a_token_budget_stops_the_run_before_the_next_day_keeping_the_stored_ones(tmp_path, server):
    # the default reply: 1 answer of (1, 1) tokens a day; the budget is reached after day 2
    store = make_store(tmp_path, server.base_url, max_tokens=4)
    outcome = run(store)
    assert [d["date"] for d in rows(store, "model_days")] == [d0, d1]
    assert len(server.requests) == 2  # nothing sent for d2
    [failure] = outcome.failures
    assert failure.startswith(f"{MODEL}: model {MODEL}: budget_exceeded: 4 tokens spent")
    assert f"stopped before {d2}" in failure and "raise (or remove) params.max_tokens" in failure
    # the stored days count against the budget of a later run: it stops at once
    assert run(store, DATES[2:4]).failures[0].count("budget_exceeded") == 1
    assert len(server.requests) == 2
    # raised, the budget lets the missing days run
    (tmp_path / "models.yaml").write_text(config_text(server.base_url, max_tokens=100))
    store.register_models(model_specs(load_config(tmp_path / "models.yaml")))
    assert run(store, DATES[2:4]).failures == []
    assert [d["date"] for d in rows(store, "model_days")] == [d0, d1, d2, d3]


def test_a_cost_budget_needs_prices(tmp_path, server):
    with pytest.raises(ConfigError, match="max_cost_usd needs prompt_price_per_million"):
        make_store(tmp_path, server.base_url, max_cost_usd=1.0)
