"""Walk-forward analysis over a study's trials: pick on in-sample days only, keep what the
pick then did out of sample, fold after fold, and stitch those out-of-sample days.

Folds are consecutive windows of trading days. Rolling: each in-sample window has the
same length and slides by the out-of-sample length. Anchored: every in-sample window
starts at the first day and grows. Out-of-sample windows never overlap and follow their
in-sample window directly, so the stitched series has each day at most once and uses
nothing later than the day it reports.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from trading_assets.analytics.overfitting import NO_RISK_STD

Mode = Literal["rolling", "anchored"]


@dataclass(frozen=True)
class Fold:
    in_sample: tuple[dt.date, dt.date]  # first and last day, inclusive
    out_of_sample: tuple[dt.date, dt.date]


@dataclass(frozen=True)
class FoldResult:
    fold: Fold
    pick: str  # the trial with the best in-sample score
    in_sample_score: float
    out_of_sample_return: float  # the pick's compounded return over the OOS window


@dataclass(frozen=True)
class WalkForward:
    folds: tuple[FoldResult, ...]
    stitched: pd.Series  # daily returns of each fold's pick over its OOS window


def make_folds(
    days: Sequence[dt.date], in_sample: int, out_of_sample: int, mode: Mode = "rolling"
) -> list[Fold]:
    """Folds over `days` (sorted trading days) with windows of that many days; the last
    out-of-sample window may be shorter. Too few days for one fold: ValueError."""
    if in_sample < 2 or out_of_sample < 1:
        raise ValueError("walk-forward needs in_sample >= 2 and out_of_sample >= 1 days")
    if len(days) < in_sample + 1:
        raise ValueError(
            f"{len(days)} days cannot hold one fold of {in_sample} in-sample days and at "
            "least one out-of-sample day"
        )
    folds, start = [], 0
    while start + in_sample < len(days):
        first = 0 if mode == "anchored" else start
        last_in = start + in_sample - 1
        last_out = min(last_in + out_of_sample, len(days) - 1)
        folds.append(Fold((days[first], days[last_in]), (days[last_in + 1], days[last_out])))
        start += out_of_sample
    return folds


def sharpe_score(returns: pd.DataFrame) -> pd.Series:
    """Per-trial mean over standard deviation of daily returns; -inf for a trial whose
    returns do not vary (no Sharpe ratio: ranked last, never the pick)."""
    std = returns.std(ddof=1)
    return (returns.mean() / std.where(std > NO_RISK_STD)).fillna(-np.inf)


def walk_forward(
    returns: pd.DataFrame,
    folds: Sequence[Fold],
    score: Callable[[pd.DataFrame], pd.Series] = sharpe_score,
) -> WalkForward:
    """`returns`: daily returns, one row per day (a date index), one column per trial.
    Ties in the in-sample score go to the first trial in column order."""
    results, pieces = [], []
    for fold in folds:
        inside = returns.loc[fold.in_sample[0] : fold.in_sample[1]]
        outside = returns.loc[fold.out_of_sample[0] : fold.out_of_sample[1]]
        scores = score(inside)
        pick = str(scores.index[int(np.argmax(scores.to_numpy()))])
        oos = outside[pick]
        results.append(FoldResult(fold, pick, float(scores[pick]), float((1.0 + oos).prod() - 1.0)))
        pieces.append(oos.rename("return"))
    stitched = pd.concat(pieces) if pieces else pd.Series(dtype=float, name="return")
    return WalkForward(tuple(results), stitched)
