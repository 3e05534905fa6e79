"""The LLM lane as a resource: builds a model's lane from its quant_llm params.

The API key is read from the environment at run time (the variable the params name,
OPENAI_API_KEY by default); it never enters run config, metadata, logs or the store.
"""

from __future__ import annotations

import os
from typing import Any

import dagster as dg

from trading_assets.store.results import ResultStore


class LLMResource(dg.ConfigurableResource):
    """Defaults for every quant_llm model; a model's own `llm` params win."""

    base_url: str | None = None
    timeout_seconds: float = 30.0
    max_retries: int = 2

    def services(self, model: str, store: ResultStore) -> dict[str, Any]:
        spec = store.model_spec(model)
        llm = spec.params.get("llm") if spec.agent == "quant_llm" else None
        if not llm:
            return {}
        from trading_assets.llm.endpoint import endpoint_from_config
        from trading_assets.llm.lane import LLMLane
        from trading_assets.store.llm_cache import load_llm_cache

        config = {
            "base_url": self.base_url,
            "timeout_seconds": self.timeout_seconds,
            "max_retries": self.max_retries,
        }
        config.update({k: v for k, v in llm.items() if v is not None})
        endpoint = endpoint_from_config(config, os.environ)
        with store.connect() as con:
            cache = load_llm_cache(con, endpoint.cache_identity())
        return {"llm_lane": LLMLane(endpoint, cache=cache)}
