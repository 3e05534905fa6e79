"""Run one model over a range of days against the store: load, simulate, write.

This is what one Dagster run does for each model in its partition range, and what the
benchmarks time; it has no Dagster in it. The store is opened twice per model: once to
load everything the run needs, once to write its results, new LLM answers and parity
outcomes in one transaction; `simulate` runs with no connection open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trading_assets.agents.base import AgentContext
from trading_assets.agents.registry import create_agent
from trading_assets.config import ModelSpec, source_id
from trading_assets.engine.fees import fees_from_config
from trading_assets.engine.run import ModelRun, previous_trading_day
from trading_assets.engine.simulate import failed_start, simulate
from trading_assets.errors import MarketDataError, TradingAssetsError
from trading_assets.legacy.parity import compare_days, legacy_days, record_outcomes
from trading_assets.llm.endpoint import LLMEndpoint
from trading_assets.llm.lane import LLMLane
from trading_assets.market.history import PriceHistory
from trading_assets.store.llm_cache import save_llm_cache
from trading_assets.store.results import ResultStore
from trading_assets.store.rows import run_rows
from trading_assets.store.runs import RunInputs, load_run
from trading_assets.vocab import SYSTEM_CLOCK, Clock


def no_llm(spec: ModelSpec) -> LLMEndpoint | None:
    return None


def run_model(
    store: ResultStore,
    model: str,
    dates: Sequence[dt.date],
    *,
    run_id: str | None = None,
    services: Mapping[str, Any] | None = None,
    histories: dict[str, PriceHistory] | None = None,
    after_write: Callable[[ModelSpec, ModelRun], None] | None = None,
    endpoint_for: Callable[[ModelSpec], LLMEndpoint | None] = no_llm,
    parity: bool = False,
    clock: Clock = SYSTEM_CLOCK,
) -> ModelRun:
    """Simulate `model` on `dates` (sorted) from the stored state before them; store it all.

    parity: compare the new days with the model's imported legacy record, if it has
    one, and record the outcomes with the results (ModelRun.parity).
    """
    if not dates:
        raise ValueError("run_model needs at least one date")
    started = clock.now()
    histories = {} if histories is None else histories
    inputs = load_run(
        store,
        model,
        dates[0],
        previous_trading_day(dates[0]),
        histories=histories,
        endpoint_for=endpoint_for,
        parity_dates=dates if parity else None,
        last=dates[-1],
    )
    run, lane = _simulate(model, dates, inputs, services)
    spec = inputs.spec
    tables = run_rows(spec, run.results, run_id=run_id, started_at=started, clock=clock)
    if inputs.legacy is not None:
        run.parity = tuple(
            compare_days(model, dates, legacy_days(model, *inputs.legacy), _by_date(tables))
        )

    def also(con) -> None:  # in the results' transaction: all of it is stored, or none
        if lane is not None:
            save_llm_cache(con, lane.new_entries())
        if run.parity is not None:
            record_outcomes(con, model, sorted(dates), list(run.parity), run_id, clock.now())

    store.write_results(model, dates, tables, also=also)
    if after_write is not None:
        after_write(spec, run)
    return run


def _simulate(
    model: str,
    dates: Sequence[dt.date],
    inputs: RunInputs,
    services: Mapping[str, Any] | None,
) -> tuple[ModelRun, LLMLane | None]:
    spec, services = inputs.spec, dict(services or {})
    lane = None
    if inputs.endpoint is not None:
        lane = services["llm_lane"] = LLMLane(inputs.endpoint, cache=inputs.llm_cache)
    context = AgentContext(signature=model, universe=spec.universe, services=services)
    try:
        try:
            if inputs.source_error is not None:
                raise MarketDataError(
                    f"market data no longer loads: {inputs.source_error}",
                    where=source_id(spec.market_data),
                    fix="restore the market data (then re-run from this day), or disable "
                    "the model: trading-assets models disable " + model,
                )
            agent = create_agent(spec.agent, spec.params, context)
        except TradingAssetsError as exc:
            # its market data or agent no longer loads: this model's own failed day, with
            # the reason in its row; the run's other models go on
            results = [failed_start(dates[0], inputs.start, exc)]
        else:
            fees = fees_from_config(spec.fees)
            results = list(
                simulate(agent, inputs.history, dates, inputs.start, fees, spec.corporate_actions)
            )
    finally:
        if lane is not None:
            lane.close()
    run = ModelRun(model, inputs.start, results, spec=spec)
    if lane is not None:
        run.llm_note = f"{lane.stats}"
    return run, lane


def _by_date(tables: Mapping[str, list[dict]]) -> dict[str, dict[dt.date, list[dict]]]:
    """The run's rows per table and date, in their order (as parity reads stored rows)."""
    out: dict[str, dict[dt.date, list[dict]]] = {table: {} for table in tables}
    for table, rows in tables.items():
        for row in rows:
            out[table].setdefault(row["date"], []).append(row)
    return out
