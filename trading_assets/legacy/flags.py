"""Migration flags: each migration step can be rolled back in one step by a flag.

Flags come from a Mapping the caller passes (os.environ, or a Dagster resource's
values); nothing is read at import. Unset or empty variables take the defaults below,
which keep the legacy layout untouched. Values are case-insensitive; a bad value, or
an unknown variable that looks like a misspelt flag, raises ConfigError naming the
variable and the allowed values, so a rollback never silently fails to apply.

Percentage rollouts pick models by hashing the signature (sha256): the same answer
in every process and on every platform, never random, and monotone (a model in at
20% stays in at 50%).
"""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trading_assets.errors import ConfigError

DUAL_WRITE = "TA_LEGACY_DUAL_WRITE"
WRITE_ROOT = "TA_LEGACY_WRITE_ROOT"
READ_PREFERENCE = "TA_READ_PREFERENCE"
READ_FALLBACK = "TA_READ_FALLBACK"
ROLLOUT_PERCENT = "TA_ROLLOUT_PERCENT"
PARITY_CHECKS = "TA_PARITY_CHECKS"
FLAG_NAMES = (
    DUAL_WRITE,
    WRITE_ROOT,
    READ_PREFERENCE,
    READ_FALLBACK,
    ROLLOUT_PERCENT,
    PARITY_CHECKS,
)
# Near misses of a flag under these prefixes are typos (TA_LEGACY_DUALWRITE) and raise.
_FLAG_PREFIXES = ("TA_LEGACY_", "TA_READ_", "TA_ROLLOUT", "TA_PARITY")
_BUCKETS = 10_000  # basis points: rollouts can go in steps of 0.01%


class MigrationFlags(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dual_write: bool = False
    write_root: Path | None = None
    read_preference: Literal["new", "legacy"] = "new"  # new: new store first, legacy fallback
    read_fallback: bool = True
    rollout_percent: float = Field(default=100.0, ge=0, le=100)
    parity_checks: bool = True  # only models with an imported legacy record are checked

    @model_validator(mode="after")
    def _dual_write_needs_root(self) -> MigrationFlags:
        if self.dual_write and self.write_root is None:
            raise ValueError(f"dual_write needs write_root ({WRITE_ROOT})")
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> MigrationFlags:
        _reject_unknown(env)
        values: dict[str, object] = {}
        if (raw := _get(env, DUAL_WRITE)) is not None:
            values["dual_write"] = _on_off(DUAL_WRITE, raw)
        if (raw := _get(env, WRITE_ROOT)) is not None:
            values["write_root"] = Path(raw).expanduser()
        if (raw := _get(env, READ_PREFERENCE)) is not None:
            values["read_preference"] = _choice(READ_PREFERENCE, raw, ("new", "legacy"))
        if (raw := _get(env, READ_FALLBACK)) is not None:
            values["read_fallback"] = _on_off(READ_FALLBACK, raw)
        if (raw := _get(env, ROLLOUT_PERCENT)) is not None:
            values["rollout_percent"] = _percent(raw)
        if (raw := _get(env, PARITY_CHECKS)) is not None:
            values["parity_checks"] = _on_off(PARITY_CHECKS, raw)
        if values.get("dual_write") and values.get("write_root") is None:
            raise ConfigError(
                f"{DUAL_WRITE}=on needs a folder to write to",
                where=WRITE_ROOT,
                fix=f"set {WRITE_ROOT} to the legacy checkout, or {DUAL_WRITE}=off",
            )
        return cls(**values)

    def in_rollout(self, signature: str) -> bool:
        """Whether this model takes part in the migration steps that are switched on."""
        return in_rollout(signature, self.rollout_percent)


def in_rollout(signature: str, percent: float) -> bool:
    """Deterministic, monotone pick of `percent`% of signatures (sha256 of the signature)."""
    if not 0 <= percent <= 100:
        raise ValueError(f"percent must lie in [0, 100], got {percent}")
    digest = hashlib.sha256(signature.encode("utf-8")).digest()
    bucket = int.from_bytes(digest[:8], "big") % _BUCKETS
    return bucket < round(percent * (_BUCKETS // 100))  # whole basis points: 33.45% -> 3345


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value.strip() if value is not None and value.strip() else None


def _choice(name: str, raw: str, allowed: tuple[str, ...]) -> str:
    value = raw.lower()
    if value not in allowed:
        raise ConfigError(
            f"{name}={raw!r} is not allowed",
            where=name,
            fix=f"set {name} to one of: {', '.join(allowed)}",
        )
    return value


def _on_off(name: str, raw: str) -> bool:
    return _choice(name, raw, ("on", "off")) == "on"


def _percent(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not 0 <= value <= 100:  # also false for NaN
        raise ConfigError(
            f"{ROLLOUT_PERCENT}={raw!r} is not a percentage",
            where=ROLLOUT_PERCENT,
            fix=f"set {ROLLOUT_PERCENT} to a number from 0 to 100 (no % sign)",
        )
    return value


def _reject_unknown(env: Mapping[str, str]) -> None:
    for name in env:
        if name in FLAG_NAMES or not name.upper().startswith(_FLAG_PREFIXES):
            continue
        close = difflib.get_close_matches(name.upper(), FLAG_NAMES, n=1, cutoff=0.85)
        if close:  # a near miss of a flag is a typo; other TA_* names belong to others
            raise ConfigError(
                f"unknown migration flag {name}",
                where=name,
                fix=f"did you mean {close[0]}? known flags: {', '.join(FLAG_NAMES)}",
            )
