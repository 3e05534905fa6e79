"""A model_day run's range: every model's trading dates in order, failures gathered.

What the `model_day` asset does, without Dagster: drop exchange holidays, run each
model (a model whose chain cannot start is a failure; the others go on), check legacy
parity where the flags ask for it, and say what failed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from trading_assets.agents.base import Signal
from trading_assets.config import ModelSpec
from trading_assets.engine.run import ModelRun
from trading_assets.errors import TradingAssetsError
from trading_assets.llm.endpoint import LLMEndpoint
from trading_assets.market.calendar import is_trading_day
from trading_assets.portfolio.actions import ActionEffect
from trading_assets.portfolio.orders import OrderResult
from trading_assets.runs.model import no_llm, run_model
from trading_assets.store.models import ModelDisabled
from trading_assets.store.results import ResultStore
from trading_assets.vocab import DayStatus

REASONING_SHOWN = 240  # characters of each signal's reasoning on the model-day's page


@dataclass
class RangeOutcome:
    runs: list[ModelRun] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # one line per failed model
    closed_days: int = 0  # weekday partitions on which the exchange was closed
    ranges: dict[str, list[dt.date]] = field(default_factory=dict)  # model -> trading dates

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
    """Run every model on its dates (sorted); the price history is loaded once per source."""
    outcome, histories = RangeOutcome(), {}
    for model, keyed_dates in dates_by_model.items():
        dates = [d for d in keyed_dates if is_trading_day(d)]
        outcome.closed_days += len(keyed_dates) - len(dates)
        if not dates:  # only exchange holidays in this range: nothing trades
            continue
        try:
            run = run_model(
                store,
                model,
                dates,
                run_id=run_id,
                services=services,
                histories=histories,
                after_write=after_write,
                endpoint_for=endpoint_for,
                parity=parity,
            )
        except ModelDisabled:  # `trading-assets models disable`: left out, not a failure
            log(f"{model}: disabled, skipped")
            continue
        except TradingAssetsError as exc:  # this model's chain cannot start; others go on
            outcome.failures.append(f"{model}: {type(exc).__name__}: {exc}")
            continue
        outcome.runs.append(run)
        outcome.ranges[model] = dates
        log(f"{model}: {len(run.completed_dates)}/{len(dates)} days from {dates[0]} to {dates[-1]}")
        if run.failure is not None:
            outcome.failures.append(f"{model}: {run.failure.date} failed: {run.failure.error}")
    return outcome


def day_figures(run: ModelRun) -> dict[dt.date, dict[str, Any]]:
    """Each stored day's own figures, compact enough for one materialization apiece:
    status, cash, value, daily return and drawdown (in %), holdings, orders with their
    commissions, rejections with their reasons, the day's corporate actions, the
    decision and each signal's reasoning per symbol, and the model's flattened params
    and config_hash. Drawdown is from the running peak of stored end values, as in
    daily_portfolio (the stored peak before the run comes with the start state)."""
    peak, out = run.start.peak, {}
    config = _config_figures(run)
    for day in run.results:
        if day.failed:
            break
        peak = day.value if peak is None else max(peak, day.value)
        filled = [o for o in day.orders if o.status == "filled"]
        rejected = [o for o in day.orders if o.status == "rejected"]
        out[day.date] = {
            "date": day.date.isoformat(),
            "status": str(DayStatus.DEGRADED_SUCCESS if day.degraded else DayStatus.COMPLETED),
            "cash": round(day.state.cash, 2),
            "portfolio_value": round(day.value, 2),
            "daily_return_pct": round(100 * day.daily_return, 4),
            "drawdown_pct": round(100 * (1 - day.value / peak), 4) if peak else 0.0,
            "orders_filled": len(filled),
            "orders_rejected": len(rejected),
            "orders": "; ".join(_order_text(o) for o in day.orders) or "none",
            "commissions": round(sum(o.commission for o in filled), 2),
            "rejections": "; ".join(
                f"{o.order.side} {o.order.quantity} {o.order.symbol}: {o.reason}" for o in rejected
            )
            or "none",
            "corporate_actions": "; ".join(_action_text(a) for a in day.actions) or "none",
            "holdings": ", ".join(f"{s} {q}" for s, q in sorted(day.state.positions.items()))
            or "all cash",
            "decision": ", ".join(
                f"{s.symbol} {s.merged.rating} ({s.merged.confidence:.2f})" for s in day.signals
            )
            or "none",
            "reasoning": " | ".join(_reasoning_text(s) for s in day.signals) or "none",
            **config,
        }
    return out


def _config_figures(run: ModelRun) -> dict[str, Any]:
    """The model's config_hash and flattened params (`param.fast`, ...), as shown."""
    if run.spec is None:
        return {}
    params = {f"param.{k}": _shown(v) for k, v in run.spec.flat_params().items()}
    return {"config_hash": run.spec.config_hash, "agent": run.spec.agent, **params}


def _shown(value: Any) -> Any:
    """A param as metadata: numbers, text and booleans as they are, anything else as text."""
    return value if isinstance(value, int | float | str) else str(value)


def _order_text(result: OrderResult) -> str:
    order = result.order
    text = f"{order.side} {order.quantity} {order.symbol} {result.status}"
    if result.status == "filled" and result.price is not None:
        fee = f" (commission {result.commission:,.2f})" if result.commission else ""
        return f"{text} @ {result.price:,.2f}{fee}"
    return f"{text} ({result.reason})" if result.reason else text


def _action_text(effect: ActionEffect) -> str:
    """`AAPL split 2:1: 104 -> 208 shares`, `IBM dividend 0.18/share on 100 shares: +18.00 cash`."""
    action, parts = effect.action, []
    if action.is_split:
        ratio = Fraction(action.split_ratio).limit_denominator(100)
        parts.append(
            f"{action.symbol} split {ratio.numerator}:{ratio.denominator}: "
            f"{effect.shares_before} -> {effect.shares_after} shares"
        )
    if action.dividend:
        parts.append(
            f"{action.symbol} dividend {action.dividend:,.4g}/share on {effect.shares_before} "
            f"shares: +{effect.dividend_cash:,.2f} cash"
        )
    if effect.fraction_cash:
        parts.append(f"fractional share paid out: +{effect.fraction_cash:,.2f} cash")
    return ", ".join(parts)


def _reasoning_text(signal: Signal) -> str:
    """A signal's reasoning, cut to REASONING_SHOWN characters (in full in `signals`)."""
    why = signal.reasoning or "no reasoning given"
    if len(why) > REASONING_SHOWN:
        why = why[:REASONING_SHOWN].rstrip() + " ... (in full in the signals table)"
    codes = f" [{', '.join(signal.merged.reason_codes)}]" if signal.merged.reason_codes else ""
    return f"{signal.symbol}: {why}{codes}"
