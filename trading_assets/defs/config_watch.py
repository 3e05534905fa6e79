"""What models_config_sensor does with a changed models YAML: register only what validates.

A model is registered only after its config and its market data load, so one bad model
never blocks the others (a model registered before its data loads would poison every
later backfill of the store). Models already registered are left alone: changing a
registered model's config is a job for `trading-assets backfill`, which owns that rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trading_assets.config import load_config, model_specs
from trading_assets.errors import TradingAssetsError
from trading_assets.runs.market_data import source_for
from trading_assets.store.results import ResultStore


@dataclass
class Registration:
    registered: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # model (or "config") -> reason

    def summary(self, path: str) -> str:
        parts = [f"registered {', '.join(self.registered)}" if self.registered else ""]
        parts += [f"REJECTED {name}: {why}" for name, why in self.rejected.items()]
        return f"{path}: " + ("; ".join(p for p in parts if p) or "no new enabled models")


def register_enabled(path: str, store: ResultStore) -> Registration:
    """Validate the enabled models of `path` not yet in `store`, and register those that pass."""
    outcome = Registration()
    try:
        specs = model_specs(load_config(path))
    except TradingAssetsError as exc:
        outcome.rejected["config"] = str(exc)
        return outcome
    known = set(store.model_signatures())
    valid = []
    for spec in (s for s in specs if s.signature not in known):
        try:
            history = source_for(spec.market_data).load()
        except TradingAssetsError as exc:
            outcome.rejected[spec.signature] = str(exc)
            continue
        missing = sorted(set(spec.universe) - set(history.symbols))
        if missing:
            outcome.rejected[spec.signature] = f"no prices for {', '.join(missing)}"
            continue
        valid.append(spec)
    store.register_models(valid)
    outcome.registered = [s.signature for s in valid]
    return outcome
