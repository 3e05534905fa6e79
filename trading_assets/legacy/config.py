"""The legacy run configuration, `configs/default_config.json`, as a pydantic model.

Secrets never leave this module in clear: `openai_api_key` is a SecretStr excluded
from dumps and reprs, so a model_dump() can be stored or logged as is. The legacy
template's placeholders ("Optional: YOUR_OPENAI_BASE_URL, ...") count as unset.
Unknown keys are ignored: we do not own this format, and forks add their own keys.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from trading_assets.errors import LegacyFormatError
from trading_assets.legacy.layout import check_signature

_PLACEHOLDER = re.compile(r"^\s*optional\s*:|YOUR_[A-Z_]+", re.IGNORECASE)


def _unset_placeholder(value: Any) -> Any:
    if isinstance(value, str) and (not value.strip() or _PLACEHOLDER.search(value)):
        return None
    return value


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class LegacyDateRange(_Frozen):
    init_date: dt.date
    end_date: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> LegacyDateRange:
        if self.end_date < self.init_date:
            raise ValueError("end_date is before init_date")
        return self


class LegacyModel(_Frozen):
    name: str
    basemodel: str
    signature: str
    enabled: bool = False  # a model runs only when explicitly enabled
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = Field(default=None, exclude=True, repr=False)

    @field_validator("openai_base_url", "openai_api_key", mode="before")
    @classmethod
    def _placeholder_is_unset(cls, value: Any) -> Any:
        return _unset_placeholder(value)

    @field_validator("signature")
    @classmethod
    def _safe_signature(cls, value: str) -> str:
        try:
            return check_signature(value)
        except LegacyFormatError as exc:
            raise ValueError(exc.message) from None


class LegacyAgentConfig(_Frozen):
    max_steps: int = Field(default=30, gt=0)
    max_retries: int = Field(default=3, ge=0)
    base_delay: float = Field(default=1.0, ge=0)
    initial_cash: float = Field(default=10000.0, gt=0, allow_inf_nan=False)


class LegacyLogConfig(_Frozen):
    log_path: str = "./data/agent_data"


class LegacyConfig(_Frozen):
    agent_type: str = "BaseAgent"
    date_range: LegacyDateRange
    models: tuple[LegacyModel, ...]
    agent_config: LegacyAgentConfig = LegacyAgentConfig()
    log_config: LegacyLogConfig = LegacyLogConfig()

    @field_validator("models")
    @classmethod
    def _unique_signatures(cls, models: tuple[LegacyModel, ...]) -> tuple[LegacyModel, ...]:
        seen: set[str] = set()
        for model in models:
            if model.signature in seen:
                raise ValueError(f"signature {model.signature!r} appears twice")
            seen.add(model.signature)
        return models

    def enabled_models(self) -> tuple[LegacyModel, ...]:
        return tuple(m for m in self.models if m.enabled)


def parse_config(data: Any, *, where: str = "default_config.json") -> LegacyConfig:
    try:
        return LegacyConfig.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or "(root)"
        raise LegacyFormatError(
            f"{loc}: {first['msg']} ({exc.error_count()} problem(s) in total)",
            where=where,
            fix="correct the config against the legacy format (configs/default_config.json)",
        ) from None


def load_config(path: str | Path) -> LegacyConfig:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LegacyFormatError(
            f"cannot read config: {exc.strerror}",
            where=str(path),
            fix="check the path and permissions",
        ) from None
    except json.JSONDecodeError as exc:
        raise LegacyFormatError(
            f"invalid JSON: {exc.msg}",
            where=f"{path}:{exc.lineno}",
            fix="fix the JSON syntax at that line",
        ) from None
    return parse_config(data, where=str(path))
