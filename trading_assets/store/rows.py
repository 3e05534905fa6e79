"""Turn engine results into store rows (plain dicts), one list per table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from trading_assets.config import ModelSpec
from trading_assets.contract.v1alpha1 import decision_row
from trading_assets.engine.simulate import DayResult
from trading_assets.vocab import CONTRACT_VERSION, SYSTEM_CLOCK, Clock


def day_rows(
    model: str,
    results: Iterable[DayResult],
    *,
    initial_cash: float,
    run_id: str | None,
    config_hash: str,
    started_at: dt.datetime,
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, list[dict]]:
    """The four result tables' rows of a model's simulated days, and the effects of the
    corporate actions applied on them (`model_day_actions`)."""
    tables: dict[str, list[dict]] = {
        "model_days": [],
        "orders": [],
        "holdings": [],
        "signals": [],
        "model_day_actions": [],
    }
    now = clock.now()
    for r in results:
        run = {"run_id": run_id, "config_hash": config_hash, "started_at": started_at}
        tables["model_days"].append(
            _model_day_row(model, r, initial_cash) | run | {"completed_at": now}
        )
        tables["orders"] += _order_rows(model, r)
        tables["model_day_actions"] += _action_rows(model, r)
        tables["holdings"] += [] if r.failed else _holding_rows(model, r)
        for s in r.signals:
            tables["signals"].append(decision_row(model, r.date, s.symbol, s.merged, s.reasoning))
    return tables


def _model_day_row(model: str, r: DayResult, initial_cash: float) -> dict:
    err = r.error
    return {
        "model": model,
        "date": r.date,
        "status": str(r.status),
        "stage": "decide" if err else "write",
        "progress": 0 if err else 100,
        "cash": r.state.cash,
        "portfolio_value": None if err else r.value,
        "positions_value": None if err else r.positions_value,
        "daily_return": None if err else r.daily_return,
        "cumulative_return": None if err else r.value / initial_cash - 1.0,
        "n_orders": len(r.orders),
        "n_filled": sum(o.status == "filled" for o in r.orders),
        "n_rejected": sum(o.status == "rejected" for o in r.orders),
        "degraded": r.degraded,
        "reason_codes": list(r.reason_codes),
        "data_quality_state": r.data_quality_state,
        "error_code": "analysis_failed" if err else None,
        "error_message": str(err) if err else None,
        "error_retryable": True if err else None,
        "contract_version": CONTRACT_VERSION,
    }


def _order_rows(model: str, r: DayResult) -> list[dict]:
    return [
        {
            "model": model,
            "date": r.date,
            "seq": seq,
            "symbol": o.order.symbol,
            "side": o.order.side,
            "quantity": o.order.quantity,
            "status": o.status,
            "price": o.price,
            "commission": o.commission,
            "reason": o.reason,
            "contract_version": CONTRACT_VERSION,
        }
        for seq, o in enumerate(r.orders)
    ]


def _action_rows(model: str, r: DayResult) -> list[dict]:
    """What each applied split or dividend did to a holding, before the day's open."""
    return [
        {
            "model": model,
            "date": r.date,
            "symbol": e.action.symbol,
            "ex_date": e.action.ex_date,
            "kind": e.kind,
            "split_ratio": e.action.split_ratio,
            "dividend": e.action.dividend,
            "shares_before": e.shares_before,
            "shares_after": e.shares_after,
            "dividend_cash": e.dividend_cash,
            "fraction_cash": e.fraction_cash,
            "fraction_price": e.fraction_price,
            "cash_change": e.cash_change,
            "contract_version": CONTRACT_VERSION,
        }
        for e in r.actions
    ]


def _holding_rows(model: str, r: DayResult) -> list[dict]:
    return [
        {
            "model": model,
            "date": r.date,
            "symbol": symbol,
            "shares": shares,
            "close": r.closes[symbol],
            "market_value": shares * r.closes[symbol],
            "stale": symbol in r.stale_symbols,
            "contract_version": CONTRACT_VERSION,
        }
        for symbol, shares in r.state.positions.items()
    ]


def run_rows(
    spec: ModelSpec,
    results: Iterable[DayResult],
    *,
    run_id: str | None,
    started_at: dt.datetime,
    clock: Clock = SYSTEM_CLOCK,
) -> dict[str, list[dict]]:
    """`day_rows` of a model's run, with its spec's initial cash and config hash."""
    return day_rows(
        spec.signature,
        results,
        initial_cash=spec.initial_cash,
        run_id=run_id,
        config_hash=spec.config_hash,
        started_at=started_at,
        clock=clock,
    )
