"""Warnings the commands and their worker processes do not show (no Dagster import)."""

from __future__ import annotations

import warnings


def quiet_warnings() -> None:
    """Dagster's beta/preview warnings about our own definitions: noise for CLI users."""
    warnings.filterwarnings("ignore", message=r".*(beta|preview).*", category=Warning)
