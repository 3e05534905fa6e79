"""The deflated Sharpe ratio against Bailey & López de Prado's (2014) worked example, and
CSCV's probability of backtest overfitting on matrices small enough to rank by hand."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import rankdata

from trading_assets.analytics.overfitting import (
    deflated_sharpe,
    expected_max_sharpe,
    pbo_cscv,
    probabilistic_sharpe,
)


def test_deflated_sharpe_matches_the_papers_numerical_example():
    # 100 trials; the best has an annualized Sharpe of 2.5 over 5 years of daily returns
    # (1,250), skewness -3, kurtosis 10; the trials' annualized Sharpes have variance 1/2.
    # The paper: SR0 ~ 0.1132 (per day) and DSR ~ 0.9004.
    sharpe, variance = 2.5 / math.sqrt(250), 0.5 / 250
    assert expected_max_sharpe(100, variance) == pytest.approx(0.1132, abs=5e-5)
    dsr = deflated_sharpe(sharpe, 1250, 100, variance, skew=-3, kurtosis=10)
    assert dsr == pytest.approx(0.9004, abs=2e-4)


def test_probabilistic_sharpe_at_the_benchmark_is_a_coin_flip():
    assert probabilistic_sharpe(0.1, 0.1, 500) == 0.5
    assert expected_max_sharpe(1, 0.01) == 0.0  # one trial: no selection


def test_pbo_of_trials_that_swap_places_out_of_sample_is_one():
    # A rises, B falls: whichever wins a half of the rows loses the other half (or ties).
    # Hand-ranked: 4 of the 6 splits put the in-sample best last (logit ln(1/2)), 2 tie
    # (logit 0): PBO = 6/6.
    a = [1.0, 2.0, 3.0, 4.0]
    out = pbo_cscv(np.array([a, a[::-1]]).T, blocks=4)
    assert out.splits == 6
    assert out.probability == 1.0
    assert sorted(out.logits) == pytest.approx([math.log(0.5)] * 4 + [0.0, 0.0])


def test_pbo_of_a_trial_better_in_every_period_is_zero():
    a = np.array([1.0, 2.0, 3.0, 4.0])
    out = pbo_cscv(np.array([a, a + 10]).T, blocks=4)
    assert out.probability == 0.0
    assert out.logits == pytest.approx((math.log(2),) * 6)  # best of 2 -> w = 2/3


def test_pbo_refuses_an_odd_number_of_blocks():
    with pytest.raises(ValueError, match="even number of blocks"):
        pbo_cscv(np.ones((10, 3)), blocks=3)


def test_pbo_of_skill_less_trials_is_near_one_half():
    # 200 trials of pure noise: the in-sample best is as likely below the OOS median as
    # above it (the paper's null case)
    noise = np.random.default_rng(7).normal(0.0, 0.01, size=(400, 200))
    assert 0.4 < pbo_cscv(noise, blocks=8).probability < 0.6


def _reference_pbo(returns: np.ndarray, blocks: int) -> tuple[float, list[float]]:
    """CSCV straight from the paper, one split at a time over the rows themselves."""
    parts = np.array_split(np.arange(len(returns)), blocks)
    logits = []
    for half in itertools.combinations(range(blocks), blocks // 2):
        rest = [b for b in range(blocks) if b not in half]
        inside = returns[np.concatenate([parts[b] for b in half])]
        outside = returns[np.concatenate([parts[b] for b in rest])]
        best = int(np.argmax(inside.mean(axis=0) / inside.std(axis=0, ddof=1)))
        rank = rankdata(outside.mean(axis=0) / outside.std(axis=0, ddof=1))[best]
        w = rank / (returns.shape[1] + 1)
        logits.append(math.log(w / (1 - w)))
    return sum(v <= 0 for v in logits) / len(logits), logits


@pytest.mark.parametrize(("periods", "trials", "blocks"), [(250, 12, 8), (333, 40, 10)])
def test_pbo_equals_a_per_split_reference_on_random_returns(periods, trials, blocks):
    rng = np.random.default_rng(periods)
    returns = rng.normal(0.0002, 0.01, (periods, trials))
    returns[:, 1] = returns[:, 0]  # a tie out of sample: the rank is the average
    probability, logits = _reference_pbo(returns, blocks)
    pbo = pbo_cscv(returns, blocks)
    assert pbo.splits == math.comb(blocks, blocks // 2) == len(logits)
    assert pbo.probability == probability
    np.testing.assert_allclose(pbo.logits, logits, rtol=1e-9, atol=1e-12)
