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
from trading_assets.errors import ConfigError, RunStopped
from trading_assets.kernel.merge import action_signal
from trading_assets.kernel.reasons import (
    BEFORE_KNOWLEDGE_CUTOFF,
    BUDGET_EXCEEDED,
    LLM_TRADER_HELD,
)
from trading_assets.llm.client import LLMError
from trading_assets.llm.endpoint import LLMParams, no_inline_key
from trading_assets.llm.plugin_tools import TOOLS_GROUP, available_tools, load_tool
from trading_assets.llm.trader import (
    DEFAULT_TEMPLATE,
    TraderSession,
    TraderSettings,
    check_template,
)
from trading_assets.llm.trader_tools import BUILTIN_TOOLS
from trading_assets.market.view import PointInTimeView
from trading_assets.portfolio.step import PortfolioState

SESSION_SERVICE = "llm_trader"  # the run puts the model's TraderSession under this name
MAX_REASONING_CHARS = 1000


class LLMTrader:
    name: ClassVar[str] = "llm_trader"
    # the budgets stop a run but change no decision: not part of the config hash
    unhashed_params: ClassVar[tuple[str, ...]] = ("max_tokens", "max_cost_usd")

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
        documents: str | None = Field(
            None,
            description="a folder of dated documents (JSONL or Parquet) for get_information, "
            "relative to the config file; the `documents` asset loads it into the store",
        )
        tools: tuple[str, ...] = Field(
            (), description=f"plugin tools to offer (the {TOOLS_GROUP!r} entry-point group)"
        )
        max_steps: int = Field(30, ge=1, le=500)
        on_failure: Literal["fail", "hold"] = "fail"
        seed: int | None = None
        # the model's training cutoff: its days on or before it are marked (it may know them)
        knowledge_cutoff: dt.date | None = None
        # budgets: no day starts once the model's stored days and this run have spent it
        max_tokens: int | None = Field(None, ge=1)
        max_cost_usd: float | None = Field(None, gt=0)
        prompt_price_per_million: float | None = Field(None, ge=0)
        completion_price_per_million: float | None = Field(None, ge=0)

        @field_validator("llm", mode="before")
        @classmethod
        def _no_inline_key(cls, value: Any) -> Any:
            return no_inline_key(value)

        @field_validator("tools", mode="before")
        @classmethod
        def _a_list(cls, value: Any) -> Any:
            return tuple(value) if isinstance(value, list) else value

        @field_validator("tools")
        @classmethod
        def _installed_tools(cls, value: tuple[str, ...]) -> tuple[str, ...]:
            for name in value:
                if name in BUILTIN_TOOLS:
                    raise ValueError(f"{name!r} is a built-in tool; list only plugin tools")
                if name not in available_tools():
                    shown = ", ".join(sorted(available_tools())) or "none installed"
                    raise ValueError(
                        f"unknown llm tool {name!r} (installed: {shown}); install a plugin "
                        f"that registers it in the {TOOLS_GROUP!r} entry-point group"
                    )
            if len(set(value)) != len(value):
                raise ValueError("a tool is listed twice")
            return value

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
            if self.max_cost_usd is not None and prices[0] is None:
                raise ValueError(
                    "max_cost_usd needs prompt_price_per_million and completion_price_per_million"
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
        folder = params.get("documents")
        if isinstance(folder, str):  # the source's identity: its absolute folder
            resolved["documents"] = str((base / folder).resolve())
        return resolved

    @classmethod
    def documents_source(cls, agent: str, params: Mapping[str, Any]) -> str | None:
        """The model's documents folder (the store's source id), if it has one."""
        folder = params.get("documents") if agent == cls.name else None
        return folder if isinstance(folder, str) else None

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
        self.signature = context.signature
        self.max_tokens, self.max_cost_usd = params.max_tokens, params.max_cost_usd
        self.settings = TraderSettings(
            template=params.prompt_template or DEFAULT_TEMPLATE,
            max_steps=params.max_steps,
            seed=params.seed,
            prompt_price_per_million=params.prompt_price_per_million,
            completion_price_per_million=params.completion_price_per_million,
            tools=tuple(load_tool(n, where=f"model {context.signature}") for n in params.tools),
        )

    def check_budget(self, date: dt.date) -> None:
        """RunStopped (budget_exceeded) when the budget is spent: checked before each day,
        so the day that reaches it finishes and no day starts after it."""
        tokens, cost = self.session.spent()
        over = None
        if self.max_tokens is not None and tokens >= self.max_tokens:
            over = f"{tokens:,} tokens spent of its budget of {self.max_tokens:,} (max_tokens)"
        elif self.max_cost_usd is not None and cost >= self.max_cost_usd:
            over = f"${cost:,.4f} spent of its budget of ${self.max_cost_usd:,.4f} (max_cost_usd)"
        if over:
            raise RunStopped(
                BUDGET_EXCEEDED,
                f"{over}; stopped before {date}, the days before it are stored",
                where=f"model {self.signature}",
                fix="raise (or remove) params.max_tokens / max_cost_usd, then run the same "
                "command again: only the days not stored run",
            )

    def decide(self, view: PointInTimeView, portfolio: PortfolioState) -> Decision:
        self.check_budget(view.date)
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
