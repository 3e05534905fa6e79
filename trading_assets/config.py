"""The models config (YAML): what to simulate.

initial_cash, universe, market_data {source: bundled | folder | legacy, path?}, optional
fees, and models [{signature, agent, params, enabled}]. Each enabled model becomes a
frozen ModelSpec whose hash identifies its runs in the store. Errors name the file,
the key and the fix.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from trading_assets.errors import ConfigError, TradingAssetsError
from trading_assets.vocab import SIGNATURE_RE

# apply: splits and dividends of the market data change holdings and cash (and agents see
# split-adjusted history); ignore: raw prices only, as the legacy AI-Trader and peers did.
CorporateActionsMode = Literal["apply", "ignore"]


class Strict(BaseModel):
    # strict: `true` is not a number and "1e400" (a YAML string) is not a float;
    # allow_inf_nan=False: `.inf` and `.nan` are refused at the config boundary
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)


def _freeze(value: Any) -> Any:
    """Mappings become read-only views and lists tuples, all the way down."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _thaw(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_thaw(v) for v in value]
    return value


# An agent's params: validated as a dict, then frozen, so nothing can change them after
# validation (e.g. slip an inline llm.api_key past the agent's check); dumped as plain JSON.
FrozenParams = Annotated[
    Mapping[str, Any],
    AfterValidator(_freeze),
    PlainSerializer(_thaw, return_type=dict[str, Any]),
]


class MarketDataConfig(Strict):
    source: Literal["bundled", "folder", "legacy"] = "bundled"
    path: str | None = None

    def resolved(self, base: Path) -> MarketDataConfig:
        if self.source == "bundled":
            return self
        if not self.path:
            raise ValueError(f"market_data.path is required for source {self.source!r}")
        return MarketDataConfig(source=self.source, path=str((base / self.path).resolve()))


class CommissionConfig(Strict):
    """Either a per-share commission (with an optional minimum) or a rate, not both."""

    per_share: float = Field(0.0, ge=0)
    minimum: float = Field(0.0, ge=0)
    rate: float = Field(0.0, ge=0, lt=1)

    @model_validator(mode="after")
    def _one_kind(self) -> CommissionConfig:
        if self.rate and (self.per_share or self.minimum):
            raise ValueError("set either rate or per_share/minimum, not both")
        return self


class FeesConfig(Strict):
    commission: CommissionConfig = CommissionConfig()
    slippage_bps: float = Field(0.0, ge=0, lt=10_000)


class ModelConfig(Strict):
    signature: str
    agent: str
    params: FrozenParams = Field(default_factory=dict)
    enabled: bool = True

    @field_validator("signature")
    @classmethod
    def _safe_signature(cls, value: str) -> str:
        if not SIGNATURE_RE.match(value) or value in (".", ".."):
            raise ValueError(
                "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        return value


class ModelsConfig(Strict):
    initial_cash: float = Field(100_000.0, gt=0)
    universe: list[str] = Field(min_length=1)
    market_data: MarketDataConfig = MarketDataConfig()
    fees: FeesConfig = FeesConfig()
    corporate_actions: CorporateActionsMode = "apply"
    models: list[ModelConfig] = Field(min_length=1)

    @field_validator("universe")
    @classmethod
    def _unique_symbols(cls, value: list[str]) -> list[str]:
        upper = [s.strip().upper() for s in value]
        if not all(upper):
            raise ValueError("symbols must not be empty")
        if len(set(upper)) != len(upper):
            raise ValueError("symbols must be unique")
        return upper


class ModelSpec(Strict):
    """Everything needed to simulate one model; stored per model in the result store."""

    signature: str
    agent: str
    params: FrozenParams
    universe: tuple[str, ...]
    initial_cash: float
    market_data: MarketDataConfig
    fees: FeesConfig
    corporate_actions: CorporateActionsMode = "apply"

    @property
    def config_hash(self) -> str:
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def flat_params(self) -> dict[str, Any]:
        """The agent's params as flat, sorted keys: nested mappings join with dots
        (`fast`, `slow`, `risk.stop`); a list stays one value."""
        return dict(sorted(_flatten(_thaw(self.params)).items()))


def _flatten(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def source_id(config: MarketDataConfig) -> str:
    """The key a source's bars are stored under in the `prices` table."""
    return config.source if config.source == "bundled" else f"{config.source}:{config.path}"


class _Loader(yaml.SafeLoader):
    """YAML 1.2 floats: PyYAML (YAML 1.1) reads `1e5` as a string, which strict types
    would then refuse; here it is the float it looks like (and `1e400` is inf, refused)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def load_config(path: str | Path) -> ModelsConfig:
    path = Path(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(
            "config file not found",
            where=str(path),
            fix="pass --config with the path of a models YAML file",
        ) from None
    return parse_config(text, where=str(path), base=path.parent)


def parse_config(text: str, where: str, base: Path) -> ModelsConfig:
    """A models YAML's text, validated as `load_config` validates a file (`where` names
    it in errors; a relative market_data.path is relative to `base`)."""
    try:
        raw = yaml.load(text, Loader=_Loader)  # a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(
            f"not valid YAML ({getattr(exc, 'problem', exc)})",
            where=f"{where}:{mark.line + 1}" if mark else where,
            fix="fix the YAML syntax at that line",
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(
            "expected a mapping at the top level",
            where=where,
            fix="see README (Configuration) for the layout",
        )
    try:
        config = ModelsConfig(**raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise ConfigError(
            f"key {key!r}: {err['msg']}", where=where, fix=_fix_for(key, err)
        ) from None
    _check_models(config, where)
    try:
        market = config.market_data.resolved(base)
    except ValueError as exc:
        raise ConfigError(
            str(exc),
            where=f"{where}: market_data",
            fix="add market_data.path (relative to the config file)",
        ) from None
    return config.model_copy(update={"market_data": market})


def _fix_for(key: str, err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return f"remove or rename {key!r}; allowed keys are listed in README (Configuration)"
    if err["type"] == "missing":
        return f"add {key!r}"
    return f"correct the value of {key!r}"


def _check_models(config: ModelsConfig, where: str) -> None:
    from trading_assets.agents.registry import validate_params

    seen: set[str] = set()
    for i, model in enumerate(config.models):
        at = f"{where}: models[{i}] ({model.signature})"
        if model.signature in seen:
            raise ConfigError(
                "duplicate signature", where=at, fix="give each model its own signature"
            )
        seen.add(model.signature)
        try:
            validate_params(model.agent, model.params, where=at)
        except TradingAssetsError:
            raise
        except Exception as exc:  # a plugin that fails to import
            raise ConfigError(
                f"agent {model.agent!r} cannot be loaded: {exc}",
                where=at,
                fix="check the plugin package is installed",
            ) from exc


def model_specs(config: ModelsConfig) -> list[ModelSpec]:
    return [
        ModelSpec(
            signature=m.signature,
            agent=m.agent,
            params=m.params,
            universe=tuple(config.universe),
            initial_cash=config.initial_cash,
            market_data=config.market_data,
            fees=config.fees,
            corporate_actions=config.corporate_actions,
        )
        for m in config.models
        if m.enabled
    ]
