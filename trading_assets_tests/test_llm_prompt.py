"""The LLM prompt is point-in-time and stable; the answer parser is strict.

Changing any price the agent cannot know on D (D's high, low, close, volume, anything
after D) leaves the prompt byte-identical; changing D-1's close or D's open changes it.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trading_assets.llm.answer import MAX_RATIONALE_CHARS, parse_answer
from trading_assets.llm.client import LLMError
from trading_assets.llm.prompt import SYSTEM_PROMPT, build_messages, prompt_hash
from trading_assets.market.history import FIELDS, PriceHistory
from trading_assets.market.view import PointInTimeView

N_DAYS = 40
SYMBOLS = ("AAPL", "MSFT")
DATES = tuple(dt.date(2025, 1, 1) + dt.timedelta(days=i) for i in range(N_DAYS))


def arrays(seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.cumprod(1 + rng.normal(0, 0.01, (N_DAYS, len(SYMBOLS))), axis=0)
    return {
        "open": close * (1 + rng.normal(0, 0.002, close.shape)),
        "high": close * 1.01,
        "low": close * 0.99,
        "close": close,
        "volume": rng.integers(1_000, 9_000, close.shape).astype(float),
    }


def history(data: dict[str, np.ndarray]) -> PriceHistory:
    return PriceHistory(dates=DATES, symbols=SYMBOLS, source="test", **data)


def prompt_on(data: dict[str, np.ndarray], day: int, symbol: str = "AAPL") -> list[dict[str, str]]:
    return build_messages(PointInTimeView(history(data), DATES[day]), symbol, 10)


def changed(data: dict[str, np.ndarray], field: str, rows: slice | int) -> dict[str, np.ndarray]:
    out = {name: arr.copy() for name, arr in data.items()}
    out[field][rows] *= 1.5
    return out


def test_prompt_with_market_data_shows_closes_through_previous_day_and_todays_open():
    data = arrays()
    messages = prompt_on(data, 30)
    assert messages[0] == {"role": "system", "content": SYSTEM_PROMPT}
    facts = json.loads(messages[1]["content"].splitlines()[1])
    assert facts["date"] == "2025-01-31" and facts["previous_trading_day"] == "2025-01-30"
    assert facts["symbol"] == "AAPL" and facts["shares_held"] == 10
    assert facts["open_today"] == round(data["open"][30, 0], 4)
    assert facts["closes_through_previous_day"] == [round(c, 4) for c in data["close"][10:30, 0]]
    expected_5d = round((data["close"][29, 0] / data["close"][24, 0] - 1) * 100, 2)
    assert facts["return_5d_pct"] == expected_5d
    assert "JSON" in messages[0]["content"]  # OpenAI's json_object mode requires the word


@pytest.mark.parametrize("field", ["high", "low", "close", "volume"])
def test_prompt_with_changed_same_day_field_is_unchanged(field):
    data = arrays()
    assert prompt_on(changed(data, field, 30), 30) == prompt_on(data, 30)


@pytest.mark.parametrize("field", FIELDS)
def test_prompt_with_changed_future_prices_is_unchanged(field):
    data = arrays()
    assert prompt_on(changed(data, field, slice(31, None)), 30) == prompt_on(data, 30)


def test_prompt_with_changed_previous_close_changes():
    data = arrays()
    before, after = prompt_on(data, 30), prompt_on(changed(data, "close", 29), 30)
    assert before != after and prompt_hash(before) != prompt_hash(after)


def test_prompt_with_changed_todays_open_changes():
    data = arrays()
    assert prompt_on(changed(data, "open", 30), 30) != prompt_on(data, 30)


@settings(max_examples=40, deadline=None)
@given(
    day=st.integers(min_value=0, max_value=N_DAYS - 1),
    field=st.sampled_from(FIELDS),
    offset=st.integers(min_value=0, max_value=N_DAYS),
    factor=st.floats(min_value=0.1, max_value=10, allow_nan=False),
)
def test_prompt_with_any_change_not_known_on_d_is_unchanged(day, field, offset, factor):
    row = day + offset
    assume(row < N_DAYS and not (row == day and field == "open"))  # D's open is known on D
    data = arrays()
    perturbed = {name: arr.copy() for name, arr in data.items()}
    perturbed[field][row, :] = perturbed[field][row, :] * factor + 1
    assert prompt_hash(prompt_on(perturbed, day)) == prompt_hash(prompt_on(data, day))


def test_prompt_with_first_day_of_history_uses_nulls():
    facts = json.loads(prompt_on(arrays(), 0)[1]["content"].splitlines()[1])
    assert facts["closes_through_previous_day"] == [] and facts["return_20d_pct"] is None
    assert facts["previous_trading_day"] is None


def test_prompt_with_missing_bars_writes_null_not_nan():
    data = arrays()
    data["close"][24, 0] = np.nan  # the 5-day return's base
    content = prompt_on(data, 30)[1]["content"]
    assert "NaN" not in content and "null" in content
    assert json.loads(content.splitlines()[1])["return_5d_pct"] is None


def test_prompt_hash_with_integer_and_float_shares_is_equal():
    view = PointInTimeView(history(arrays()), DATES[30])
    assert prompt_hash(build_messages(view, "AAPL", 10)) == prompt_hash(
        build_messages(view, "AAPL", 10.0)
    )
    assert prompt_hash(build_messages(view, "AAPL", 10)) != prompt_hash(
        build_messages(view, "MSFT", 10)
    )


def test_prompt_hash_with_reordered_keys_is_equal_and_is_sha256_hex():
    one = [{"role": "user", "content": "x"}]
    two = [{"content": "x", "role": "user"}]
    assert prompt_hash(one) == prompt_hash(two) and len(prompt_hash(one)) == 64


@pytest.mark.parametrize(
    "content, rating",
    [
        ('{"rating": "BUY", "rationale": "Up trend."}', "BUY"),
        ('  {"rationale": "Flat.", "rating": "HOLD"}\n', "HOLD"),
        ('```json\n{"rating": "SELL", "rationale": "Down."}\n```', "SELL"),
        ('```\n{"rating": "UNDERWEIGHT", "rationale": "Weak."}```', "UNDERWEIGHT"),
        ('{"rating": "STRONG BUY", "rationale": "Parses; the kernel flags it."}', "STRONG BUY"),
    ],
)
def test_parse_answer_with_valid_object_returns_rating_and_rationale(content, rating):
    answer = parse_answer(content)
    assert answer.rating == rating and answer.rationale


@pytest.mark.parametrize(
    "content",
    [
        "",
        "BUY",
        "not json at all",
        '{"rating": "BUY"',
        '["BUY", "why"]',
        '{"rating": "BUY"}',
        '{"rating": "BUY", "rationale": "x", "confidence": 0.9}',
        '{"rating": 1, "rationale": "x"}',
        '{"rating": "BUY", "rationale": null}',
        '{"rating": "BUY", "rating": "SELL", "rationale": "x"}',
        'Sure! {"rating": "BUY", "rationale": "x"}',
        '```json\n{"rating": "BUY", "rationale": "x"}\n``` Hope this helps',
    ],
)
def test_parse_answer_with_anything_else_raises_llm_unparseable(content):
    with pytest.raises(LLMError) as info:
        parse_answer(content)
    assert info.value.reason_code == "llm_unparseable" and not info.value.retryable


def test_parse_answer_with_runaway_rationale_truncates_it():
    answer = parse_answer(json.dumps({"rating": "BUY", "rationale": "x" * 5000}))
    assert len(answer.rationale) == MAX_RATIONALE_CHARS
