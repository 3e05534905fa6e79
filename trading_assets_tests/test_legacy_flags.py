"""Migration flags: parsed from a mapping with clear errors; rollouts hash the signature.

The rollout pick is pinned to sha256 values so it stays the same across processes,
platforms and releases, and is property-tested to be monotone in the percentage.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from trading_assets.errors import ConfigError
from trading_assets.legacy.flags import MigrationFlags, in_rollout


def test_from_env_with_empty_mapping_gives_safe_defaults() -> None:
    flags = MigrationFlags.from_env({})
    assert flags == MigrationFlags(
        dual_write=False,
        write_root=None,
        read_preference="new",
        read_fallback=True,
        rollout_percent=100.0,
        parity_checks=True,
    )
    assert MigrationFlags.from_env({"TA_LEGACY_DUAL_WRITE": "  ", "PATH": "/bin"}) == flags


def test_from_env_with_every_flag_set_parses_case_insensitively(tmp_path: Path) -> None:
    flags = MigrationFlags.from_env(
        {
            "TA_LEGACY_DUAL_WRITE": "ON",
            "TA_LEGACY_WRITE_ROOT": str(tmp_path),
            "TA_READ_PREFERENCE": "Legacy",
            "TA_READ_FALLBACK": "off",
            "TA_ROLLOUT_PERCENT": "20",
            "TA_PARITY_CHECKS": "on",
            "TA_STORE_PATH": "/elsewhere",  # someone else's variable: ignored
        }
    )
    assert flags.dual_write and flags.parity_checks and not flags.read_fallback
    assert (flags.write_root, flags.read_preference, flags.rollout_percent) == (
        tmp_path,
        "legacy",
        20.0,
    )
    with pytest.raises(ValidationError):
        flags.dual_write = False  # type: ignore[misc]  # frozen


@pytest.mark.parametrize(
    ("env", "variable", "allowed"),
    [
        ({"TA_LEGACY_DUAL_WRITE": "yes"}, "TA_LEGACY_DUAL_WRITE", "on, off"),
        ({"TA_READ_PREFERENCE": "old"}, "TA_READ_PREFERENCE", "new, legacy"),
        ({"TA_READ_FALLBACK": "1"}, "TA_READ_FALLBACK", "on, off"),
        ({"TA_PARITY_CHECKS": "true"}, "TA_PARITY_CHECKS", "on, off"),
        ({"TA_ROLLOUT_PERCENT": "150"}, "TA_ROLLOUT_PERCENT", "0 to 100"),
        ({"TA_ROLLOUT_PERCENT": "20%"}, "TA_ROLLOUT_PERCENT", "0 to 100"),
        ({"TA_ROLLOUT_PERCENT": "nan"}, "TA_ROLLOUT_PERCENT", "0 to 100"),
        ({"TA_LEGACY_DUAL_WRITE": "on"}, "TA_LEGACY_WRITE_ROOT", "TA_LEGACY_WRITE_ROOT"),
        ({"TA_LEGACY_DUALWRITE": "on"}, "TA_LEGACY_DUALWRITE", "TA_LEGACY_DUAL_WRITE"),
    ],
)
def test_from_env_with_bad_value_raises_naming_variable_and_allowed_values(
    env: dict[str, str], variable: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        MigrationFlags.from_env(env)
    assert caught.value.where == variable
    assert allowed in (caught.value.fix or "")


def test_migration_flags_with_dual_write_and_no_root_is_invalid() -> None:
    with pytest.raises(ValidationError, match="write_root"):
        MigrationFlags(dual_write=True)


def test_in_rollout_with_known_signatures_is_pinned_to_sha256() -> None:
    # Buckets (first 8 sha256 bytes mod 10,000): gpt-5 3345, gemini-2.5-flash 2510,
    # qwen3-max 4001, claude-3.7-sonnet 6561. Changing the hash would move models.
    digest = hashlib.sha256(b"gpt-5").digest()
    assert int.from_bytes(digest[:8], "big") % 10_000 == 3345
    assert not in_rollout("gpt-5", 33.45) and in_rollout("gpt-5", 33.46)
    at_40 = [
        s
        for s in ("gpt-5", "gemini-2.5-flash", "qwen3-max", "claude-3.7-sonnet")
        if in_rollout(s, 40)
    ]
    assert at_40 == ["gpt-5", "gemini-2.5-flash"]
    assert MigrationFlags(rollout_percent=40).in_rollout("qwen3-max") is False


def test_in_rollout_with_edges_picks_nobody_or_everybody() -> None:
    names = [f"model-{n}" for n in range(2000)]
    assert not any(in_rollout(n, 0) for n in names)
    assert all(in_rollout(n, 100) for n in names)
    share = sum(in_rollout(n, 25) for n in names) / len(names)
    assert 0.21 < share < 0.29
    with pytest.raises(ValueError):
        in_rollout("gpt-5", 101)


@given(
    signature=st.text(min_size=1, max_size=40),
    low=st.floats(0, 100),
    high=st.floats(0, 100),
)
def test_in_rollout_with_any_signature_is_monotone_in_percent(
    signature: str, low: float, high: float
) -> None:
    low, high = min(low, high), max(low, high)
    assert in_rollout(signature, low) <= in_rollout(signature, high)
