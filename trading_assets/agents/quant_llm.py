"""quant_llm: a quant strategy proposes, an LLM lane confirms, the merge kernel decides.

The LLM is consulted only on symbols where the quant strategy signals (that is where a
second opinion can change an order, and it keeps the provider bill small). An order of
the quant strategy is kept when the merged direction agrees with it. Without an LLM
endpoint the lane is absent by design: quant-only, not degraded, and data_quality says so.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from trading_assets.agents.base import AgentContext, AgentParams, Decision, Signal, parse_params
from trading_assets.agents.quant import Bollinger, BuyAndHold, SmaCrossover
from trading_assets.errors import ConfigError
from trading_assets.kernel.merge import merge
from trading_assets.llm.endpoint import LLMParams, no_inline_key
from trading_assets.market.view import PointInTimeView
from trading_assets.portfolio.step import PortfolioState

# The quant strategies it can wrap (direct imports: the registry imports this module).
QUANT_CLASSES: dict[str, type] = {a.name: a for a in (SmaCrossover, Bollinger, BuyAndHold)}
QUANT_AGENTS = tuple(QUANT_CLASSES)


class QuantLLM:
    name: ClassVar[str] = "quant_llm"

    class Params(AgentParams):
        quant: dict[str, Any] = Field(
            default_factory=lambda: {"agent": "bollinger", "params": {}},
            description="{agent: sma_crossover | bollinger | buy_and_hold, params: {...}}",
        )
        llm: LLMParams | None = Field(
            None,
            description="{model, base_url?, api_key_env?, timeout_seconds?, max_retries?, "
            "backoff_seconds?, temperature?}; omit to run quant-only",
        )

        @field_validator("llm", mode="before")
        @classmethod
        def _no_inline_key(cls, value: Any) -> Any:
            return no_inline_key(value)

        @model_validator(mode="after")
        def _valid_quant(self) -> QuantLLM.Params:
            agent = self.quant.get("agent")
            if agent not in QUANT_AGENTS:
                raise ValueError(f"quant.agent must be one of {QUANT_AGENTS}, got {agent!r}")
            try:
                parse_params(QUANT_CLASSES[agent], agent, self.quant.get("params", {}))
            except ConfigError as exc:  # as a ValueError pydantic reports it with its key
                raise ValueError(f"quant: {exc.message}") from None
            return self

    def __init__(self, params: Params, context: AgentContext):
        agent, cls = params.quant["agent"], QUANT_CLASSES[params.quant["agent"]]
        self.quant = cls(parse_params(cls, agent, params.quant.get("params", {})), context)
        self.lane = context.services.get("llm_lane")  # None: no LLM configured (by design)
        kernel = context.services.get("merge_kernel")
        self._merge = kernel.merge if kernel is not None else merge

    def decide(self, view: PointInTimeView, portfolio: PortfolioState) -> Decision:
        proposal = self.quant.decide(view, portfolio)
        signals, agreed = [], set()
        for s in proposal.signals:
            quant_lane = s.merged.quant
            if self.lane is None:
                llm_lane, rationale = None, None
            else:
                llm_lane, rationale = self.lane.signal(view, s.symbol, portfolio.shares(s.symbol))
            merged = self._merge(quant_lane, llm_lane)
            reasoning = f"quant: {s.reasoning}" + (f"; llm: {rationale}" if rationale else "")
            signals.append(Signal(s.symbol, merged, reasoning))
            agreed.add((s.symbol, merged.direction))
        orders = tuple(
            o for o in proposal.orders if (o.symbol, 1 if o.side == "buy" else -1) in agreed
        )
        return Decision(orders, tuple(signals))
