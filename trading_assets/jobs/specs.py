"""What a submission runs: the models of a config file, checked before anything heavy.

No Dagster and no store here: a bad models YAML is a one-line error within a fraction
of a second, before the command imports Dagster or opens the store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from trading_assets.config import ModelSpec
from trading_assets.errors import ConfigError, TradingAssetsError


def load_specs(
    config: str,
    models: str | None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> list[ModelSpec]:
    """The config's enabled models ('demo': the bundled one), or those `models` names."""
    from importlib import resources

    from trading_assets.config import load_config, model_specs

    if start and end and start > end:
        raise TradingAssetsError(f"--start {start} is after --end {end}", fix="swap them")
    path = (
        resources.files("trading_assets") / "configs" / "demo.yaml"
        if config == "demo"
        else Path(config)
    )
    specs = model_specs(load_config(path))
    if not specs:
        raise ConfigError(
            "no enabled model (every model has enabled: false)",
            where=str(path),
            fix="set enabled: true on a model, or drop the enabled key (it defaults to true)",
        )
    if not models:
        return specs
    wanted = [m.strip() for m in models.split(",") if m.strip()]
    if not wanted:
        raise TradingAssetsError(
            f"--models {models!r} names no model", fix="list signatures, comma-separated"
        )
    unknown = sorted(set(wanted) - {s.signature for s in specs})
    if unknown:
        raise TradingAssetsError(
            f"--models names {', '.join(unknown)}, not in {path}",
            fix=f"use some of: {', '.join(s.signature for s in specs)}",
        )
    return [s for s in specs if s.signature in wanted]
