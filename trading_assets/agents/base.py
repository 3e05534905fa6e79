"""The agent protocol.

An agent never picks the date: it gets a PointInTimeView (the clock is inside it) and
the portfolio as of the previous close, and returns orders to fill at today's open and
one signal per symbol it has an opinion on. Each signal carries the merge kernel's
result, so quant-only agents and two-lane agents land in the same contract columns.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, ValidationError

from trading_assets.errors import ConfigError
from trading_assets.kernel.merge import MergeResult
from trading_assets.market.view import PointInTimeView
from trading_assets.portfolio.orders import Order
from trading_assets.portfolio.step import NO_FEES, Fees, PortfolioState


@dataclass(frozen=True, slots=True)
class Signal:
    symbol: str
    merged: MergeResult
    reasoning: str | None = None


@dataclass(frozen=True, slots=True)
class Decision:
    orders: tuple[Order, ...] = ()
    signals: tuple[Signal, ...] = ()
    # the day's own degradation (e.g. an LLM trader that held after its provider failed):
    # reason codes that make the model-day degraded_success even without signals
    reason_codes: tuple[str, ...] = ()


NO_DECISION = Decision()


class AgentParams(BaseModel):
    """Base for each agent's params: frozen, strict about unknown keys and types (`true`
    is not a number), and numbers finite (`.inf` and `.nan` refused)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


@dataclass(frozen=True)
class AgentContext:
    """What an agent may be given besides its params: who it is and its shared services."""

    signature: str
    universe: tuple[str, ...]
    services: dict[str, Any] = field(default_factory=dict)  # e.g. "llm_lane", "replay_book"
    fees: Fees = NO_FEES  # the costs the engine fills with (an agent quoting fills needs them)


class Agent(Protocol):
    name: ClassVar[str]
    Params: ClassVar[type[AgentParams]]

    def decide(self, view: PointInTimeView, portfolio: PortfolioState) -> Decision: ...


def parse_params(cls: type, name: str, params: Mapping[str, Any], *, where: str | None = None):
    """`cls.Params` from `params`, or a ConfigError naming each bad key."""
    try:  # plain dicts and lists: strict types refuse the frozen views a ModelSpec holds
        return cls.Params(**_plain(params))
    except ValidationError as exc:
        errors = exc.errors(include_input=False)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in errors
        )
        # a validator may say what to do (e.g. llm/endpoint.py: a key pasted into the config)
        fixes = [e["ctx"]["fix"] for e in errors if "fix" in e.get("ctx", {})]
        raise ConfigError(
            f"invalid params for agent {name!r}: {problems}",
            where=where,
            fix=fixes[0] if fixes else f"see the {name} agent's parameters in README (Agents)",
        ) from None


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
