"""Run a study: every trial through the same engine and rules as `model_day` (point in
time, corporate actions, fees), in memory, then its figures, the overfitting guards and
the walk-forward over all trials, stored in one transaction.

A trial is a full ModelSpec from a fresh start with `initial_cash` over every trading
day of its market data; promoted (`store/studies.py: promote_trial`), it is registered
as that same spec, so `model_day` gives the same rows.

Trials of a built-in quant agent with a fast path (engine/vectorized.py: sma_crossover)
run many at once, FAST_CHUNK trials per array, with the same floats as the per-day
engine; every other trial (LLM agents, plugins) goes through the per-day engine.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from trading_assets.agents.base import AgentContext
from trading_assets.agents.registry import create_agent
from trading_assets.analytics.metrics import (
    DEFAULT_RISK_FREE,
    STUDY_FIGURES,
    daily_rate,
    performance,
    study_figures,
)
from trading_assets.analytics.overfitting import PBO, deflated_sharpe, pbo_cscv
from trading_assets.analytics.walk_forward import (
    WalkForward,
    make_folds,
    sharpe_score,
    walk_forward,
)
from trading_assets.config import ModelSpec, StudySpec, source_id
from trading_assets.engine.fees import fees_from_config
from trading_assets.engine.simulate import StartState, simulate
from trading_assets.engine.vectorized import has_fast_path, simulate_many
from trading_assets.errors import TradingAssetsError
from trading_assets.market.calendar import is_trading_day
from trading_assets.market.history import PriceHistory
from trading_assets.portfolio.step import PortfolioState
from trading_assets.store.results import ResultStore
from trading_assets.store.studies import StudyRows, write_study
from trading_assets.vocab import DayStatus

FAST_CHUNK = 250  # trials per array on the fast path: (days x trials) floats stay small


# the annual risk-free rate every Sharpe ratio of a study is over: its trials' figures
# and its guards alike (shown as `risk_free_rate` in the materialization)
STUDY_RISK_FREE = DEFAULT_RISK_FREE


@dataclass(frozen=True)
class Trial:
    spec: ModelSpec
    returns: pd.Series  # daily returns by date, the days it completed
    values: pd.Series  # end-of-day portfolio value by date
    filled_orders: int
    error: str | None  # the failed day's reason; its later days are not simulated


@dataclass(frozen=True)
class StudyResult:
    spec: StudySpec
    trials: tuple[Trial, ...]
    figures: pd.DataFrame  # one row per trial (study_trials' columns)
    deflated_sharpe: float | None
    pbo: PBO | None
    walk: WalkForward | None

    @property
    def best(self) -> str | None:
        ok = self.figures.dropna(subset=["sharpe"])
        return None if ok.empty else str(ok.loc[ok["sharpe"].idxmax(), "trial"])


def run_trial(
    spec: ModelSpec, history: PriceHistory, dates: list[dt.date], services: Mapping[str, Any]
) -> Trial:
    context = AgentContext(signature=spec.signature, universe=spec.universe, services=services)
    start = StartState(PortfolioState(cash=spec.initial_cash), spec.initial_cash)
    agent = create_agent(spec.agent, spec.params, context)
    days = list(
        simulate(agent, history, dates, start, fees_from_config(spec.fees), spec.corporate_actions)
    )
    done = [d for d in days if not d.failed]
    index = pd.Index([d.date for d in done], name="date")
    failed = next((d for d in days if d.failed), None)
    return Trial(
        spec,
        pd.Series([d.daily_return for d in done], index=index, dtype=float),
        pd.Series([d.value for d in done], index=index, dtype=float),
        sum(1 for d in done for o in d.orders if o.status == "filled"),
        None if failed is None else str(failed.error),
    )


def run_trials(
    specs: Sequence[ModelSpec],
    history: PriceHistory,
    dates: list[dt.date],
    services: Mapping[str, Any],
) -> tuple[Trial, ...]:
    """Every spec's Trial, in order: the fast path for the agents that have one (in
    chunks of trials with the same fees and corporate actions), the per-day engine for
    the rest and for a fast trial the engine would fail on a day (it gives the reason)."""
    done: dict[int, Trial] = {}
    groups: dict[tuple[str, str, str], list[int]] = {}
    for i, spec in enumerate(specs):
        if has_fast_path(spec):
            key = (spec.agent, spec.fees.model_dump_json(), spec.corporate_actions)
            groups.setdefault(key, []).append(i)
    index = pd.Index(dates, name="date")
    for members in groups.values():
        first = specs[members[0]]
        fast = simulate_many(
            [specs[i] for i in members],
            history,
            dates,
            fees_from_config(first.fees),
            first.corporate_actions,
            chunk=FAST_CHUNK,
        )
        for i, f in zip(members, fast, strict=True):
            if not f.needs_engine:
                done[i] = Trial(
                    specs[i],
                    pd.Series(f.returns, index=index, copy=False),
                    pd.Series(f.values, index=index, copy=False),
                    f.filled_orders,
                    None,
                )
    return tuple(
        done[i] if i in done else run_trial(spec, history, dates, services)
        for i, spec in enumerate(specs)
    )


def run_study(
    store: ResultStore,
    study: StudySpec,
    services: Mapping[str, Any] | None = None,
    clock_now: dt.datetime | None = None,
) -> StudyResult:
    """Simulate every trial of `study` on its market data's trading days; store it all."""
    history, dates = study_days(store, study)
    trials = run_trials(study.trials, history, dates, services or {})
    result = _summarize(study, trials)
    write_study(store, _rows(result, dates), clock_now or dt.datetime.now(dt.UTC))
    return result


def study_days(store: ResultStore, study: StudySpec) -> tuple[PriceHistory, list[dt.date]]:
    """The study's market data and its trading days with bars within start..end."""
    first = study.trials[0]
    history = store.load_prices(source_id(first.market_data), first.universe)
    dates = [
        d
        for d in history.dates
        if is_trading_day(d)
        and (study.start is None or d >= study.start)
        and (study.end is None or d <= study.end)
    ]
    if not dates:
        raise TradingAssetsError(
            f"study {study.name}: no trading day with bars",
            where=source_id(first.market_data),
            fix="materialize market_prices for the study's market data first",
        )
    return history, dates


def run_chunk(
    store: ResultStore,
    study: StudySpec,
    indices: Sequence[int],
    services: Mapping[str, Any] | None = None,
) -> tuple[Trial, ...]:
    """Simulate some of the study's trials (by their place in `study.trials`): one chunk
    of a study spread over processes or hosts (defs/assets/study.py)."""
    history, dates = study_days(store, study)
    return run_trials([study.trials[i] for i in indices], history, dates, services or {})


def store_study(
    store: ResultStore,
    study: StudySpec,
    trials: Sequence[Trial],
    clock_now: dt.datetime | None = None,
) -> StudyResult:
    """The guards and walk-forward over every trial of `study`, stored with the trials, in
    one transaction (as run_study does): the collect step of a chunked study."""
    expected = [t.signature for t in study.trials]
    if [t.spec.signature for t in trials] != expected:
        raise TradingAssetsError(
            f"study {study.name}: the chunks hold {len(trials)} trials, its spec {len(expected)}",
            where=f"study {study.name}",
            fix="re-run the study's partition (its spec changed during the run?)",
        )
    _, dates = study_days(store, study)
    result = _summarize(study, tuple(trials))
    write_study(store, _rows(result, dates), clock_now or dt.datetime.now(dt.UTC))
    return result


def _summarize(study: StudySpec, trials: tuple[Trial, ...]) -> StudyResult:
    figures = _all_figures(trials, max((len(t.returns) for t in trials), default=0))
    complete = [t for t in trials if t.error is None and len(t.returns) > 1]
    matrix = pd.DataFrame({t.spec.signature: t.returns for t in complete})
    # the guards judge the same Sharpe ratios as the trials' figures: over the risk-free
    # rate (raw returns made a study whose every Sharpe is negative look skilled)
    rf = daily_rate(STUDY_RISK_FREE)
    excess = matrix - rf
    dsr = pbo = walk = None
    per_day = sharpe_score(excess)
    rated = per_day[np.isfinite(per_day)]  # a trial that never trades has no Sharpe ratio
    if len(rated) >= 2:
        best = excess[rated.idxmax()]
        dsr = deflated_sharpe(
            float(rated.max()),
            len(best),
            len(complete),  # every trial tried counts against the pick
            float(rated.var(ddof=1)),
            skew=float(stats.skew(best)),
            kurtosis=float(stats.kurtosis(best, fisher=False)),
        )
    if len(rated) >= 2 and len(matrix) >= study.pbo_blocks:
        # over the trials that have a Sharpe ratio: ones that never trade, always last,
        # would hold every pick above the median (6 idle of 12 trials: PBO 0)
        pbo = pbo_cscv(excess[rated.index].to_numpy(), study.pbo_blocks)
    if study.walk_forward is not None and complete:
        wf = study.walk_forward
        folds = make_folds(list(matrix.index), wf.in_sample, wf.out_of_sample, wf.mode)
        # picked on in-sample excess Sharpe; what the pick then returned is its own return
        walk = walk_forward(matrix, folds, score=lambda r: sharpe_score(r - rf))
    return StudyResult(study, trials, figures, dsr, pbo, walk)


def _all_figures(trials: tuple[Trial, ...], days: int) -> pd.DataFrame:
    """study_trials' rows: the figures of the trials that ran every day in one batch
    (analytics/metrics.py study_figures: the same floats as `performance`), the others
    one by one."""
    whole = [t for t in trials if t.error is None and len(t.returns) == days]
    batch = (
        study_figures(
            pd.DataFrame({i: t.returns.to_numpy() for i, t in enumerate(whole)}), STUDY_RISK_FREE
        )
        if whole
        else None
    )
    rows = {id(t): dict(batch.iloc[i]) for i, t in enumerate(whole)} if batch is not None else {}
    return pd.DataFrame([_figures(t, rows.get(id(t))) for t in trials])


def _figures(trial: Trial, figures: dict[str, Any] | None = None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "trial": trial.spec.signature,
        "params": json.dumps(dict(trial.spec.model_dump(mode="json")["params"]), sort_keys=True),
        "config_hash": trial.spec.config_hash,
        "status": DayStatus.FAILED if trial.error else DayStatus.COMPLETED,
        "error": trial.error,
        "final_value": float(trial.values.iloc[-1]) if len(trial.values) else None,
        "filled_orders": trial.filled_orders,
    }
    if figures is not None:
        row |= figures
    elif len(trial.returns):
        perf = performance(trial.returns, None, STUDY_RISK_FREE)
        row |= {k: getattr(perf, k) for k in STUDY_FIGURES}
    else:
        row |= dict.fromkeys(STUDY_FIGURES)
    return row


def _returns(trials: Sequence[Trial]) -> pd.DataFrame:
    """study_returns' rows in one frame (one bulk insert): numpy arrays, not Python
    objects per row, so 3 million rows stay about 100 MiB. The trial column repeats
    references to each signature (an object array): a fixed-width string array of 3
    million signatures would take about 500 MiB."""
    signatures = np.array([t.spec.signature for t in trials], dtype=object)
    return pd.DataFrame(
        {
            "trial": np.repeat(signatures, [len(t.returns) for t in trials]),
            "date": np.concatenate([_days(t.returns.index) for t in trials]),
            "daily_return": np.concatenate([t.returns.to_numpy() for t in trials]),
            "portfolio_value": np.concatenate([t.values.to_numpy() for t in trials]),
        }
    )


@functools.lru_cache(maxsize=4)
def _day_array(days: tuple[dt.date, ...]) -> np.ndarray:
    out = np.array(days, dtype="datetime64[D]")
    out.setflags(write=False)  # shared by every caller of the cache
    return out


def _days(index: pd.Index) -> np.ndarray:
    """A trial's dates as datetime64 (DuckDB reads 3 million date objects slowly),
    converted once for all the trials that ran the same days."""
    return _day_array(tuple(index))


def _rows(result: StudyResult, dates: list[dt.date]) -> StudyRows:
    returns = _returns(result.trials)
    folds = pd.DataFrame(
        [
            {
                "fold": i,
                "in_sample_start": f.fold.in_sample[0],
                "in_sample_end": f.fold.in_sample[1],
                "out_of_sample_start": f.fold.out_of_sample[0],
                "out_of_sample_end": f.fold.out_of_sample[1],
                "pick": f.pick,
                "in_sample_score": f.in_sample_score,
                "out_of_sample_return": f.out_of_sample_return,
            }
            for i, f in enumerate(result.walk.folds if result.walk else ())
        ]
    )
    stitched = result.walk.stitched if result.walk else None
    summary = {
        "study": result.spec.name,
        "spec": result.spec.model_dump_json(),
        "trials": len(result.trials),
        "dropped": result.spec.dropped,
        "first_date": dates[0],
        "last_date": dates[-1],
        "days": len(dates),
        "best_trial": result.best,
        "deflated_sharpe": result.deflated_sharpe,
        "pbo": result.pbo.probability if result.pbo else None,
        "pbo_splits": result.pbo.splits if result.pbo else None,
        "walk_forward_return": (
            float(np.prod(1.0 + stitched.to_numpy()) - 1.0) if stitched is not None else None
        ),
    }
    return StudyRows(summary, result.figures, returns, folds)
