"""The studies' fast path (engine/vectorized.py) against the per-day engine: for every
variant of a grid, the same end-of-day values to the cent, the same daily returns and
the same fills (day, symbol, side, quantity, price, commission), on the bundled data
across two splits and a year of dividends (with fees whose slippage the day's high
caps, cash too short for some buys) and on a made-up history with a 3:2 split, a 1:3
reverse split paying out fractions, a dividend, a missing bar, a late listing and a
delisting. A study's trials come out the same whichever path ran them."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from trading_assets.agents.base import AgentContext
from trading_assets.agents.registry import create_agent
from trading_assets.analytics.metrics import STUDY_FIGURES, performance, study_figures
from trading_assets.config import load_config, study_specs
from trading_assets.engine.fees import fees_from_config
from trading_assets.engine.simulate import StartState, simulate
from trading_assets.engine.vectorized import has_fast_path, simulate_many
from trading_assets.market.actions import CorporateAction, CorporateActions
from trading_assets.market.calendar import is_trading_day
from trading_assets.market.history import PriceHistory
from trading_assets.market.sources import BundledSource
from trading_assets.portfolio.step import PortfolioState
from trading_assets.runs.study import run_trial, run_trials

FEES = {
    "none": "",
    # 50 bps of slippage: on a day that opens near its high the fill is capped at the high
    "per_share": "fees: {commission: {per_share: 0.01, minimum: 1.0}, slippage_bps: 50}",
    "percent": "fees: {commission: {rate: 0.002}, slippage_bps: 10}",
}


def specs(
    tmp_path, fees: str, actions: str, params: str, universe: str = "[AAPL, IBM, MSFT]",
    agent: str = "sma_crossover",
):  # fmt: skip
    path = tmp_path / "models.yaml"
    constraints = '    constraints: ["fast < slow"]\n' if agent == "sma_crossover" else ""
    path.write_text(
        f"universe: {universe}\ncorporate_actions: {actions}\n{fees}\n"
        f"studies:\n  - name: g\n    agent: {agent}\n    params: {params}\n{constraints}"
    )
    [study] = study_specs(load_config(path), path)
    return list(study.trials)


def engine(spec, history, dates):
    """The per-day engine's values, returns and fills for one trial."""
    agent = create_agent(spec.agent, spec.params, AgentContext(spec.signature, spec.universe))
    start = StartState(PortfolioState(cash=spec.initial_cash), spec.initial_cash)
    days = list(
        simulate(agent, history, dates, start, fees_from_config(spec.fees), spec.corporate_actions)
    )
    assert not any(d.failed for d in days)
    fills = [
        (t, o.order.symbol, o.order.side, o.order.quantity, o.price, o.commission)
        for t, d in enumerate(days)
        for o in d.orders
        if o.status == "filled"
    ]
    return np.array([d.value for d in days]), np.array([d.daily_return for d in days]), fills


def assert_same(trials, history, dates) -> int:
    """The fast path equals the engine for every trial; how many fills they compared."""
    fast = simulate_many(
        trials, history, dates, fees_from_config(trials[0].fees), trials[0].corporate_actions,
        chunk=7, record=True,
    )  # fmt: skip
    compared = 0
    for spec, got in zip(trials, fast, strict=True):
        values, returns, fills = engine(spec, history, dates)
        compared += len(fills)
        assert not got.needs_engine
        assert np.abs(got.values - values).max() < 0.005, spec.signature  # to the cent
        assert np.abs(got.returns - returns).max() < 1e-12, spec.signature
        assert list(got.trades) == fills, spec.signature
        assert got.filled_orders == len(fills)
    return compared


@pytest.fixture(scope="module")
def bundled():
    history = BundledSource().load().select(["AAPL", "IBM", "MSFT"])
    # MSFT splits 2:1 on 2003-02-18, AAPL on 2005-02-28; IBM and MSFT pay dividends
    # (MSFT's special $3.03 on 2004-11-15)
    start, end = dt.date(2002, 11, 1), dt.date(2005, 6, 30)
    dates = [d for d in history.dates if start <= d <= end and is_trading_day(d)]
    return history, dates


@pytest.mark.parametrize("actions", ["apply", "ignore"])
@pytest.mark.parametrize("fees", sorted(FEES))
def test_every_variant_equals_the_per_day_engine_on_the_bundled_data(
    tmp_path, bundled, fees, actions
):
    history, dates = bundled
    trials = specs(
        tmp_path, FEES[fees], actions, "{fast: [2, 5, 13], slow: [10, 30, 60], size: [100, 1000]}"
    )
    assert len(trials) == 16 and all(has_fast_path(t) for t in trials)
    assert_same(trials, history, dates)


BOLLINGER = "{window: [5, 20], k: [0.5, 1.0, 2.5], size: [100, 1000]}"


@pytest.mark.parametrize("actions", ["apply", "ignore"])
@pytest.mark.parametrize("fees", sorted(FEES))
def test_every_bollinger_variant_equals_the_per_day_engine_on_the_bundled_data(
    tmp_path, bundled, fees, actions
):
    history, dates = bundled
    trials = specs(tmp_path, FEES[fees], actions, BOLLINGER, agent="bollinger")
    assert len(trials) == 12 and all(has_fast_path(t) for t in trials)
    assert assert_same(trials, history, dates) > 500  # bands crossed often: many fills


def test_every_bollinger_variant_equals_the_per_day_engine_on_odd_splits_and_listings(tmp_path):
    history = made_up_history()
    trials = specs(
        tmp_path, FEES["per_share"], "apply", "{window: [3, 10], k: [0.3, 1.5], size: [101]}",
        universe="[AAA, BBB]", agent="bollinger",
    )  # fmt: skip
    assert assert_same(trials, history, list(history.dates)) > 50


def test_the_fee_and_the_cap_change_the_fills_so_the_comparison_sees_them(tmp_path, bundled):
    """The per-share fees with 50 bps of slippage: some fills are capped at the day's high
    or low, some buys of 1,000 shares are refused for cash, and fees are paid (so a fast
    path that dropped any of these would differ from the engine above)."""
    history, dates = bundled
    trials = specs(
        tmp_path, FEES["per_share"], "apply", "{fast: [2, 5], slow: [10, 30], size: [1000]}"
    )
    capped = commission = 0
    for spec in trials:
        _, _, fills = engine(spec, history, dates)
        for t, symbol, _side, _, price, fee in fills:
            row, j = history.index_of(dates[t]), history.symbol_index(symbol)
            capped += price in (history.high[row, j], history.low[row, j])
            commission += fee
    assert capped > 0 and commission > 0
    none = specs(tmp_path, FEES["none"], "apply", "{fast: [2], slow: [10], size: [1000, 10]}")
    (_, _, big), (_, _, small) = (engine(s, history, dates) for s in none)
    assert len(big) < len(small)  # 1,000 shares of each: some buys wait for cash


def made_up_history() -> PriceHistory:
    """Two symbols over 300 weekdays: AAA splits 3:2 on day 120 and pays a dividend on
    day 200, has no bar on day 90; BBB lists on day 40, splits 1:3 on day 150 and has
    no bar after day 260 (delisted)."""
    rng = np.random.default_rng(7)
    dates = tuple(dt.date(2001, 1, 1) + dt.timedelta(days=i) for i in range(420))
    dates = tuple(d for d in dates if d.weekday() < 5)[:300]
    close = 40.0 * np.exp(np.cumsum(rng.normal(0, 0.02, (300, 2)), axis=0))
    close[120:, 0] /= 1.5
    close[150:, 1] *= 3.0
    close = np.round(close, 2)
    open_ = np.round(close * (1 + rng.normal(0, 0.01, close.shape)), 2)
    high = np.maximum(open_, close) + 0.1
    low = np.minimum(open_, close) - 0.1
    for arr in (open_, high, low, close):
        arr[90, 0] = np.nan
        arr[:40, 1] = np.nan
        arr[261:, 1] = np.nan
    actions = CorporateActions(
        [
            CorporateAction(symbol="AAA", ex_date=dates[120], split_ratio=1.5),
            CorporateAction(symbol="AAA", ex_date=dates[200], dividend=0.37),
            CorporateAction(symbol="BBB", ex_date=dates[150], split_ratio=1 / 3),
        ]
    )
    volume = np.full(close.shape, 1e6)
    return PriceHistory(
        dates=dates, symbols=("AAA", "BBB"), open=open_, high=high, low=low, close=close,
        volume=volume, source="made-up", actions=actions,
    )  # fmt: skip


@pytest.mark.parametrize("fees", sorted(FEES))
def test_every_variant_equals_the_per_day_engine_on_odd_splits_and_listings(tmp_path, fees):
    history = made_up_history()
    trials = specs(
        tmp_path, FEES[fees], "apply", "{fast: [2, 3, 5], slow: [7, 12], size: [101, 1000]}",
        universe="[AAA, BBB]",
    )  # fmt: skip
    assert_same(trials, history, list(history.dates))


def test_a_study_runs_fast_trials_and_the_others_through_the_engine_alike(tmp_path, bundled):
    history, dates = bundled
    fast = specs(tmp_path, FEES["per_share"], "apply", "{fast: [3, 8], slow: [20], size: 100}")
    path = tmp_path / "other.yaml"
    path.write_text(
        "universe: [AAPL, IBM, MSFT]\nstudies:\n  - name: h\n    agent: buy_and_hold\n"
        "    params: {fraction: [0.5, 0.9]}\n"
    )
    [other] = study_specs(load_config(path), path)
    mixed = [fast[0], *other.trials, fast[1]]
    assert [has_fast_path(t) for t in mixed] == [True, False, False, True]
    for got, spec in zip(run_trials(mixed, history, dates, {}), mixed, strict=True):
        want = run_trial(spec, history, dates, {})
        assert got.spec == spec and got.error is None
        assert got.values.to_dict() == want.values.to_dict()
        assert got.returns.to_dict() == want.returns.to_dict()
        assert got.filled_orders == want.filled_orders


def test_the_figures_of_many_trials_at_once_are_performances_own(tmp_path, bundled):
    """study_figures (one batch for a study's trials) gives performance()'s floats, and
    None where a figure is undefined (an all-cash trial: no volatility, no winning day)."""
    history, dates = bundled
    trials = specs(
        tmp_path, FEES["percent"], "apply", "{fast: [2, 9], slow: [30], size: [50, 9000]}"
    )
    done = run_trials(trials, history, dates, {})
    batch = study_figures(pd.DataFrame({t.spec.signature: t.returns for t in done}))
    for trial in done:
        want = performance(trial.returns)
        assert dict(batch.loc[trial.spec.signature]) == {k: getattr(want, k) for k in STUDY_FIGURES}
    idle = batch.loc["g-fast2-slow30-size9000"]  # 9,000 shares never fit the cash
    assert idle["sharpe"] is None and idle["win_rate"] is None and idle["max_drawdown"] == 0.0
