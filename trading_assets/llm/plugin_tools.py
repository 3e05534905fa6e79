"""Tools a plugin adds to the llm_trader, from the `trading_assets.llm_tools` entry-point
group (a package registers `name = "package.module:ToolClass"`).

A tool class has `name`, `description` and `parameters` (the JSON schema of its
arguments) and is called with the arguments (a dict) and a `ToolView`: the same point in
time as the built-in tools, i.e. the day's `PointInTimeView` (prices known at D's open),
D's open as an instant, and `search(query, k)` over the model's documents as they stood
before that instant. Its answer (anything JSON can write) is what the model reads; an
exception is answered as a tool error and the day goes on. A model offers a plugin tool
only when it names it in `params.tools`, so installing a plugin changes no other
model's requests (nor their cache).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any, ClassVar, Protocol

from trading_assets.errors import ConfigError
from trading_assets.market.documents import Document
from trading_assets.market.view import PointInTimeView

TOOLS_GROUP = "trading_assets.llm_tools"


@dataclass(frozen=True)
class ToolView:
    """What a plugin tool may know on day D: nothing after D's open."""

    view: PointInTimeView
    known_before: dt.datetime  # D's XNYS open
    search: Callable[[str, int], list[Document]]  # the documents before it ([] without)


class LLMTool(Protocol):
    name: ClassVar[str]
    description: ClassVar[str]
    parameters: ClassVar[dict[str, Any]]

    def __call__(self, arguments: dict[str, Any], at: ToolView) -> Any: ...


@cache
def available_tools() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=TOOLS_GROUP)}


def load_tool(name: str, *, where: str | None = None) -> LLMTool:
    tools = available_tools()
    if name not in tools:
        shown = ", ".join(sorted(tools)) or "none installed"
        raise ConfigError(
            f"unknown llm tool {name!r} (plugin tools: {shown})",
            where=where,
            fix=f"install a plugin that registers it in the {TOOLS_GROUP!r} entry-point "
            "group, or leave it out of params.tools",
        )
    try:
        cls = tools[name].load()
        return cls()
    except Exception as exc:
        raise ConfigError(
            f"llm tool {name!r} cannot be loaded: {exc}",
            where=where,
            fix="check the plugin package is installed",
        ) from None


def tool_schema(tool: LLMTool) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
        },
    }
