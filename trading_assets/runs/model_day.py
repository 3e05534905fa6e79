"""A model_day run's range: every model's trading dates in order, failures gathered.

What the `model_day` asset does, without Dagster: drop exchange holidays, run each
model (a model whose chain cannot start is a failure; the others go on), check legacy
parity where the flags ask for it, and say what failed.

What a run says goes to the Dagster instance (log lines, a failed day's error in the
step's Failure, materialization metadata), which the store's scrub does not cover: the
outcome remembers the API key of every endpoint its models used, and every text it says
or hands over passes the same scrub (`RangeOutcome.scrub`, `llm/scrub.py`).
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pandas as pd

from trading_assets.analytics.metrics import underwater
from trading_assets.config import ModelSpec
from trading_assets.engine.run import ModelRun
from trading_assets.errors import TradingAssetsError
from trading_assets.llm.endpoint import LLMEndpoint
from trading_assets.llm.scrub import scrub_all
from trading_assets.market.calendar import is_trading_day
from trading_assets.portfolio.orders import OrderResult
from trading_assets.runs.model import load_model, no_llm, run_loaded
from trading_assets.store.models import ModelDisabled
from trading_assets.store.results import ResultStore
from trading_assets.store.runs import RunInputs
from trading_assets.vocab import SYSTEM_CLOCK

T = TypeVar("T")


@dataclass
class RangeOutcome:
    runs: list[ModelRun] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # one line per failed model
    closed_days: int = 0  # weekday partitions on which the exchange was closed
    ranges: dict[str, list[dt.date]] = field(default_factory=dict)  # model -> trading dates
    # the API keys of the endpoints the models used: never shown, only scrubbed out
    secrets: set[str] = field(default_factory=set, repr=False)

    def scrub(self, value: T) -> T:
        """`value` (a text, or metadata holding texts) without the run's API keys in any
        form, for the Dagster instance: the one way a run's text leaves this module."""
        # without an LLM endpoint no provider text is in it: nothing to scrub (and big
        # backfills of quant models pay nothing)
        return scrub_all(value, sorted(self.secrets)) if self.secrets else value

    @property
    def parity(self) -> dict[str, list]:
        """Parity outcomes of the models that have a legacy record."""
        return {r.model: list(r.parity) for r in self.runs if r.parity is not None}


def run_range(
    store: ResultStore,
    dates_by_model: Mapping[str, Sequence[dt.date]],
    *,
    run_id: str | None = None,
    services: Mapping[str, Any] | None = None,
    endpoint_for: Callable[[ModelSpec], LLMEndpoint | None] = no_llm,
    parity: bool = False,
    after_write: Callable[[ModelSpec, ModelRun], None] | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> RangeOutcome:
    """Run every model on its dates (sorted); the price history is loaded once per source.

    Models without an LLM endpoint run one after the other, as they load. Models with one
    spend their time waiting for the endpoint, not computing: they are loaded in turn,
    then simulated concurrently in threads, at most `max_concurrency` models per base
    URL at once (the lowest its models ask for), each model's dates in order. Their
    writes take the store lock in turn, one transaction per model as ever.
    """
    outcome, histories = RangeOutcome(), {}
    run = functools.partial(
        run_loaded, store, run_id=run_id, services=services, after_write=after_write
    )
    waiting: list[tuple[str, list[dt.date], RunInputs, dt.datetime]] = []

    def endpoint(spec: ModelSpec) -> LLMEndpoint | None:  # its key is scrubbed out of all
        found = endpoint_for(spec)
        if found is not None and found.secret():
            outcome.secrets.add(found.secret())
        return found

    def say(message: str) -> None:
        log(outcome.scrub(message))

    def failed(line: str) -> None:
        outcome.failures.append(outcome.scrub(line))

    for model, keyed_dates in dates_by_model.items():
        dates = [d for d in keyed_dates if is_trading_day(d)]
        outcome.closed_days += len(keyed_dates) - len(dates)
        if not dates:  # only exchange holidays in this range: nothing trades
            continue
        started = SYSTEM_CLOCK.now()
        try:
            inputs = load_model(
                store,
                model,
                dates,
                histories=histories,
                endpoint_for=endpoint,
                parity=parity,
            )
        except ModelDisabled:  # `trading-assets models disable`: left out, not a failure
            say(f"{model}: disabled, skipped")
            continue
        except TradingAssetsError as exc:  # this model's chain cannot start; others go on
            failed(f"{model}: {type(exc).__name__}: {exc}")
            continue
        if inputs.endpoint is not None:
            waiting.append((model, dates, inputs, started))
        else:
            _finish(
                outcome,
                model,
                dates,
                say,
                functools.partial(run, model, dates, inputs, started=started),
            )
    if not waiting:
        return outcome
    wanted: dict[str, int] = {}  # per base URL: the lowest limit its models ask for
    for _, _, inputs, _ in waiting:
        url, limit = inputs.endpoint.base_url, inputs.endpoint.max_concurrency
        wanted[url] = min(limit, wanted.get(url, limit))
    limits = {url: threading.BoundedSemaphore(n) for url, n in wanted.items()}

    def limited(model: str, dates: list[dt.date], inputs: RunInputs, started) -> ModelRun:
        with limits[inputs.endpoint.base_url]:
            return run(model, dates, inputs, started=started)

    with ThreadPoolExecutor(max_workers=len(waiting), thread_name_prefix="llm-model") as pool:
        futures = [(m, d, pool.submit(limited, m, d, i, s)) for m, d, i, s in waiting]
        for model, dates, future in futures:  # reported in the order asked
            _finish(outcome, model, dates, say, future.result)
    return outcome


def _finish(
    outcome: RangeOutcome,
    model: str,
    dates: list[dt.date],
    log: Callable[[str], None],
    result: Callable[[], ModelRun],
) -> None:
    try:
        run = result()
    except TradingAssetsError as exc:  # e.g. its write failed; the others go on
        outcome.failures.append(outcome.scrub(f"{model}: {type(exc).__name__}: {exc}"))
        return
    outcome.runs.append(run)
    outcome.ranges[model] = dates
    log(f"{model}: {len(run.completed_dates)}/{len(dates)} days from {dates[0]} to {dates[-1]}")
    if run.failure is not None:
        outcome.failures.append(
            outcome.scrub(f"{model}: {run.failure.date} failed: {run.failure.error}")
        )


def day_figures(run: ModelRun) -> dict[dt.date, dict[str, Any]]:
    """Each stored day's own figures, compact enough for one materialization apiece:
    status, cash, value, daily return and drawdown (in %), holdings, orders and the
    day's decision per symbol. Drawdown is analytics/metrics.py's `underwater`, from the
    running peak of the initial cash and the stored end values, as in daily_portfolio
    (the stored peak before the run comes with the start state)."""
    done = list(itertools.takewhile(lambda day: not day.failed, run.results))
    falls = underwater(pd.Series([day.value for day in done], dtype=float), run.start.peak)
    out = {}
    for day, fall in zip(done, falls, strict=True):
        filled = [o for o in day.orders if o.status == "filled"]
        rejected = [o for o in day.orders if o.status == "rejected"]
        out[day.date] = {
            "date": day.date.isoformat(),
            "status": str(day.status),
            "cash": round(day.state.cash, 2),
            "portfolio_value": round(day.value, 2),
            "daily_return_pct": round(100 * day.daily_return, 4),
            "drawdown_pct": round(100 * fall, 4),
            "orders_filled": len(filled),
            "orders_rejected": len(rejected),
            "orders": "; ".join(_order_text(o) for o in day.orders) or "none",
            "holdings": ", ".join(f"{s} {q}" for s, q in sorted(day.state.positions.items()))
            or "all cash",
            "decision": ", ".join(
                f"{s.symbol} {s.merged.rating} ({s.merged.confidence:.2f})" for s in day.signals
            )
            or "none",
        }
    return out


def _order_text(result: OrderResult) -> str:
    order = result.order
    text = f"{order.side} {order.quantity} {order.symbol} {result.status}"
    if result.status == "filled" and result.price is not None:
        return f"{text} @ {result.price:,.2f}"
    return f"{text} ({result.reason})" if result.reason else text
