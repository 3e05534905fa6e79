"""What models_config_sensor does with a changed models YAML: register only what validates.

A model is registered only after its config and its market data load
(`runs.registration.register_validated`), so one bad model never blocks the others.
Models already registered are left alone: changing a registered model's config is a job
for `trading-assets backfill`, which owns that rule.
"""

from __future__ import annotations

from trading_assets.config import load_config, model_specs
from trading_assets.errors import TradingAssetsError
from trading_assets.runs.registration import Registration, register_validated
from trading_assets.store.results import ResultStore


def register_enabled(path: str, store: ResultStore) -> Registration:
    """Validate the enabled models of `path` not yet in `store`, and register those that pass."""
    try:
        specs = model_specs(load_config(path))
    except TradingAssetsError as exc:
        return Registration(rejected={"config": str(exc)})
    known = set(store.model_signatures())
    return register_validated(store, [s for s in specs if s.signature not in known])
