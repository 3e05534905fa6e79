"""The migration's last step: a models YAML whose `llm_trader` models keep trading the
imported AI-Trader agents from their stored positions.

For each enabled model of the legacy config that was imported, one `llm_trader` model
`<signature>-live` with `start_from: <signature>` (its first day starts from the
imported agent's last stored day), the legacy `basemodel` as `llm.model`, its
`openai_base_url` when set, and `agent_config.max_steps`, `max_retries` and
`base_delay`. The key is never written: `llm.api_key_env` names the variable to read.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from trading_assets.config import ModelSpec
from trading_assets.legacy.config import LegacyConfig
from trading_assets.llm.endpoint import DEFAULT_API_KEY_ENV, http_url

LIVE_SUFFIX = "-live"
_HEADER = (
    "# Written by `trading-assets import-legacy --write-models`: each llm_trader model\n"
    "# continues an imported AI-Trader agent from its last stored day (start_from).\n"
    f"# The API key is read from ${DEFAULT_API_KEY_ENV} (llm.api_key_env), never from this file.\n"
)


def continuation_config(config: LegacyConfig, imported: Sequence[ModelSpec]) -> dict[str, Any]:
    """The models config (as YAML data) continuing the enabled, imported legacy models."""
    specs = {s.signature: s for s in imported}
    enabled = [m for m in config.enabled_models() if m.signature in specs]
    universe = list(dict.fromkeys(sym for m in enabled for sym in specs[m.signature].universe))
    agent = config.agent_config
    models = []
    for legacy in enabled:
        llm: dict[str, Any] = {"model": legacy.basemodel, "api_key_env": DEFAULT_API_KEY_ENV}
        try:
            base_url = http_url(legacy.openai_base_url)
        except ValueError:  # not a URL (a placeholder): the environment's OPENAI_API_BASE
            base_url = None
        if base_url:
            llm["base_url"] = base_url
        llm |= {"max_retries": min(agent.max_retries, 10), "backoff_seconds": agent.base_delay}
        models.append(
            {
                "signature": legacy.signature + LIVE_SUFFIX,
                "agent": "llm_trader",
                "start_from": legacy.signature,
                "params": {"llm": llm, "max_steps": agent.max_steps},
            }
        )
    market = imported[0].market_data if imported else None
    return {
        "initial_cash": agent.initial_cash,
        "universe": universe,
        "market_data": market.model_dump(mode="json") if market else {"source": "legacy"},
        "corporate_actions": "ignore",  # as the legacy engine and the replays
        "models": models,
    }


def write_continuation(path: Path, config: LegacyConfig, imported: Sequence[ModelSpec]) -> int:
    """Write the continuation YAML; returns how many models it holds (0: none written)."""
    data = continuation_config(config, imported)
    if not data["models"]:
        return 0
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)
    path.write_text(_HEADER + text, encoding="utf-8")
    return len(data["models"])
