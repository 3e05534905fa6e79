"""Warnings the commands and their worker processes do not show (no Dagster import)."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager


def quiet_warnings() -> None:
    """Dagster's beta/preview warnings about our own definitions: noise for CLI users."""
    warnings.filterwarnings("ignore", message=r".*(beta|preview).*", category=Warning)


@contextmanager
def quiet_children() -> Iterator[None]:
    """The step processes a run starts meanwhile import the code location anew: without
    this their Dagster beta/preview notices fill the terminal. Restored afterwards, so
    the command's own environment is left as it was."""
    before = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = "ignore"
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = before
