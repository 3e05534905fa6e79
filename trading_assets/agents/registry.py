"""Agent registry: built-ins plus third-party agents from the `trading_assets.agents`
entry-point group (a plugin registers `name = "package.module:AgentClass"`)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from trading_assets.agents.base import Agent, AgentContext, parse_params
from trading_assets.errors import UnknownAgentError

ENTRY_POINT_GROUP = "trading_assets.agents"
# Built-in agents of higher layers, registered by name like plugins (loaded when used).
_BY_NAME = {"replay": "trading_assets.legacy.replay:Replay"}


def _builtins() -> dict[str, type]:
    from trading_assets.agents.llm_trader import LLMTrader
    from trading_assets.agents.quant import Bollinger, BuyAndHold, SmaCrossover
    from trading_assets.agents.quant_llm import QuantLLM

    agents: dict[str, type | EntryPoint] = {
        a.name: a for a in (BuyAndHold, SmaCrossover, Bollinger, QuantLLM, LLMTrader)
    }
    for name, value in _BY_NAME.items():
        agents[name] = EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)
    return agents


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
    return parse_params(agent_class(name, where=where), name, params, where=where)


def create_agent(name: str, params: Mapping[str, Any], context: AgentContext) -> Agent:
    cls = agent_class(name)
    return cls(validate_params(name, params), context)


def one_value_params(name: str) -> set[str]:
    """The agent's parameters that take one scalar value (a number, string, bool or
    literal): where a models YAML may write a grid (trading_assets/grid.py). A parameter
    that takes a list or a mapping itself is never a grid axis. Unknown agent: none."""
    try:
        params = agent_class(name).Params
    except Exception:  # unknown or broken: _check_models reports it with its fix
        return set()
    return {n for n, f in params.model_fields.items() if _scalar(f.annotation)}


def _scalar(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (Union, UnionType):
        return all(_scalar(a) for a in get_args(annotation) if a is not type(None))
    if origin is Literal:
        return True
    return annotation in (int, float, str, bool)
