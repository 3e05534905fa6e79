"""Where the LLM lane sends its prompts: an OpenAI-compatible chat-completions endpoint.

Works with OpenAI, OpenRouter, vLLM, Ollama and llama.cpp's server: they all speak
POST {base_url}/chat/completions. The environment is passed in explicitly (the Dagster
layer hands over EnvVar values); nothing here reads os.environ.

The API key is a SecretStr: repr, str, JSON dumps, errors, the cache identity and the
fingerprint never contain it.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic_core import PydanticCustomError

from trading_assets.errors import ConfigError

DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
LEGACY_BASE_URL_ENV = "OPENAI_API_BASE"  # the legacy simulator's name for the base URL


SECRET_IN_CONFIG = "secret_in_config"  # pydantic error type; its ctx["fix"] says what to do
_KEY_HOME = "the environment variable that llm.api_key_env names (OPENAI_API_KEY by default)"


def _secret_in_config(message: str, fix: str) -> PydanticCustomError:
    """A refusal that must not echo the value (it may be the key), with its own fix."""
    return PydanticCustomError(SECRET_IN_CONFIG, message, {"fix": fix})


def http_url(value: str | None) -> str | None:
    """An http(s) base URL with a host (never file:// or a bare path), without its last /.

    Refused, without echoing the URL: credentials in it (`https://user:key@host`) and a
    query or fragment (`?api_key=...`): the URL is stored with the model (`models.spec`)
    and named in errors, so a key in it would leak; the key belongs in the environment."""
    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as http://127.0.0.1:8000/v1")
    if parts.username is not None or parts.password is not None:
        raise _secret_in_config(
            "holds credentials (user:key@host), which would be stored with the model",
            f"remove them from llm.base_url and put the key in {_KEY_HOME}",
        )
    if parts.query or parts.fragment or value.strip().endswith(("?", "#")):
        raise _secret_in_config(
            "has a query or fragment (?... or #...), which may hold a key and would be "
            "stored with the model",
            f"remove it from llm.base_url; a key goes in {_KEY_HOME}",
        )
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in 0-65535
    except ValueError:
        raise ValueError("has an invalid port (use a number in 0-65535)") from None
    return value.strip().rstrip("/")


_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Prefixes of common API keys (OpenAI, Anthropic, Groq, Hugging Face, GitHub, Google, xAI,
# Stripe-style publishable and restricted keys).
_KEY_PREFIXES = ("sk-", "sk_", "gsk_", "hf_", "ghp_", "github_pat_", "AIza", "xai-", "pk_", "rk_")


def env_var_name(value: str) -> str:
    """`api_key_env`: the name of an environment variable, never the key itself.

    Refused, without echoing the value: anything but letters, digits and `_` (not first a
    digit), a known key prefix, and a long mixed-case name with digits (how keys look;
    variable names are usually upper case)."""
    looks_like_key = value.startswith(_KEY_PREFIXES) or (
        len(value) >= 24
        and any(c.islower() for c in value)
        and any(c.isupper() for c in value)
        and any(c.isdigit() for c in value)
    )
    if looks_like_key or not _ENV_NAME.fullmatch(value):
        raise _secret_in_config(
            "looks like an API key, not the name of an environment variable"
            if looks_like_key
            else "is not an environment variable name (letters, digits and _)",
            "put the key in an environment variable (export OPENAI_API_KEY=...) and that "
            "variable's name in llm.api_key_env",
        )
    return value


class LLMEndpoint(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(min_length=1)
    model: str = Field(min_length=1)
    api_key: SecretStr | None = None
    api_key_env: str = DEFAULT_API_KEY_ENV
    # None: a key is required unless the host is loopback or private (Ollama, llama.cpp).
    require_api_key: bool | None = None
    timeout_seconds: float = Field(default=30.0, gt=0)  # per connect / read / write
    max_retries: int = Field(default=2, ge=0, le=10)
    backoff_seconds: float = Field(default=0.5, ge=0)  # doubles per retry
    retry_after_cap_seconds: float = Field(default=30.0, ge=0)  # caps Retry-After and backoff
    temperature: float = Field(default=0.0, ge=0, le=2)
    # how many models using this base_url a range run simulates at once (their requests
    # overlap; a model's own days stay in order): runs/model_day.py
    max_concurrency: int = Field(default=4, ge=1, le=64)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        return http_url(value)

    @field_validator("api_key_env")
    @classmethod
    def _env_var_name(cls, value: str) -> str:
        return env_var_name(value)

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or ""

    @property
    def is_local(self) -> bool:
        """Loopback or private-network host: local servers usually need no key."""
        if self.host == "localhost" or self.host.endswith(".localhost"):
            return True
        try:
            address = ipaddress.ip_address(self.host)
        except ValueError:
            return False
        return address.is_loopback or address.is_private

    @property
    def needs_api_key(self) -> bool:
        return self.require_api_key if self.require_api_key is not None else not self.is_local

    def secret(self) -> str | None:
        """The key in clear, for the Authorization header and the scrub only."""
        return self.api_key.get_secret_value() if self.api_key is not None else None

    @property
    def chat_url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def cache_identity(self) -> str:
        """`model@scheme://host:port/path` (plus temperature when not 0): the cache's model
        column. The URL is normalized (lower-case scheme and host, the scheme's default port
        written out, no trailing /), so two servers on one host (Ollama on :11434, vLLM on
        :8000) never share answers, and the same server always has one identity. No key."""
        parts = urlsplit(self.base_url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
        host = parts.hostname or ""
        host = f"[{host}]" if ":" in host else host  # IPv6
        path = re.sub(r"/{2,}", "/", parts.path).rstrip("/")
        identity = f"{self.model}@{parts.scheme.lower()}://{host}:{port}{path}"
        return identity if self.temperature == 0 else f"{identity}?temperature={self.temperature}"

    def fingerprint(self) -> str:
        """Stable id of the settings that shape answers (never the key), for run identity."""
        settings = {"base_url": self.base_url, "model": self.model, "temperature": self.temperature}
        canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(canonical.encode()).hexdigest()[:16]
        return f"{self.cache_identity()}#{digest}"


# What a models config may say about its endpoint: LLMEndpoint's own fields, types and
# bounds, optional but for `model`; never the key (only the variable that holds it,
# api_key_env) nor the settings only the operator sets.
def _optional(info: Any) -> Any:
    """The field's type with its bounds (e.g. gt=0), or None."""
    typed = Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation
    return typed | None


_NOT_IN_MODELS_CONFIG = ("api_key", "require_api_key", "retry_after_cap_seconds")
LLMParams = create_model(
    "LLMParams",
    __config__=ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False),
    __validators__={
        "_http_url": field_validator("base_url")(lambda cls, v: http_url(v)),
        "_env_var_name": field_validator("api_key_env")(
            lambda cls, v: v if v is None else env_var_name(v)
        ),
    },
    **{
        name: (info.annotation, ...) if name == "model" else (_optional(info), None)
        for name, info in LLMEndpoint.model_fields.items()
        if name not in _NOT_IN_MODELS_CONFIG
    },
)


def no_inline_key(value: Any) -> Any:
    """An agent's `llm` params, refused when they carry a key (it would be stored with
    the model's spec): a before-validator of every agent with an `llm` section."""
    if isinstance(value, Mapping) and "api_key" in value:
        raise ValueError(
            "llm.api_key is not allowed (it would be stored with the "
            "model): name an environment variable in llm.api_key_env"
        )
    return value


def endpoint_from_config(config: Mapping[str, Any], environ: Mapping[str, str]) -> LLMEndpoint:
    """Build an endpoint from a config mapping, resolving env-provided values from `environ`.

    The key is `api_key` when the config carries one, else environ[api_key_env]; the base
    URL is `base_url`, else environ["OPENAI_API_BASE"].
    """
    values = dict(config)
    if not values.get("base_url") and environ.get(LEGACY_BASE_URL_ENV):
        values["base_url"] = environ[LEGACY_BASE_URL_ENV]
    if not values.get("base_url"):
        raise ConfigError(
            "no LLM base_url",
            where="llm.base_url",
            fix=f"set llm.base_url (e.g. http://127.0.0.1:8000/v1) or {LEGACY_BASE_URL_ENV}",
        )
    key_env = values.get("api_key_env", DEFAULT_API_KEY_ENV)
    if not values.get("api_key") and isinstance(key_env, str) and environ.get(key_env):
        values["api_key"] = environ[key_env]
    values["api_key"] = values.get("api_key") or None
    try:
        return LLMEndpoint.model_validate(values)
    except ValidationError as exc:
        # include_input=False: a mistyped api_key must not be echoed into the error.
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'llm'}: {err['msg']}"
            for err in exc.errors(include_url=False, include_input=False, include_context=False)
        )
        raise ConfigError(
            f"invalid LLM endpoint config ({problems})",
            where="llm",
            fix="allowed keys: " + ", ".join(LLMEndpoint.model_fields),
        ) from None
