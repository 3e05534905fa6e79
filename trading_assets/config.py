"""The models config (YAML): what to simulate.

initial_cash, universe, market_data {source: bundled | folder | legacy, path?}, optional
fees, and models [{signature, agent, params, enabled}]. Each enabled model becomes a
frozen ModelSpec whose hash identifies its runs in the store. Errors name the file,
the key and the fix.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import os
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
from trading_assets.grid import expand, is_axis
from trading_assets.llm.endpoint import DEFAULT_API_KEY_ENV
from trading_assets.llm.scrub import holds_secret
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
    # another model's signature: this model's first day starts from that model's last
    # stored end-of-day state before it (positions and cash), not from initial_cash
    start_from: str | None = None
    # grid constraints, e.g. "fast < slow" (trading_assets/grid.py)
    constraints: list[str] = Field(default_factory=list)

    @field_validator("signature", "start_from")
    @classmethod
    def _safe_signature(cls, value: str | None) -> str | None:
        if value is not None and (not SIGNATURE_RE.match(value) or value in (".", "..")):
            raise ValueError(
                "must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        return value

    @model_validator(mode="after")
    def _not_from_itself(self) -> ModelConfig:
        if self.start_from == self.signature:
            raise ValueError("start_from must name another model")
        return self


class WalkForwardConfig(Strict):
    """In-sample / out-of-sample folds of trading days (analytics/walk_forward.py)."""

    in_sample: int = Field(ge=2)
    out_of_sample: int = Field(ge=1)
    mode: Literal["rolling", "anchored"] = "rolling"


class StudyConfig(Strict):
    """A sweep run as one unit: the grid's variants are trials, never partitions, until
    one is promoted to a model (`trading-assets study promote`)."""

    name: str
    agent: str
    params: FrozenParams = Field(default_factory=dict)
    constraints: list[str] = Field(default_factory=list)
    start: dt.date | None = None  # first and last trading day (default: the data's span)
    end: dt.date | None = None
    walk_forward: WalkForwardConfig | None = None
    pbo_blocks: int = Field(16, ge=2, le=24)  # CSCV row blocks (even): C(16, 8) = 12,870 splits

    _safe_name = field_validator("name")(ModelConfig._safe_signature.__func__)

    @field_validator("pbo_blocks")
    @classmethod
    def _even(cls, value: int) -> int:
        if value % 2:
            raise ValueError("must be even (half the blocks are in-sample)")
        return value


class ModelsConfig(Strict):
    initial_cash: float = Field(100_000.0, gt=0)
    universe: list[str] = Field(min_length=1)
    market_data: MarketDataConfig = MarketDataConfig()
    fees: FeesConfig = FeesConfig()
    corporate_actions: CorporateActionsMode = "apply"
    models: list[ModelConfig] = Field(default_factory=list)
    studies: list[StudyConfig] = Field(default_factory=list)
    # grid combinations the constraints ruled out (set by load_config, never written)
    dropped_variants: int = Field(0, exclude=True)

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
    start_from: str | None = None  # ModelConfig.start_from

    @property
    def flat_params(self) -> dict[str, Any]:
        """The agent's params as registered, one entry per leaf: nested mappings join
        their keys with dots (`quant.params.window`); a list stays one JSON value."""
        return flatten_params(self.params)

    @property
    def config_hash(self) -> str:
        # start_from joins the hash only when set: specs stored before it keep their hash
        unset = {"start_from"} if self.start_from is None else None
        dumped = self.model_dump(mode="json", exclude=unset)
        payload = json.dumps(dumped, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(payload.encode()).hexdigest()[:16]


class StudySpec(Strict):
    """A study as stored and run: its trials are full model specs (what `promote`
    registers), so a promoted trial has the trial's own config hash."""

    name: str
    trials: tuple[ModelSpec, ...]
    dropped: int  # grid combinations the constraints ruled out
    start: dt.date | None
    end: dt.date | None
    walk_forward: WalkForwardConfig | None
    pbo_blocks: int


def flatten_params(params: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """`{"quant": {"params": {"k": 2}}}` -> `{"quant.params.k": 2}` (lists as JSON text)."""
    flat: dict[str, Any] = {}
    for key, value in params.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat |= flatten_params(value, f"{name}.")
        elif isinstance(value, list | tuple):
            flat[name] = json.dumps(_thaw(value))
        else:
            flat[name] = value
    return flat


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
        raw = yaml.load(path.read_text(), Loader=_Loader)  # a SafeLoader
    except FileNotFoundError:
        raise ConfigError(
            "config file not found",
            where=str(path),
            fix="pass --config with the path of a models YAML file",
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(
            f"not valid YAML ({getattr(exc, 'problem', exc)})",
            where=where,
            fix="fix the YAML syntax at that line",
        ) from None
    if not isinstance(raw, dict):
        raise ConfigError(
            "expected a mapping at the top level",
            where=str(path),
            fix="see README (Configuration) for the layout",
        )
    if not raw.get("models") and not raw.get("studies"):
        raise ConfigError(
            "key 'models': list at least one model (or a study under 'studies')",
            where=str(path),
            fix="add 'models' (see README, Configuration)",
        )
    try:
        config = ModelsConfig(**raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise ConfigError(
            f"key {key!r}: {err['msg']}", where=str(path), fix=_fix_for(key, err)
        ) from None
    _refuse_pasted_keys(config, path, os.environ)
    config = _resolve_files(_expand_grids(config, path), path)
    _check_models(config, path)
    try:
        market = config.market_data.resolved(path.parent)
    except ValueError as exc:
        raise ConfigError(
            str(exc),
            where=f"{path}: market_data",
            fix="add market_data.path (relative to the config file)",
        ) from None
    return config.model_copy(update={"market_data": market})


def _refuse_pasted_keys(config: ModelsConfig, path: Path, environ: Mapping[str, str]) -> None:
    """A model's API key (the value of the variable its `llm.api_key_env` names, when set)
    pasted into any field of a model or study (`llm.model`, a param, the signature):
    refused, naming the field and the variable, never echoing the value. The fields are
    stored with the model (`models.spec`) and quoted in errors and diagnostics. Found in
    any form the scrub knows (`llm/scrub.py:holds_secret`)."""
    entries = [(f"models[{i}] ({m.signature})", m) for i, m in enumerate(config.models)]
    entries += [(f"studies[{i}] ({s.name})", s) for i, s in enumerate(config.studies)]
    keys: dict[str, str] = {}  # variable -> its value
    for _, entry in entries:
        llm = entry.params.get("llm")
        name = (llm.get("api_key_env") or DEFAULT_API_KEY_ENV) if isinstance(llm, Mapping) else None
        if isinstance(name, str) and environ.get(name):
            keys[name] = environ[name]
    for where, entry in entries:
        fields = entry.model_dump(mode="json")
        texts = [*_texts(fields.pop("params"), ""), *_texts(fields, "")]
        for (field, text), (name, key) in itertools.product(texts, keys.items()):
            if holds_secret(text, key):
                raise ConfigError(
                    f"{field}: holds the API key (the value of the environment variable "
                    f"{name}), which would be stored with the model",
                    where=f"{path}: {where}",
                    fix=f"remove the key from {field}; it belongs only in the environment "
                    f"variable {name}",
                )


def _texts(value: Any, at: str) -> list[tuple[str, str]]:
    """(dotted key, text) of every string in a dumped config value, at any depth."""
    if isinstance(value, str):
        return [(at or "(value)", value)]
    if isinstance(value, Mapping):
        return [t for k, v in value.items() for t in _texts(v, f"{at}.{k}" if at else str(k))]
    if isinstance(value, list | tuple):
        return [t for i, v in enumerate(value) for t in _texts(v, f"{at}[{i}]")]
    return []


def _fix_for(key: str, err: dict) -> str:
    if err["type"] == "extra_forbidden":
        return f"remove or rename {key!r}; allowed keys are listed in README (Configuration)"
    if err["type"] == "missing":
        return f"add {key!r}"
    return f"correct the value of {key!r}"


def _expand_grids(config: ModelsConfig, path: Path) -> ModelsConfig:
    """Each entry with a grid in its params becomes its named variants."""
    models, dropped = [], 0
    for i, model in enumerate(config.models):
        grid = _variants(model, f"{path}: models[{i}]")
        if grid is None:
            models.append(model)
            continue
        dropped += grid.dropped
        models += [
            model.model_copy(update={"signature": v.signature, "params": _freeze(v.params)})
            for v in grid.variants
        ]
    return config.model_copy(update={"models": models, "dropped_variants": dropped})


def _variants(entry: ModelConfig | StudyConfig, where: str, always: bool = False):
    """The entry's grid expansion (None: no grid, unless `always`); each variant's params
    are validated by the agent, named by the entry the user wrote."""
    from trading_assets.agents.registry import one_value_params, validate_params

    base = entry.name if isinstance(entry, StudyConfig) else entry.signature
    params = _thaw(entry.params)
    one_value = one_value_params(entry.agent)
    if not (always or entry.constraints or any(is_axis(params.get(k)) for k in one_value)):
        return None
    grid = expand(base, params, one_value, entry.constraints, where=f"{where} ({base})")
    for v in grid.variants:
        validate_params(entry.agent, v.params, where=f"{where} ({v.signature})")
    return grid


def study_specs(config: ModelsConfig, path: str | Path) -> list[StudySpec]:
    """Each study of the config with its trials as model specs (the config's universe,
    cash, market data, fees and corporate actions)."""
    out = []
    for i, study in enumerate(config.studies):
        grid = _variants(study, f"{path}: studies[{i}]", always=True)
        trials = [
            ModelConfig(signature=v.signature, agent=study.agent, params=v.params)
            for v in grid.variants
        ]
        specs = model_specs(config.model_copy(update={"models": trials}))
        out.append(
            StudySpec(
                name=study.name,
                trials=tuple(specs),
                dropped=grid.dropped,
                start=study.start,
                end=study.end,
                walk_forward=study.walk_forward,
                pbo_blocks=study.pbo_blocks,
            )
        )
    return out


def _resolve_files(config: ModelsConfig, path: Path) -> ModelsConfig:
    """Each model's params with the files its agent reads inlined (an agent class may
    define `resolve_files(params, base_dir, where)`, e.g. llm_trader's prompt template),
    so a file's bytes are part of the config hash. Unknown agents are left to
    _check_models, which names them."""
    from trading_assets.agents.registry import agent_class

    models = []
    for i, model in enumerate(config.models):
        try:
            cls = agent_class(model.agent)
        except Exception:  # unknown or broken: _check_models says so
            models.append(model)
            continue
        resolve = getattr(cls, "resolve_files", None)
        if resolve is None:
            models.append(model)
            continue
        where = f"{path}: models[{i}] ({model.signature})"
        params = resolve(_thaw(model.params), path.parent, where)
        models.append(ModelConfig.model_validate({**model.model_dump(), "params": params}))
    return config.model_copy(update={"models": models})


def _check_models(config: ModelsConfig, path: Path) -> None:
    from trading_assets.agents.registry import validate_params

    seen: set[str] = set()
    for i, model in enumerate(config.models):
        where = f"{path}: models[{i}] ({model.signature})"
        if model.signature in seen:
            raise ConfigError(
                "duplicate signature", where=where, fix="give each model its own signature"
            )
        seen.add(model.signature)
        try:
            validate_params(model.agent, model.params, where=where)
        except TradingAssetsError:
            raise
        except Exception as exc:  # a plugin that fails to import
            raise ConfigError(
                f"agent {model.agent!r} cannot be loaded: {exc}",
                where=where,
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
            start_from=m.start_from,
        )
        for m in config.models
        if m.enabled
    ]
