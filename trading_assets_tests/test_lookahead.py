"""The point-in-time guard: on simulated date D an agent sees bars through D-1 and D's
open, never D's high, low, close or volume, nor anything later.

Checked four ways: the PointInTimeView's accessors, a property test that perturbs
everything not yet knowable and asks every built-in quant agent to decide the same, the
cached indicators (sma, rolling_std) against future closes, and splits: history is in
D's shares (adjusted for splits with ex-date on or before D, never for later ones).
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_assets.agents.base import AgentContext, Decision
from trading_assets.agents.registry import create_agent
from trading_assets.errors import LookAheadError
from trading_assets.market.actions import CorporateAction, CorporateActions
from trading_assets.market.history import FIELDS, PriceHistory
from trading_assets.market.sources import BundledSource
from trading_assets.market.view import PointInTimeView, exact_prefix_sums, exact_window_sums
from trading_assets.portfolio.step import PortfolioState

SYMBOLS = ("AAA", "BBB")
N_DAYS = 40
DATES = tuple(dt.date(2020, 1, 1) + dt.timedelta(days=i) for i in range(N_DAYS))

# Small windows so the strategies signal often on a 40-day random walk.
AGENTS = {
    "buy_and_hold": ("buy_and_hold", {}),
    "sma_crossover": ("sma_crossover", {"fast": 2, "slow": 5, "size": 10}),
    "bollinger": ("bollinger", {"window": 5, "k": 1.0, "size": 10}),
    "quant_llm/bollinger": (
        "quant_llm",
        {"quant": {"agent": "bollinger", "params": {"window": 5, "k": 1.0, "size": 10}}},
    ),
    "quant_llm/sma_crossover": (
        "quant_llm",
        {"quant": {"agent": "sma_crossover", "params": {"fast": 2, "slow": 5, "size": 10}}},
    ),
}


def random_arrays(seed: int) -> dict[str, np.ndarray]:
    """A plausible OHLCV random walk: low <= open, close <= high."""
    rng = np.random.default_rng(seed)
    shape = (N_DAYS, len(SYMBOLS))
    close = 100.0 * np.exp(np.cumsum(rng.normal(0, 0.03, shape), axis=0))
    open_ = close * np.exp(rng.normal(0, 0.01, shape))
    high = np.maximum(open_, close) * (1 + rng.uniform(0, 0.02, shape))
    low = np.minimum(open_, close) * (1 - rng.uniform(0, 0.02, shape))
    volume = rng.integers(1_000, 100_000, shape).astype(float)
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


def history_from(arrays: dict[str, np.ndarray]) -> PriceHistory:
    return PriceHistory(
        dates=DATES, symbols=SYMBOLS, source="synthetic", **{f: arrays[f].copy() for f in FIELDS}
    )


def perturb_unknowable(arrays: dict[str, np.ndarray], day: int, seed: int) -> dict:
    """Change D's high/low/close/volume and every field after D (some to NaN: missing bars)."""
    rng = np.random.default_rng(seed)
    out = {f: a.copy() for f, a in arrays.items()}
    for f in FIELDS:
        rows = slice(day, None) if f != "open" else slice(day + 1, None)
        block = out[f][rows]
        block *= rng.uniform(0.2, 5.0, block.shape)
        block[rng.random(block.shape) < 0.1] = np.nan
    return out


def decide(agent_key: str, history: PriceHistory, day: int, portfolio: PortfolioState):
    name, params = AGENTS[agent_key]
    agent = create_agent(name, params, AgentContext(signature="t", universe=SYMBOLS))
    return agent.decide(PointInTimeView(history, DATES[day]), portfolio)


PORTFOLIOS = st.sampled_from(
    [
        PortfolioState(cash=100_000.0),
        PortfolioState(cash=50_000.0, positions={"AAA": 10}),
        PortfolioState(cash=1_000.0, positions={"AAA": 10, "BBB": 25}),
    ]
)


# -- (a) the view ---------------------------------------------------------------------


@pytest.fixture
def view() -> PointInTimeView:
    return PointInTimeView(history_from(random_arrays(1)), DATES[10])


def test_view_history_with_date_d_ends_at_previous_day(view):
    arrays = random_arrays(1)
    for field in FIELDS:
        got = view.history(field, "AAA")
        assert len(got) == 10
        np.testing.assert_array_equal(got, arrays[field][:10, 0])
    np.testing.assert_array_equal(view.closes("BBB"), arrays["close"][:10, 1])
    np.testing.assert_array_equal(view.closes("BBB", lookback=3), arrays["close"][7:10, 1])
    assert view.last_close("AAA") == arrays["close"][9, 0]
    assert view.previous_date == DATES[9]


def test_view_open_with_date_d_returns_todays_open(view):
    assert view.open("AAA") == random_arrays(1)["open"][10, 0]
    assert view.price("open", "AAA", DATES[10]) == random_arrays(1)["open"][10, 0]


@pytest.mark.parametrize("field", ["high", "low", "close", "volume"])
def test_view_price_with_todays_unknown_field_raises_lookahead(view, field):
    with pytest.raises(LookAheadError) as info:
        view.price(field, "AAA", DATES[10])
    assert str(DATES[10]) in str(info.value)
    assert info.value.fix


@pytest.mark.parametrize("field", FIELDS)
@pytest.mark.parametrize("offset", [1, 5, N_DAYS - 11])
def test_view_price_with_later_date_raises_lookahead(view, field, offset):
    with pytest.raises(LookAheadError):
        view.price(field, "AAA", DATES[10 + offset])


@pytest.mark.parametrize("field", FIELDS)
def test_view_price_with_previous_day_returns_the_bar(view, field):
    assert view.price(field, "BBB", DATES[9]) == random_arrays(1)[field][9, 1]


def test_view_history_with_write_attempt_raises(view):
    closes = view.closes("AAA")
    with pytest.raises(ValueError):
        closes[-1] = 0.0


def test_view_on_first_day_with_no_past_sees_nothing():
    first = PointInTimeView(history_from(random_arrays(1)), DATES[0])
    assert len(first.closes("AAA")) == 0
    assert np.isnan(first.last_close("AAA"))
    assert first.previous_date is None
    assert np.isnan(first.sma("AAA", 1))


# -- (b) agents never react to the unknowable ------------------------------------------


@pytest.mark.parametrize("agent_key", sorted(AGENTS))
@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    perturb_seed=st.integers(0, 2**32 - 1),
    day=st.integers(1, N_DAYS - 1),
    portfolio=PORTFOLIOS,
)
def test_agent_decision_with_future_prices_perturbed_is_unchanged(
    agent_key, seed, perturb_seed, day, portfolio
):
    arrays = random_arrays(seed)
    before = decide(agent_key, history_from(arrays), day, portfolio)
    after = decide(
        agent_key, history_from(perturb_unknowable(arrays, day, perturb_seed)), day, portfolio
    )
    assert after == before


def find_sensitive_day(agent_key: str, tweak) -> tuple[Decision, Decision]:
    """The first (seed, day) where changing the known past (via `tweak`) changes the
    decision: proof the invariance above is not vacuous."""
    flat = PortfolioState(cash=100_000.0)
    for seed in range(50):
        arrays = random_arrays(seed)
        for day in range(6, N_DAYS):
            before = decide(agent_key, history_from(arrays), day, flat)
            changed = {f: a.copy() for f, a in arrays.items()}
            tweak(changed, day)
            after = decide(agent_key, history_from(changed), day, flat)
            if after != before:
                return before, after
    pytest.fail(f"{agent_key}: no day where the known past changes the decision")


def crash_previous_close(arrays: dict[str, np.ndarray], day: int) -> None:
    arrays["close"][day - 1] *= 0.5
    arrays["low"][day - 1] = np.minimum(arrays["low"][day - 1], arrays["close"][day - 1])


@pytest.mark.parametrize(
    "agent_key", ["sma_crossover", "bollinger", "quant_llm/bollinger", "quant_llm/sma_crossover"]
)
def test_agent_decision_with_previous_close_changed_can_change(agent_key):
    before, after = find_sensitive_day(agent_key, crash_previous_close)
    assert before.orders != after.orders or before.signals != after.signals


def test_buy_and_hold_decision_with_todays_open_changed_changes_quantity():
    def double_open(arrays, day):
        arrays["open"][day] *= 2.0

    before, after = find_sensitive_day("buy_and_hold", double_open)
    assert [o.quantity for o in after.orders] != [o.quantity for o in before.orders]


# -- (c) indicators -------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    perturb_seed=st.integers(0, 2**32 - 1),
    day=st.integers(1, N_DAYS - 1),
    window=st.integers(1, 12),
    lag=st.integers(0, 3),
)
def test_indicators_with_future_closes_changed_are_unchanged(seed, perturb_seed, day, window, lag):
    arrays = random_arrays(seed)
    view = PointInTimeView(history_from(arrays), DATES[day])
    future = PointInTimeView(
        history_from(perturb_unknowable(arrays, day, perturb_seed)), DATES[day]
    )
    for symbol in SYMBOLS:
        for indicator in ("sma", "rolling_std"):
            got = getattr(view, indicator)(symbol, window, lag)
            again = getattr(future, indicator)(symbol, window, lag)
            assert got == again or (np.isnan(got) and np.isnan(again))


@pytest.mark.parametrize("day", [6, 10, 39])
@pytest.mark.parametrize("window", [1, 3, 5])
def test_indicators_with_window_match_naive_mean_and_std_of_past_closes(day, window):
    arrays = random_arrays(7)
    view = PointInTimeView(history_from(arrays), DATES[day])
    past = arrays["close"][day - window : day, 0]
    assert view.sma("AAA", window) == pytest.approx(past.mean(), rel=1e-12)
    assert view.rolling_std("AAA", window) == pytest.approx(past.std(), rel=1e-12, abs=1e-12)
    lagged = arrays["close"][day - window - 1 : day - 1, 0]
    assert view.sma("AAA", window, lag=1) == pytest.approx(lagged.mean(), rel=1e-12)


def test_indicators_with_too_little_past_are_nan():
    view = PointInTimeView(history_from(random_arrays(3)), DATES[4])
    assert np.isnan(view.sma("AAA", 5))
    assert not np.isnan(view.sma("AAA", 4))
    assert np.isnan(view.rolling_std("AAA", 4, lag=1))


# -- (d) splits, point in time ----------------------------------------------------------

SPLIT_DAY = 20


def split_history(seed: int, with_split: bool = True) -> PriceHistory:
    """A random walk where AAA splits 2:1 on DATES[SPLIT_DAY]: raw prices halve there."""
    arrays = random_arrays(seed)
    for f in ("open", "high", "low", "close"):
        arrays[f][SPLIT_DAY:, 0] /= 2.0
    arrays["volume"][SPLIT_DAY:, 0] *= 2.0
    split = CorporateAction(symbol="AAA", ex_date=DATES[SPLIT_DAY], split_ratio=2.0)
    return history_from(arrays).with_actions(CorporateActions([split] if with_split else []))


@pytest.mark.parametrize("day", [4, 10, SPLIT_DAY - 1])
def test_view_before_a_split_sees_raw_prices_as_if_it_never_comes(day):
    raw, known = split_history(5, with_split=False), split_history(5)
    for field in FIELDS:
        a = PointInTimeView(raw, DATES[day]).history(field, "AAA")
        np.testing.assert_array_equal(PointInTimeView(known, DATES[day]).history(field, "AAA"), a)
    assert PointInTimeView(known, DATES[day]).sma("AAA", 3) == PointInTimeView(raw, DATES[day]).sma(
        "AAA", 3
    )


@pytest.mark.parametrize("day", [SPLIT_DAY, SPLIT_DAY + 1, N_DAYS - 1])
def test_view_on_or_after_a_split_sees_history_in_todays_shares(day):
    arrays = random_arrays(5)  # the walk before the split: in old shares all along
    view = PointInTimeView(split_history(5), DATES[day])
    np.testing.assert_allclose(view.closes("AAA"), arrays["close"][:day, 0] / 2.0, rtol=1e-15)
    np.testing.assert_allclose(view.history("volume", "AAA"), arrays["volume"][:day, 0] * 2.0)
    assert view.open("AAA") == arrays["open"][day, 0] / 2.0
    np.testing.assert_array_equal(view.closes("BBB"), arrays["close"][:day, 1])  # untouched
    assert view.sma("AAA", 5) == pytest.approx(arrays["close"][day - 5 : day, 0].mean() / 2.0)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), day=st.integers(1, SPLIT_DAY - 1), portfolio=PORTFOLIOS)
def test_agent_decision_before_a_split_does_not_know_it(seed, day, portfolio):
    for agent_key in ("sma_crossover", "bollinger", "buy_and_hold"):
        name, params = AGENTS[agent_key]
        decisions = [
            create_agent(name, params, AgentContext(signature="t", universe=SYMBOLS)).decide(
                PointInTimeView(split_history(seed, with_split), DATES[day]), portfolio
            )
            for with_split in (True, False)
        ]
        assert decisions[0] == decisions[1]


def test_bundled_view_in_2004_knows_the_2000_split_not_the_2005_one():
    history = BundledSource().load().select(["AAPL"])
    raw = history.with_actions(None)
    row = history.index_of(dt.date(2004, 12, 1))
    view = PointInTimeView(history, dt.date(2004, 12, 1))
    ex_2000 = history.index_of(dt.date(2000, 6, 21))
    closes = view.closes("AAPL")
    np.testing.assert_array_equal(closes[ex_2000:], raw.close[ex_2000:row, 0])
    np.testing.assert_array_equal(closes[:ex_2000], raw.close[:ex_2000, 0] / 2.0)


@pytest.mark.parametrize(
    ("ex_date", "after"), [("2000-06-21", "2000-06-22"), ("2005-02-28", "2005-03-01")]
)
def test_bundled_sma_does_not_jump_on_a_split_day(ex_date, after):
    history = BundledSource().load().select(["AAPL"])
    ex, nxt = dt.date.fromisoformat(ex_date), dt.date.fromisoformat(after)
    adjusted = (
        PointInTimeView(history, ex).sma("AAPL", 10),
        PointInTimeView(history, nxt).sma("AAPL", 10),
    )
    raw = history.with_actions(None)
    unadjusted = PointInTimeView(raw, ex).sma("AAPL", 10), PointInTimeView(raw, nxt).sma("AAPL", 10)
    assert abs(adjusted[1] / adjusted[0] - 1) < 0.03  # one day's move in a 10-day mean
    assert unadjusted[1] / unadjusted[0] - 1 < -0.04  # raw: half of one close in the mean


def test_view_listing_with_late_listing_says_not_listed_until_first_bar():
    history = BundledSource().load()
    assert PointInTimeView(history, dt.date(2004, 8, 18)).listing("GOOG") == "not_listed"
    assert PointInTimeView(history, dt.date(2004, 8, 19)).listing("GOOG") == "listed"
    assert PointInTimeView(history, dt.date(2000, 3, 1)).listing("IBM") == "listed"


@settings(max_examples=200, deadline=None)
@given(
    values=st.lists(
        st.one_of(st.floats(1e-3, 1e5), st.decimals("0.01", "5000", places=2).map(float))
        | st.just(float("nan")),
        min_size=1,
        max_size=60,
    ),
    window=st.integers(1, 30),
)
def test_sma_sums_with_any_closes_equal_math_fsum_as_backtrader_computes_them(values, window):
    got = exact_window_sums(exact_prefix_sums(values), window)
    expected = [math.fsum(values[t - window : t]) for t in range(window, len(values) + 1)]
    assert len(got) == len(expected)
    for a, b in zip(got, expected, strict=True):
        assert a == b or (math.isnan(a) and math.isnan(b))
