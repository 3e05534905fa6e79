"""llm_trader: an LLM decides the day's trades by calling AI-Trader's tools.

Each model-day is one tool-calling conversation (llm/trader.py) with the model's
OpenAI-compatible endpoint. The orders are exactly the ones the buy/sell tools
confirmed; the engine fills them at the open by the same rule the tools quoted. Each
traded symbol gets an LLM-lane signal through the merge kernel, as `replay` gives a
legacy agent's trades, so leaderboards, metrics and parity read it like any agent.

A provider that still fails after the client's retries follows `on_failure`:
- `fail`: the model-day fails with the provider's reason (the chain stops there);
- `hold`: the day keeps the morning's state with no trades (`degraded_success`, reason
  codes: the provider's and `llm_trader_held`). Trades the tools had already confirmed
  that day are NOT filled: the day's conversation did not finish, so none of it trades.
The conversation is recorded (reasoning_logs, tool_usage, llm_usage) either way.

A day on or before the model's `knowledge_cutoff` carries `before_knowledge_cutoff`
(degraded_success): the model may have been trained on what happened that day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from trading_assets.agents.base import AgentContext, AgentParams, Decision, Signal
from trading_assets.errors import ConfigError
from trading_assets.kernel.merge import action_signal
from trading_assets.kernel.reasons import BEFORE_KNOWLEDGE_CUTOFF, LLM_TRADER_HELD
from trading_assets.llm.client import LLMError
from trading_assets.llm.endpoint import LLMParams, no_inline_key
from trading_assets.llm.trader import (
    DEFAULT_TEMPLATE,
    TraderSession,
    TraderSettings,
    check_template,
)
from trading_assets.market.view import PointInTimeView
from trading_assets.portfolio.step import PortfolioState

SESSION_SERVICE = "llm_trader"  # the run puts the model's TraderSession under this name
MAX_REASONING_CHARS = 1000


class LLMTrader:
    name: ClassVar[str] = "llm_trader"

    class Params(AgentParams):
        llm: LLMParams = Field(
            description="{model, base_url?, api_key_env?, timeout_seconds?, max_retries?, "
            "backoff_seconds?, temperature?, max_concurrency?}"
        )
        prompt_file: str | None = Field(
            None, description="a prompt template file, read when the config is loaded"
        )
        prompt_template: str | None = Field(
            None, description="the template's text (filled in from prompt_file or the default)"
        )
        max_steps: int = Field(30, ge=1, le=500)
        on_failure: Literal["fail", "hold"] = "fail"
        seed: int | None = None
        # the model's training cutoff: its days on or before it are marked (it may know them)
        knowledge_cutoff: dt.date | None = None
        prompt_price_per_million: float | None = Field(None, ge=0)
        completion_price_per_million: float | None = Field(None, ge=0)

        @field_validator("llm", mode="before")
        @classmethod
        def _no_inline_key(cls, value: Any) -> Any:
            return no_inline_key(value)

        @field_validator("knowledge_cutoff", mode="before")
        @classmethod
        def _iso_date(cls, value: Any) -> Any:
            if isinstance(value, str):
                try:
                    return dt.date.fromisoformat(value)
                except ValueError:
                    raise ValueError(f"knowledge_cutoff {value!r} is not YYYY-MM-DD") from None
            return value

        @field_validator("prompt_template")
        @classmethod
        def _valid_template(cls, value: str | None) -> str | None:
            if value is not None:
                check_template(value)
            return value

        @model_validator(mode="after")
        def _both_prices(self) -> LLMTrader.Params:
            prices = (self.prompt_price_per_million, self.completion_price_per_million)
            if (prices[0] is None) != (prices[1] is None):
                raise ValueError(
                    "set both prompt_price_per_million and completion_price_per_million, or neither"
                )
            return self

    @classmethod
    def resolve_files(cls, params: Mapping[str, Any], base: Path, where: str) -> dict[str, Any]:
        """The params with the prompt template's text in `prompt_template` (the file's
        bytes, or the built-in template), so they are part of the config hash and the
        stored spec runs the same prompt even after the file changes."""
        resolved = dict(params)
        if params.get("prompt_file") is not None and params.get("prompt_template") is not None:
            raise ConfigError(
                "both prompt_file and prompt_template are set",
                where=where,
                fix="keep one: a template file (prompt_file) or its text (prompt_template)",
            )
        file = params.get("prompt_file")
        if isinstance(file, str):
            path = (base / file).resolve()
            try:
                resolved["prompt_template"] = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(
                    f"cannot read the prompt template {path}: {exc}",
                    where=f"{where}: params.prompt_file",
                    fix="point prompt_file at a UTF-8 text file (relative to the config file)",
                ) from None
            resolved["prompt_file"] = str(path)
        elif params.get("prompt_template") is None:
            resolved["prompt_template"] = DEFAULT_TEMPLATE
        return resolved

    def __init__(self, params: Params, context: AgentContext):
        session = context.services.get(SESSION_SERVICE)
        if not isinstance(session, TraderSession):
            raise ConfigError(
                "llm_trader has no LLM endpoint",
                where=f"model {context.signature}",
                fix="set params.llm.model and llm.base_url (or OPENAI_API_BASE)",
            )
        self.session = session
        self.fees = context.fees
        self.on_failure = params.on_failure
        self.knowledge_cutoff = params.knowledge_cutoff
        self.settings = TraderSettings(
            template=params.prompt_template or DEFAULT_TEMPLATE,
            max_steps=params.max_steps,
            seed=params.seed,
            prompt_price_per_million=params.prompt_price_per_million,
            completion_price_per_million=params.completion_price_per_million,
        )

    def decide(self, view: PointInTimeView, portfolio: PortfolioState) -> Decision:
        day = self.session.run_day(view, portfolio, self.settings, self.fees)
        cutoff = self.knowledge_cutoff
        remembered = (BEFORE_KNOWLEDGE_CUTOFF,) if cutoff and view.date <= cutoff else ()
        if day.failure is not None:
            confirmed = len(day.orders)
            note = f"; {confirmed} order(s) the tools had confirmed are not filled"
            if self.on_failure == "fail":
                raise LLMError(
                    day.failure.reason_code,
                    f"llm_trader failed after {day.steps} answer(s) (on_failure: fail)"
                    f"{note}: {day.failure.message}",
                    where=f"model-day {view.date}",
                    fix=day.failure.fix or "re-run the day when the provider answers",
                )
            return Decision(reason_codes=(day.failure.reason_code, LLM_TRADER_HELD, *remembered))
        reasoning = day.final_text
        if reasoning and len(reasoning) > MAX_REASONING_CHARS:
            reasoning = reasoning[: MAX_REASONING_CHARS - 1] + "…"
        signals = {
            o.symbol: Signal(o.symbol, action_signal(o.side), reasoning)
            for o in day.orders
            if o.quantity  # a 0-share order is a no-op, not a trade
        }
        return Decision(day.orders, tuple(signals.values()), reason_codes=remembered)
