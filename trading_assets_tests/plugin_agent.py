"""A third-party agent, as a plugin package would ship it (used by test_agent_plugins)."""

from __future__ import annotations

from typing import ClassVar

from trading_assets.agents.base import NO_DECISION, AgentContext, AgentParams, Decision
from trading_assets.market.view import PointInTimeView
from trading_assets.portfolio.step import PortfolioState


class AlwaysFlat:
    name: ClassVar[str] = "always_flat"

    class Params(AgentParams):
        patience: int = 1

    def __init__(self, params: Params, context: AgentContext):
        self.params = params

    def decide(self, view: PointInTimeView, portfolio: PortfolioState) -> Decision:
        return NO_DECISION
