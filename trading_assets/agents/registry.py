"""Agent registry: built-ins plus third-party agents from the `trading_assets.agents`
entry-point group (a plugin registers `name = "package.module:AgentClass"`)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from pydantic import ValidationError

from trading_assets.agents.base import Agent, AgentContext
from trading_assets.errors import ConfigError, UnknownAgentError

ENTRY_POINT_GROUP = "trading_assets.agents"


def _builtins() -> dict[str, type]:
    from trading_assets.agents.quant import Bollinger, BuyAndHold, SmaCrossover
    from trading_assets.agents.quant_llm import QuantLLM
    from trading_assets.agents.replay import Replay

    return {a.name: a for a in (BuyAndHold, SmaCrossover, Bollinger, QuantLLM, Replay)}


@cache
def available_agents() -> dict[str, type]:
    agents = _builtins()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        agents.setdefault(ep.name, ep)  # loaded lazily: a broken plugin only fails when used
    return agents


def agent_class(name: str, *, where: str | None = None) -> type:
    agents = available_agents()
    if name not in agents:
        raise UnknownAgentError(
            f"unknown agent {name!r}",
            where=where,
            fix=f"use one of {', '.join(sorted(agents))}, or install a plugin that registers "
            f"it in the {ENTRY_POINT_GROUP!r} entry-point group",
        )
    cls = agents[name]
    return cls if isinstance(cls, type) else cls.load()


def validate_params(name: str, params: Mapping[str, Any], *, where: str | None = None) -> Any:
    cls = agent_class(name, where=where)
    try:
        return cls.Params(**params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(
            f"invalid params for agent {name!r}: {problems}",
            where=where,
            fix=f"see the {name} agent's parameters in README (Agents)",
        ) from None


def create_agent(name: str, params: Mapping[str, Any], context: AgentContext) -> Agent:
    cls = agent_class(name)
    return cls(validate_params(name, params), context)
