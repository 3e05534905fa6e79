"""The period the stored market data covers, in a small JSON sidecar beside the store.

`market_prices` writes `<store>.dates.json` ({"first": ..., "last": ...}, the earliest
and latest bar of any registered source) after it stores the bars. The Dagster
definitions read it when they load, to bound the date partitions, without opening
DuckDB: every run worker loads the definitions, and a writer may hold the store's lock.

A PostgreSQL store has no sidecar (there is no folder beside a URL, and other hosts read
it too): the coverage is the span of its `prices` table, read in one short query
(PostgreSQL readers never wait for writers).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from trading_assets.errors import StoreError
from trading_assets.store.postgres import is_postgres

SUFFIX = ".dates.json"


class Coverage(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True)

    first: dt.date
    last: dt.date


def coverage_path(store: str | Path) -> Path:
    store = Path(store)
    return store.with_name(store.name + SUFFIX)


def write_coverage(store: str | Path, coverage: Coverage) -> Path | None:
    """Write atomically (a reader in another process never sees half a file); a failed
    write (a full disk) leaves no temporary file behind and raises one StoreError;
    nothing for a PostgreSQL store, whose prices are the coverage."""
    if is_postgres(store):
        return None
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
    if is_postgres(store):
        return _stored_span(str(store))
    try:
        return Coverage.model_validate(json.loads(coverage_path(store).read_text()), strict=False)
    except (OSError, ValueError, ValidationError):
        return None


def _stored_span(url: str) -> Coverage | None:
    """The first and last bar in a PostgreSQL store's prices; None when there are none or
    the server does not answer within seconds (psycopg2, not DuckDB: no extension to load
    in every process that loads the definitions)."""
    import psycopg2

    try:
        con = psycopg2.connect(url, connect_timeout=5)
    except psycopg2.Error:
        return None
    try:
        with con.cursor() as cur:
            cur.execute("SELECT min(date), max(date) FROM prices")
            first, last = cur.fetchone()
    except psycopg2.Error:  # a store not migrated yet: no prices table
        return None
    finally:
        con.close()
    return Coverage(first=first, last=last) if first is not None else None
