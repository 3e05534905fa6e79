"""Run a model over a range of days against the store: load state, simulate, write.

This is what one Dagster run does for each model in its partition range, and what the
benchmarks time; it has no Dagster in it.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from trading_assets.agents.base import AgentContext
from trading_assets.agents.registry import create_agent
from trading_assets.config import ModelSpec
from trading_assets.engine.simulate import DayResult, StartState, simulate
from trading_assets.market.calendar import all_trading_days
from trading_assets.market.history import PriceHistory
from trading_assets.market.registry import corporate_actions_for, source_id
from trading_assets.portfolio.fees import fees_from_config
from trading_assets.store.llm_cache import save_llm_cache
from trading_assets.store.results import ResultStore
from trading_assets.store.rows import day_rows


@dataclass
class ModelRun:
    model: str
    start: StartState  # the state before the first day (for replays of the day's actions)
    results: list[DayResult] = field(default_factory=list)

    @property
    def failure(self) -> DayResult | None:
        return next((r for r in self.results if r.failed), None)

    @property
    def completed_dates(self) -> list[dt.date]:
        return [r.date for r in self.results if not r.failed]


def previous_trading_day(day: dt.date) -> dt.date | None:
    days = all_trading_days()
    i = bisect.bisect_left(days, day)
    return days[i - 1] if i > 0 else None


def model_dates(
    store: ResultStore, model: str, start: dt.date | None = None, end: dt.date | None = None
) -> list[dt.date]:
    """Trading days (XNYS) in [start, end] on which the model's market data has bars."""
    spec = store.model_spec(model)
    with store.connect() as con:
        days = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT date FROM prices WHERE source = ? ORDER BY date",
                [source_id(spec.market_data)],
            ).fetchall()
        ]
    sessions = set(all_trading_days())
    return [
        d
        for d in days
        if d in sessions and (start is None or d >= start) and (end is None or d <= end)
    ]


def run_model(
    store: ResultStore,
    model: str,
    dates: Sequence[dt.date],
    *,
    run_id: str | None = None,
    services: Mapping[str, Any] | None = None,
    histories: dict[str, PriceHistory] | None = None,
    after_write: Callable[[ModelSpec, ModelRun], None] | None = None,
) -> ModelRun:
    """Simulate `model` on `dates` (sorted) from the stored state before them; store it all."""
    if not dates:
        raise ValueError("run_model needs at least one date")
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    spec = store.model_spec(model)
    histories = {} if histories is None else histories
    key = source_id(spec.market_data)
    if key not in histories:
        histories[key] = store.load_prices(key)
    if spec.corporate_actions == "apply" and histories[key].actions is None:
        # the stored bars, with the source's corporate actions (read once per run)
        actions = corporate_actions_for(spec.market_data)
        histories[key] = histories[key].with_actions(actions)
    history = histories[key].select(spec.universe) if spec.universe else histories[key]
    start = store.start_state(spec, dates[0], previous_trading_day(dates[0]))
    context = AgentContext(signature=model, universe=spec.universe, services=dict(services or {}))
    agent = create_agent(spec.agent, spec.params, context)
    fees = fees_from_config(spec.fees)
    days = simulate(agent, history, dates, start, fees, spec.corporate_actions)
    run = ModelRun(model, start, list(days))
    tables = day_rows(
        model,
        run.results,
        initial_cash=spec.initial_cash,
        run_id=run_id,
        config_hash=spec.config_hash,
        started_at=started,
    )
    lane = context.services.get("llm_lane")
    also = None
    if lane is not None:  # new LLM answers land in the same transaction as the results

        def also(con) -> None:
            save_llm_cache(con, lane.new_entries())

    store.write_results(model, dates, tables, also=also)
    if after_write is not None:
        after_write(spec, run)
    return run
