"""Guards against picking the luckiest of many trials: the deflated Sharpe ratio and the
probability of backtest overfitting (CSCV).

No kept library ships both (pypbo and skfolio's pieces are separate projects), so these
are the published formulas, tested against the papers' worked numbers:
- Bailey & López de Prado (2014), "The Deflated Sharpe Ratio: Correcting for Selection
  Bias, Backtest Overfitting and Non-Normality", J. Portfolio Management 40(5): PSR
  (their eq. 2), the expected maximum Sharpe of N trials (the SR0 of eq. 3, with the
  Euler-Mascheroni constant), and DSR = PSR(SR0).
- Bailey, Borwein, López de Prado & Zhu (2017), "The Probability of Backtest
  Overfitting", J. Computational Finance 20(4): combinatorially symmetric cross
  validation over S row blocks of the T x N matrix of trial returns.

Every Sharpe ratio here is per period (daily), not annualized, as in the papers.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.stats import norm

EULER_GAMMA = 0.5772156649015329
# A daily standard deviation at or below this is no risk taken (a trial that never
# trades: its excess returns are the constant -rf, whose computed std is rounding noise,
# 1e-20 to 1e-18): it has no Sharpe ratio, as its figures say (None). The guards rank
# it last (-inf) and never pick it; the DSR leaves it out of the Sharpe ratios' spread.
NO_RISK_STD = 1e-10


def probabilistic_sharpe(
    sharpe: float, benchmark: float, n_obs: int, skew: float = 0.0, kurtosis: float = 3.0
) -> float:
    """P(true Sharpe > benchmark) given an observed per-period Sharpe over n_obs returns
    with that skewness and (non-excess) kurtosis."""
    spread = math.sqrt(1.0 - skew * sharpe + (kurtosis - 1.0) / 4.0 * sharpe**2)
    return float(norm.cdf((sharpe - benchmark) * math.sqrt(n_obs - 1) / spread))


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """The Sharpe ratio the best of n_trials skill-less trials is expected to show."""
    if n_trials < 2:
        return 0.0
    return math.sqrt(sharpe_variance) * (
        (1.0 - EULER_GAMMA) * norm.ppf(1.0 - 1.0 / n_trials)
        + EULER_GAMMA * norm.ppf(1.0 - 1.0 / (n_trials * math.e))
    )


def deflated_sharpe(
    sharpe: float,
    n_obs: int,
    n_trials: int,
    sharpe_variance: float,
    skew: float = 0.0,
    kurtosis: float = 3.0,
) -> float:
    """DSR: the probability that the chosen trial's Sharpe beats what the best of
    n_trials would show by luck alone (the variance is across the trials' Sharpes)."""
    benchmark = expected_max_sharpe(n_trials, sharpe_variance)
    return probabilistic_sharpe(sharpe, benchmark, n_obs, skew, kurtosis)


@dataclass(frozen=True)
class PBO:
    probability: float  # share of splits where the in-sample best is below the OOS median
    logits: tuple[float, ...]  # one per split: ln(w / (1 - w)), w its relative OOS rank
    splits: int


def pbo_cscv(returns: np.ndarray, blocks: int = 16) -> PBO:
    """CSCV over a T x N matrix (rows: periods, columns: trials) cut into `blocks` row
    blocks: every half of the blocks is once in-sample, the rest out-of-sample. The trial
    with the best in-sample Sharpe is ranked out-of-sample (1 = worst .. N = best); its
    relative rank w = rank / (N + 1) gives the logit; PBO = share of logits <= 0.

    Each half's Sharpe comes from per-block sums (count, sum, sum of squares), so the
    C(16, 8) = 12,870 splits of 1,000 trials cost matrix products, not 12,870 passes
    over the returns. Splits are in lexicographic order, so split i's out-of-sample
    half is split C - 1 - i's in-sample half: each half's Sharpes are computed once and
    serve both splits (half the work), in chunks of pairs (memory stays a few MiB)."""
    matrix = np.asarray(returns, dtype=float)
    periods, trials = matrix.shape
    if blocks % 2 or blocks < 2 or periods < blocks or trials < 2:
        raise ValueError("pbo_cscv needs an even number of blocks <= periods and >= 2 trials")
    parts = np.array_split(np.arange(periods), blocks)
    count = np.array([len(p) for p in parts], dtype=float)
    total = np.stack([matrix[p].sum(axis=0) for p in parts])  # blocks x N
    squares = np.stack([(matrix[p] ** 2).sum(axis=0) for p in parts])
    splits = np.array(list(itertools.combinations(range(blocks), blocks // 2)))
    n_splits = len(splits)
    logits = np.empty(n_splits)
    # the first half of the splits, each with its complement (C - 1 - i) alongside
    for chunk in np.array_split(np.arange(n_splits // 2), max(1, n_splits // 1024)):
        both = np.concatenate([chunk, n_splits - 1 - chunk])
        inside = np.zeros((len(both), blocks))
        np.put_along_axis(inside, splits[both], 1.0, axis=1)
        is_sharpe = _block_sharpe(inside, count, total, squares)
        half = len(chunk)
        oos_sharpe = np.concatenate([is_sharpe[half:], is_sharpe[:half]])
        best = np.argmax(is_sharpe, axis=1)
        chosen = oos_sharpe[np.arange(len(both)), best][:, None]
        below = np.sum(oos_sharpe < chosen, axis=1)
        ties = np.sum(oos_sharpe == chosen, axis=1) - 1
        w = (1 + below + 0.5 * ties) / (trials + 1)
        logits[both] = np.log(w / (1.0 - w))
    return PBO(float(np.mean(logits <= 0)), tuple(map(float, logits)), n_splits)


def _block_sharpe(
    mask: np.ndarray, count: np.ndarray, total: np.ndarray, squares: np.ndarray
) -> np.ndarray:
    """Per-period Sharpe (mean / sample std) of each trial over the masked blocks."""
    n = (mask @ count)[:, None]
    mean = (mask @ total) / n
    var = ((mask @ squares) - n * mean**2) / (n - 1)
    std = np.sqrt(np.clip(var, 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(std > NO_RISK_STD, mean / std, -np.inf)
