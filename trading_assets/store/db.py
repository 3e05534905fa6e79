"""Opening the DuckDB file: one writer process at a time.

DuckDB allows one read-write process per file, and even a read-only opener fails while
a writer holds it. Every process of ours takes an advisory file lock around a short
connection (compute first, connect only to read or write), and retries while a foreign
process (a notebook) holds the file.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from trading_assets.errors import StoreError
from trading_assets.store.schema import MIGRATIONS

LOCK_TIMEOUT_S = 300.0
FOREIGN_RETRY_S = 30.0


@contextmanager
def file_lock(path: Path, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """An advisory lock on `<store>.lock` (filelock: flock on POSIX), or a StoreError."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        with FileLock(lock_path, timeout=timeout, poll_interval=0.02):
            yield
    except Timeout:
        raise StoreError(
            f"waited {timeout:.0f} s for the store lock",
            where=str(lock_path),
            fix="another trading-assets process is writing; wait for it to finish",
        ) from None


@contextmanager
def connect(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection to the store, migrated to the latest schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path):
        con = _open(path)
        try:
            migrate(con)
            yield con
        finally:
            con.close()


def _open(path: Path) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + FOREIGN_RETRY_S
    while True:
        try:
            return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise StoreError(
                    f"cannot open the store: {exc}",
                    where=str(path),
                    fix="close other programs (notebooks) holding the DuckDB file open, "
                    "or read a copy of it",
                ) from exc
            time.sleep(0.5)


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply pending migrations; return the schema version."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP DEFAULT now())"
    )
    # fetchall: DuckDB refuses register() while a result is only partly fetched
    [(current,)] = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()
    latest = MIGRATIONS[-1][0]
    if current > latest:
        raise StoreError(
            f"store schema version {current} is newer than this trading_assets ({latest})",
            fix="upgrade trading_assets, or point --store at another file",
        )
    for version, name, sql in MIGRATIONS:
        if version > current:
            con.execute("BEGIN")
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
            )
            con.execute("COMMIT")
    return latest
