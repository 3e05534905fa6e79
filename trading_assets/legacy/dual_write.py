"""Dual write: after the new store has a model's run, project it onto the legacy layout.

The new store is authoritative; this projection keeps legacy readers working. It may
raise (I/O, an unsafe signature, a projection that disagrees with the engine): the
caller (the migration resource) logs it and moves on.

Lines follow the legacy engine: one action line per order, in order, with the state
AFTER that order; amount-0 orders (no-ops) are written, as the legacy files hold them;
rejected orders are not, because the legacy engine refused them without writing a line
(its buy/sell tools returned an error instead). A day without a written line gets one
no_trade line. The per-order states are rebuilt by refilling the day's orders from the
previous day's state with the engine's own arithmetic, and must end in the engine's
state exactly. A failed day writes no lines (the legacy engine wrote none) but does
write its status file, so a legacy reader sees the failure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

from trading_assets.config import ModelSpec
from trading_assets.contract.v1alpha1 import status_from_row
from trading_assets.engine.run import ModelRun
from trading_assets.engine.simulate import DayResult
from trading_assets.errors import TradingAssetsError
from trading_assets.legacy.flags import MigrationFlags
from trading_assets.legacy.layout import check_signature, resolve_root
from trading_assets.legacy.writer import append_model_day, format_position_line, write_status
from trading_assets.portfolio.step import PortfolioState, apply_fill
from trading_assets.store.rows import run_rows
from trading_assets.vocab import SYSTEM_CLOCK, Clock


def dual_write_model_run(
    flags: MigrationFlags,
    spec: ModelSpec,
    run: ModelRun,
    *,
    run_id: str | None = None,
    clock: Clock = SYSTEM_CLOCK,
) -> Path | None:
    """Write `run` under flags.write_root; None when dual write is off for this model."""
    if not flags.dual_write or flags.write_root is None:
        return None
    check_signature(spec.signature)  # `../x` and friends are refused before any I/O
    if not flags.in_rollout(spec.signature):
        return None
    layout = resolve_root(flags.write_root, create=True)
    path = layout.position_file(spec.signature)
    order = list(spec.universe) or _symbols(run)
    rows = run_rows(spec, run.results, run_id=run_id, started_at=clock.now(), clock=clock)
    statuses = {row["date"]: status_from_row(row) for row in rows["model_days"]}
    done = [r for r in run.results if not r.failed]
    if done and not path.exists():  # the registration line: all zeros, the initial cash
        day = _previous_weekday(done[0].date)
        line = format_position_line(day, 0, None, None, None, {}, spec.initial_cash, order)
        append_model_day(layout, spec.signature, [line])
    state = run.start.state
    for result in run.results:
        if not result.failed:
            append_model_day(layout, spec.signature, day_lines(result, state, order))
            state = result.state
        payload = statuses[result.date].model_dump(mode="json")
        write_status(layout, spec.signature, result.date, payload)
    return path


def day_lines(result: DayResult, before: PortfolioState, order: Sequence[str]) -> list[str]:
    """The legacy lines of one simulated day, starting from the state `before` it."""
    cash, positions = before.cash, dict(before.positions)
    lines: list[str] = []  # ids count up within the day; append_model_day renumbers them
    for o in result.orders:
        if o.status == "rejected":
            continue
        symbol, quantity = o.order.symbol, o.order.quantity
        cash = apply_fill(o, cash, positions)  # the engine's arithmetic, so floats match
        lines.append(
            format_position_line(
                result.date, len(lines), o.order.side, symbol, quantity, positions, cash, order
            )
        )
    if not lines:
        lines.append(
            format_position_line(result.date, 0, "no_trade", "", 0, positions, cash, order)
        )
    if cash != result.state.cash or positions != dict(result.state.positions):
        raise TradingAssetsError(
            f"refilling the orders of {result.date} gives cash {cash!r} and {positions}, "
            f"the engine ended with {result.state.cash!r} and {dict(result.state.positions)}",
            where=f"dual write {result.date}",
            fix="pass the run's start state (ModelRun.start) and its results unchanged",
        )
    return lines


def _symbols(run: ModelRun) -> list[str]:
    """A model without a universe: every symbol it held or traded, sorted."""
    seen = set(run.start.state.positions)
    for r in run.results:
        seen |= set(r.state.positions) | {o.order.symbol for o in r.orders}
    return sorted(seen)


def _previous_weekday(day: dt.date) -> dt.date:
    day -= dt.timedelta(days=1)
    while day.weekday() >= 5:
        day -= dt.timedelta(days=1)
    return day
