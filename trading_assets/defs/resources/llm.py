"""The LLM lane as a resource: builds a model's lane from its quant_llm params.

The API key is read from the environment at run time (the variable the params name,
OPENAI_API_KEY by default); it never enters run config, metadata, logs or the store.
"""

from __future__ import annotations

import os

import dagster as dg

from trading_assets.agents.quant_llm import QuantLLM
from trading_assets.agents.registry import agent_class
from trading_assets.config import ModelSpec
from trading_assets.llm.endpoint import LLMEndpoint, endpoint_from_config

# agents whose params carry an `llm` endpoint section
LLM_AGENTS = ("quant_llm", "llm_trader")


class LLMResource(dg.ConfigurableResource):
    """Defaults for every quant_llm and llm_trader model; a model's own `llm` params win."""

    base_url: str | None = None
    timeout_seconds: float = 30.0
    max_retries: int = 2

    def endpoint(self, spec: ModelSpec) -> LLMEndpoint | None:
        """The model's endpoint (its `llm` params over these defaults); None: no LLM lane.
        A plugin agent that subclasses QuantLLM gets its lane as quant_llm does."""
        # quant_llm or llm_trader, or a plugin agent built on quant_llm (its llm params)
        cls = agent_class(spec.agent)
        on_llm = spec.agent in LLM_AGENTS or issubclass(cls, QuantLLM)
        llm = spec.params.get("llm") if on_llm else None
        if not llm:
            return None
        config = {
            "base_url": self.base_url,
            "timeout_seconds": self.timeout_seconds,
            "max_retries": self.max_retries,
        }
        config.update({k: v for k, v in llm.items() if v is not None})
        return endpoint_from_config(config, os.environ)
