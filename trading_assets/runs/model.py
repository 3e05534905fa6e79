"""Run one model over a range of days against the store: load, simulate, write.

This is what one Dagster run does for each model in its partition range, and what the
benchmarks time; it has no Dagster in it. The store is opened twice per model: once to
load everything the run needs, once to write its results, new LLM answers and parity
outcomes in one transaction (which scrubs the LLM's texts of the API key); `simulate`
runs with no connection open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from trading_assets.agents.base import AgentContext
from trading_assets.agents.llm_trader import SESSION_SERVICE, LLMTrader
from trading_assets.agents.registry import create_agent
from trading_assets.config import ModelSpec, source_id
from trading_assets.engine.fees import fees_from_config
from trading_assets.engine.run import ModelRun, previous_trading_day
from trading_assets.engine.simulate import failed_start, simulate
from trading_assets.errors import MarketDataError, TradingAssetsError
from trading_assets.legacy.parity import compare_days, legacy_days, record_outcomes
from trading_assets.llm.endpoint import LLMEndpoint
from trading_assets.llm.lane import LLMLane
from trading_assets.llm.scrub import scrub_all
from trading_assets.llm.trader import TraderSession
from trading_assets.market.history import PriceHistory
from trading_assets.store.results import ResultStore
from trading_assets.store.rows import run_rows
from trading_assets.store.runs import RunInputs, load_run
from trading_assets.store.transcripts import trader_note, transcript_rows
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
    inputs = load_model(
        store,
        model,
        dates,
        histories={} if histories is None else histories,
        endpoint_for=endpoint_for,
        parity=parity,
    )
    return run_loaded(
        store,
        model,
        dates,
        inputs,
        started=started,
        run_id=run_id,
        services=services,
        after_write=after_write,
        clock=clock,
    )


def load_model(
    store: ResultStore,
    model: str,
    dates: Sequence[dt.date],
    *,
    histories: dict[str, PriceHistory],
    endpoint_for: Callable[[ModelSpec], LLMEndpoint | None] = no_llm,
    parity: bool = False,
) -> RunInputs:
    """What `run_model` reads first (one store open): see store/runs.py: load_run."""
    return load_run(
        store,
        model,
        dates[0],
        previous_trading_day(dates[0]),
        histories=histories,
        endpoint_for=endpoint_for,
        parity_dates=dates if parity else None,
        last=dates[-1],
    )


def run_loaded(
    store: ResultStore,
    model: str,
    dates: Sequence[dt.date],
    inputs: RunInputs,
    *,
    started: dt.datetime,
    run_id: str | None = None,
    services: Mapping[str, Any] | None = None,
    after_write: Callable[[ModelSpec, ModelRun], None] | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> ModelRun:
    """The rest of `run_model` once its inputs are loaded: simulate with no connection
    open, then write everything in one transaction (safe to run in a thread: the writes
    of concurrent models wait for the store lock in turn)."""
    run, lane, trader = _simulate(model, dates, inputs, services)
    spec = inputs.spec
    tables = run_rows(spec, run.results, run_id=run_id, started_at=started, clock=clock)
    if trader is not None:  # the conversations, in the same transaction as the days
        tables |= transcript_rows(model, trader.days, {r.date for r in run.results})
    # With an LLM lane the rows hold provider text: the store scrubs it of the key.
    secrets = [inputs.endpoint.secret()] if inputs.endpoint is not None else None
    if inputs.legacy is not None:
        # parity quotes the new rows (a failed day's error) into its outcomes, which go
        # to the store and the instance: it compares the rows as they will be stored
        stored = scrub_all(tables, secrets) if secrets is not None else tables
        run.parity = tuple(
            compare_days(model, dates, legacy_days(model, *inputs.legacy), _by_date(stored))
        )

    def also(con) -> None:  # in the results' transaction: all of it is stored, or none
        if run.parity is not None:
            record_outcomes(con, model, sorted(dates), list(run.parity), run_id, clock.now())

    store.write_results(
        model,
        dates,
        tables,
        also=also,
        llm_answers={
            k: v for c in (lane, trader) if c is not None for k, v in c.new_entries().items()
        },
        secrets=secrets,
    )
    if after_write is not None:
        after_write(spec, run)
    return run


def _simulate(
    model: str,
    dates: Sequence[dt.date],
    inputs: RunInputs,
    services: Mapping[str, Any] | None,
) -> tuple[ModelRun, LLMLane | None, TraderSession | None]:
    spec, services = inputs.spec, dict(services or {})
    lane = trader = None
    if inputs.endpoint is not None and spec.agent == LLMTrader.name:
        trader = services[SESSION_SERVICE] = TraderSession(inputs.endpoint, cache=inputs.llm_cache)
    elif inputs.endpoint is not None:
        lane = services["llm_lane"] = LLMLane(inputs.endpoint, cache=inputs.llm_cache)
    fees = fees_from_config(spec.fees)
    context = AgentContext(signature=model, universe=spec.universe, services=services, fees=fees)
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
            results = list(
                simulate(agent, inputs.history, dates, inputs.start, fees, spec.corporate_actions)
            )
    finally:
        for client in (lane, trader):
            if client is not None:
                client.close()
    run = ModelRun(model, inputs.start, results)
    if lane is not None:
        run.llm_note = f"{lane.stats}"
    if trader is not None:
        run.llm_note = trader_note(trader.days)
    return run, lane, trader


def _by_date(tables: Mapping[str, list[dict]]) -> dict[str, dict[dt.date, list[dict]]]:
    """The run's rows per table and date, in their order (as parity reads stored rows)."""
    out: dict[str, dict[dt.date, list[dict]]] = {table: {} for table in tables}
    for table, rows in tables.items():
        for row in rows:
            out[table].setdefault(row["date"], []).append(row)
    return out
