"""Performance metrics of one model from its daily returns: the one home for them.

Every formula empyrical-reloaded has comes from it: cumulative and annual return, annual
volatility, Sharpe, Sortino, maximum drawdown, Calmar, alpha and beta. What it lacks is
written here, one line each: the drawdown's peak and trough dates, win rate,
profit/loss ratio, excess return, active return and tracking error.

Conventions:
- `returns` are simple daily returns in date order (`model_days.daily_return`: a model's
  first day is measured against its initial cash).
- 252 periods a year; an annual risk-free rate `rf` counts as `rf / 252` a day (the
  legacy tools' convention).
- Annual return is compounded over 252 trading days a year (empyrical). The legacy tools
  used (1 + R) ** (365 / calendar days) - 1; over the demo's 13 years the two differ by
  less than 0.01 percentage points.
- `max_drawdown` is a positive fraction (0.25 = a 25 % fall from the peak); empyrical
  reports it negative.
- An undefined figure (no volatility, no losing day, too few days) is None, never inf.
- Under a year (fewer than 252 days) the figures that extrapolate a return to a year
  (ANNUALIZED_RETURNS: annual return, Calmar, alpha, active return) are None: a 20-day
  run's "annual return" of 581 % is noise. Volatility, tracking error, Sharpe, Sortino
  and the information ratio scale daily figures by sqrt(252) and are kept at any length.
  People's tables show such a None as SHORT_RUN.
- Against a benchmark b (its daily returns over the model's dates): excess return is the
  difference of the cumulative returns; active return is the annualized mean daily
  active return, mean(r - b) x 252; tracking error is annual_volatility(r - b); the
  information ratio is empyrical's excess_sharpe x sqrt(252) (= active return / tracking
  error).
- Risk-free rate: Sharpe and Sortino subtract rf / 252 a day, while the simulated cash
  earns 0, so an all-cash model has a negative excess return over the rate.
"""

from __future__ import annotations

import datetime as dt
import math

import empyrical as ep
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict

PERIODS_PER_YEAR = 252
DEFAULT_RISK_FREE = 0.02
MIN_DAYS_TO_ANNUALIZE = PERIODS_PER_YEAR  # a year of sessions
ANNUALIZED_RETURNS = ("annual_return", "calmar", "alpha", "active_return")
SHORT_RUN = "(<1y)"  # shown in place of an ANNUALIZED_RETURNS figure of a run under a year


def daily_rate(annual: float) -> float:
    """The per-day risk-free rate every Sharpe, Sortino and alpha here is measured against
    (empyrical takes it per period): the annual rate over 252 sessions."""
    return annual / PERIODS_PER_YEAR


class Drawdown(BaseModel):
    """The largest fall of the equity curve from a running peak."""

    model_config = ConfigDict(frozen=True, strict=True)

    max_drawdown: float
    peak_date: dt.date | None  # None: no fall at all
    trough_date: dt.date | None


class Performance(BaseModel):
    """One model's figures over its days; `benchmark_*`, alpha and beta need a benchmark."""

    model_config = ConfigDict(frozen=True, strict=True)

    days: int
    risk_free_rate: float
    cumulative_return: float
    annual_return: float | None
    annual_volatility: float | None
    sharpe: float | None
    sortino: float | None
    max_drawdown: float
    max_drawdown_peak: dt.date | None
    max_drawdown_trough: dt.date | None
    calmar: float | None
    win_rate: float | None
    profit_loss_ratio: float | None
    benchmark_return: float | None = None
    excess_return: float | None = None
    active_return: float | None = None
    tracking_error: float | None = None
    information_ratio: float | None = None
    alpha: float | None = None
    beta: float | None = None


def performance(
    returns: pd.Series,
    benchmark: pd.Series | None = None,
    risk_free: float = DEFAULT_RISK_FREE,
) -> Performance:
    """Every metric of a daily-return series (indexed by date), optionally against a
    benchmark's daily returns over the same dates."""
    r = _clean(returns)
    if r.empty:
        raise ValueError("no daily returns: a model needs at least one stored day")
    daily_rf = daily_rate(risk_free)
    down = drawdown(r)
    figures = {
        "days": len(r),
        "risk_free_rate": float(risk_free),
        "cumulative_return": float(ep.cum_returns_final(r)),
        "annual_return": _finite(ep.annual_return(r, annualization=PERIODS_PER_YEAR)),
        "annual_volatility": _finite(ep.annual_volatility(r, annualization=PERIODS_PER_YEAR)),
        "sharpe": _finite(ep.sharpe_ratio(r, risk_free=daily_rf, annualization=PERIODS_PER_YEAR)),
        "sortino": _finite(
            ep.sortino_ratio(r, required_return=daily_rf, annualization=PERIODS_PER_YEAR)
        ),
        "max_drawdown": down.max_drawdown,
        "max_drawdown_peak": down.peak_date,
        "max_drawdown_trough": down.trough_date,
        "calmar": _finite(ep.calmar_ratio(r, annualization=PERIODS_PER_YEAR)),
        "win_rate": win_rate(r),
        "profit_loss_ratio": profit_loss_ratio(r),
    }
    if benchmark is not None:
        figures |= against_benchmark(r, _clean(benchmark), daily_rf)
    if len(r) < MIN_DAYS_TO_ANNUALIZE:
        figures |= dict.fromkeys(ANNUALIZED_RETURNS)
    return Performance(**figures)


def equity(returns: pd.Series, starting_value: float = 1.0) -> pd.Series:
    """The value of `starting_value` invested at the start of the first day."""
    return ep.cum_returns(_clean(returns), starting_value=starting_value)


def running_peak(values: pd.Series, start: float | None = None) -> pd.Series:
    """The highest of `values` so far, and of `start` (the value before the first one: a
    model's initial cash, or its stored peak before a run) when given."""
    peak = values.cummax()
    return peak if start is None else peak.clip(lower=start)


def underwater(values: pd.Series, start: float | None = None) -> pd.Series:
    """Each day's fall from the running peak of `values` (from `start`, see running_peak),
    as a positive fraction: the one home of a drawdown (daily_portfolio, the model-day
    metadata, the drawdown plot and `max_drawdown` all come from it)."""
    return 1.0 - values / running_peak(values, start)


def drawdown(returns: pd.Series) -> Drawdown:
    """Maximum drawdown with its dates. The curve starts at 1 before the first day, so a
    fall from the starting capital has its peak on the first date (the day began there)."""
    r = _clean(returns)
    wealth = np.concatenate([[1.0], ep.cum_returns(r.to_numpy(), starting_value=1.0)])
    falls = underwater(pd.Series(wealth)).to_numpy()
    trough = int(np.argmax(falls))
    if falls[trough] <= 0:
        return Drawdown(max_drawdown=0.0, peak_date=None, trough_date=None)
    peak = int(np.argmax(wealth[: trough + 1]))
    dates = [_date(d) for d in r.index]
    return Drawdown(
        max_drawdown=float(-ep.max_drawdown(r)),
        peak_date=dates[max(peak - 1, 0)],
        trough_date=dates[trough - 1],
    )


def win_rate(returns: pd.Series) -> float | None:
    """Share of the days that moved which were gains (flat days, such as all-cash days,
    are not counted)."""
    moved = returns[returns != 0]
    return float((moved > 0).mean()) if len(moved) else None


def profit_loss_ratio(returns: pd.Series) -> float | None:
    """Mean gain of a winning day over the mean loss of a losing day."""
    wins, losses = returns[returns > 0], returns[returns < 0]
    if wins.empty or losses.empty:
        return None
    return float(wins.mean() / -losses.mean())


def against_benchmark(returns: pd.Series, benchmark: pd.Series, daily_rf: float) -> dict:
    """Alpha (annualized), beta, excess cumulative return, active return, tracking error
    and information ratio over the common dates."""
    common = returns.index.intersection(benchmark.index)
    if len(common) < 2:
        raise ValueError(
            f"the benchmark shares {len(common)} date(s) with the model's returns; "
            "give a benchmark over the model's dates"
        )
    r, b = returns.loc[common], benchmark.loc[common]
    alpha, beta = ep.alpha_beta_aligned(
        r.to_numpy(), b.to_numpy(), risk_free=daily_rf, annualization=PERIODS_PER_YEAR
    )
    bench_total = float(ep.cum_returns_final(b))
    active = r - b
    return {
        "benchmark_return": bench_total,
        "excess_return": float(ep.cum_returns_final(r)) - bench_total,
        "active_return": _finite(active.mean() * PERIODS_PER_YEAR),
        "tracking_error": _finite(ep.annual_volatility(active, annualization=PERIODS_PER_YEAR)),
        "information_ratio": _finite(
            ep.excess_sharpe(r.to_numpy(), b.to_numpy()) * math.sqrt(PERIODS_PER_YEAR)
        ),
        "alpha": _finite(alpha),
        "beta": _finite(beta),
    }


def _clean(returns: pd.Series) -> pd.Series:
    series = pd.Series(returns, dtype=float).dropna()
    series.index = pd.DatetimeIndex(series.index)
    return series.sort_index()


def _finite(value) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _date(value) -> dt.date:
    return pd.Timestamp(value).date()


# Figures that are fractions: shown as percentages to people (UI tables, the CLI's
# table), kept as fractions in the store, JSON and CSV.
PERCENT_COLUMNS = (
    "risk_free_rate", "cumulative_return", "total_return", "annual_return",
    "annualized_return", "annual_volatility", "max_drawdown", "win_rate",
    "benchmark_return", "excess_return", "active_return", "tracking_error", "alpha",
    "exposure", "daily_return", "drawdown",
)  # fmt: skip
# The leaderboard's names of ANNUALIZED_RETURNS figures (it says annualized_return).
_SHORT_RUN_COLUMNS = (*ANNUALIZED_RETURNS, "annualized_return")


def with_percentages(frame: pd.DataFrame, decimals: int = 2) -> pd.DataFrame:
    """A copy of `frame` whose PERCENT_COLUMNS read as '12.34%' (blank when undefined),
    and whose ANNUALIZED_RETURNS of a run under a year (a `days` or `trading_days` column
    below 252) read SHORT_RUN."""
    shown = frame.copy()
    for column in shown.columns.intersection(PERCENT_COLUMNS):
        shown[column] = [
            "" if value is None or pd.isna(value) else f"{value:.{decimals}%}"
            for value in shown[column]
        ]
    days = next((shown[c] for c in ("days", "trading_days") if c in shown.columns), None)
    if days is not None:
        short = days.astype(float) < MIN_DAYS_TO_ANNUALIZE
        for column in shown.columns.intersection(_SHORT_RUN_COLUMNS):
            shown[column] = shown[column].astype(object).where(~short, SHORT_RUN)
    return shown


STUDY_FIGURES = (
    "cumulative_return", "annual_return", "annual_volatility", "sharpe", "sortino",
    "max_drawdown", "calmar", "win_rate",
)  # fmt: skip


def study_figures(returns: pd.DataFrame, risk_free: float = DEFAULT_RISK_FREE) -> pd.DataFrame:
    """`performance`'s STUDY_FIGURES of many models at once, one row per column of
    `returns` (daily returns over the same dates, no gaps): the same empyrical calls on
    a 2-D array, column by column in memory (Fortran order), so each column is reduced
    as `performance` reduces its series (trading_assets_tests/test_study_fast_path.py
    compares them)."""
    r = np.asfortranarray(returns.to_numpy(dtype=float))
    if not len(r):
        raise ValueError("no daily returns: a model needs at least one stored day")
    daily_rf = daily_rate(risk_free)
    a = PERIODS_PER_YEAR
    mdd = ep.max_drawdown(r)
    annual = ep.annual_return(r, annualization=a)
    with np.errstate(divide="ignore", invalid="ignore"):
        calmar = np.where(mdd < 0, annual / np.abs(mdd), np.nan)  # ep.calmar_ratio
    moved = (r != 0).sum(axis=0)
    figures = {
        "cumulative_return": ep.cum_returns_final(r),
        "annual_return": annual,
        "annual_volatility": ep.annual_volatility(r, annualization=a),
        "sharpe": ep.sharpe_ratio(r, risk_free=daily_rf, annualization=a),
        "sortino": ep.sortino_ratio(r, required_return=daily_rf, annualization=a),
        "max_drawdown": np.where(mdd < 0, -mdd, 0.0),  # drawdown(): 0.0 without a fall
        "calmar": calmar,
        "win_rate": np.where(moved > 0, (r > 0).sum(axis=0) / np.maximum(moved, 1), np.nan),
    }
    values = {k: np.asarray(v, dtype=float) for k, v in figures.items()}
    frame = pd.DataFrame(  # an undefined figure is None, as _finite makes it
        {
            k: [float(x) if math.isfinite(x) else None for x in v.tolist()]
            for k, v in values.items()
        },
        dtype=object,
    )
    if len(r) < MIN_DAYS_TO_ANNUALIZE:
        frame[[c for c in ANNUALIZED_RETURNS if c in frame]] = None
    frame.index = returns.columns
    return frame
