"""The period the stored market data covers, in a small JSON sidecar beside the store.

`market_prices` writes `<store>.dates.json` ({"first": ..., "last": ...}, the earliest
and latest bar of any registered source) after it stores the bars. The Dagster
definitions read it when they load, to bound the date partitions, without opening
DuckDB: every run worker loads the definitions, and a writer may hold the store's lock.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from trading_assets.errors import StoreError

SUFFIX = ".dates.json"


class Coverage(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True)

    first: dt.date
    last: dt.date


def coverage_path(store: str | Path) -> Path:
    store = Path(store)
    return store.with_name(store.name + SUFFIX)


def write_coverage(store: str | Path, coverage: Coverage) -> Path:
    """Write atomically (a reader in another process never sees half a file); a failed
    write (a full disk) leaves no temporary file behind and raises one StoreError."""
    path = coverage_path(store)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(coverage.model_dump_json())
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(
            f"cannot write the market data's date span: {exc.strerror or exc}",
            where=str(path),
            fix="free disk space (or move the store with --store); stored results are intact",
        ) from None
    return path


def read_coverage(store: str | Path) -> Coverage | None:
    """The sidecar's coverage; None when there is none (no prices stored yet) or it is
    unreadable (the partitions then fall back to their full default span)."""
    try:
        return Coverage.model_validate(json.loads(coverage_path(store).read_text()), strict=False)
    except (OSError, ValueError, ValidationError):
        return None
