"""Register a model only after its config and market data validate: never poison the store.

A model registered before its data loads would make every later backfill of the store
fail on it. So `register_validated` checks each spec (config already validated by
`config.load_config`) before writing anything:
- its market data loads (each source once) and has bars for every symbol of its universe;
- the run about to happen would not splice its config into a chain stored with another
  (`store.models.chain_conflict`): a changed config re-simulates from the first stored day
  with the old config, or gets a new signature;
- it is not disabled (`trading-assets models disable`): left out, not rejected.
What passes is registered; the rest is returned with the reason, and never blocks the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from trading_assets.config import ModelSpec, source_id
from trading_assets.errors import TradingAssetsError
from trading_assets.market.history import PriceHistory
from trading_assets.runs.market_data import source_for
from trading_assets.store.models import chain_conflict, disabled_models
from trading_assets.store.results import ResultStore


@dataclass
class Registration:
    registered: list[ModelSpec] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # model (or "config") -> reason
    disabled: list[str] = field(default_factory=list)  # registered, disabled: left out

    def lines(self) -> list[str]:
        """What to print: one line per model left out, with its reason."""
        out = [f"REJECTED {name}: {why}" for name, why in self.rejected.items()]
        return out + [
            f"skipped {name}: disabled (trading-assets models list)" for name in self.disabled
        ]

    def summary(self, path: str) -> str:
        names = ", ".join(s.signature for s in self.registered)
        parts = [f"registered {names}" if names else "", *self.lines()]
        return f"{path}: " + ("; ".join(p for p in parts if p) or "no new enabled models")


def register_validated(
    store: ResultStore,
    specs: Sequence[ModelSpec],
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Registration:
    """Validate `specs` for a run of [start, end] (None: every day), register those that
    pass, and return them with the reasons for the rest (see the module docstring)."""
    outcome, histories = Registration(), {}
    with store.connect() as con:
        disabled = disabled_models(con)
        conflicts = {
            s.signature: chain_conflict(con, s.signature, s.config_hash, start, end) for s in specs
        }
    for spec in specs:
        if spec.signature in disabled:
            outcome.disabled.append(spec.signature)
            continue
        conflict = conflicts[spec.signature]
        reason = (
            str(conflict.error(spec.config_hash))
            if conflict is not None
            else market_data_problem(spec, histories)
        )
        if reason:
            outcome.rejected[spec.signature] = reason
        else:
            outcome.registered.append(spec)
    store.register_models(outcome.registered)
    return outcome


def market_data_problem(spec: ModelSpec, histories: dict[str, PriceHistory | str]) -> str | None:
    """Why `spec`'s market data cannot serve it, or None; `histories` caches each source's
    bars (or its load error) across a call's models."""
    key = source_id(spec.market_data)
    if key not in histories:
        try:
            histories[key] = source_for(spec.market_data).load()
        except TradingAssetsError as exc:
            histories[key] = str(exc)
    history = histories[key]
    if isinstance(history, str):
        return history
    missing = sorted(set(spec.universe) - set(history.symbols))
    if missing:
        return f"{key}: no prices for {', '.join(missing)} (fix: correct the universe)"
    return None
