"""The store in PostgreSQL: the same SQL, run by DuckDB on tables that live in PostgreSQL.

A store location that is a PostgreSQL URL (`postgresql://user@host:5432/db`, libpq's
syntax: a password is better kept in PGPASSWORD or ~/.pgpass than in the URL) selects
this backend. Each process keeps one in-memory DuckDB database per (URL, read-only) with
DuckDB's postgres extension loaded and the database attached as `store`; a connection is
a cursor on it (its own transaction), so opening one costs a few milliseconds instead of
the extension's load (about 0.3 s). Every statement of store/ runs unchanged: DuckDB
plans it and reads or writes the PostgreSQL tables (its transactions are PostgreSQL's,
REPEATABLE READ). There is no file lock: PostgreSQL serializes writers per row, a model's
write deletes and inserts its own rows only, and readers never wait for writers.

The extension comes from the `duckdb-extension-postgres` package, which ships it as
`postgres.duckdb_extension`; DuckDB's loader derives the entry point from the file name
and expects `postgres_scanner`, so it is linked under that name in a per-user cache
folder and loaded from there, offline (nothing is downloaded).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

ALIAS = "store"  # the attached database's name in DuckDB (postgres_execute needs it)
SCHEMES = ("postgresql://", "postgres://")
_LOADER_NAME = "postgres_scanner.duckdb_extension"
_PASSWORD = re.compile(r"(://[^:/@]+):[^@/]*@")
# one migrator at a time, on every host: pg_advisory_lock's key (any fixed bigint)
_MIGRATION_LOCK = 0x7472_6164_6573  # "trades"
_databases: dict[tuple[str, bool], duckdb.DuckDBPyConnection] = {}  # this process's


def is_postgres(location: str | Path) -> bool:
    return str(location).startswith(SCHEMES)


# DuckDB type names PostgreSQL spells otherwise (ALTER TABLE ... ADD COLUMN passes the
# name through as written; CREATE TABLE is translated by the extension itself)
_PG_TYPES = {"DOUBLE": "double precision", "FLOAT": "real", "BLOB": "bytea"}
_ADD_COLUMN = re.compile(
    r"ALTER\s+TABLE\s+(\w+)\s+ADD\s+COLUMN\s+(\w+)\s+([A-Za-z]+)((?:\[\])?[^;]*);", re.I
)


def for_postgres(migration: str) -> str:
    """A migration as PostgreSQL runs it: each `ALTER TABLE t ADD COLUMN c TYPE ...` goes
    to PostgreSQL itself (postgres_execute, in the migration's transaction) with the
    type in PostgreSQL's name, since the extension refuses a DEFAULT there and passes
    DuckDB's type names (DOUBLE) through untranslated; then the extension's cached
    schema is dropped, so the column is seen. The rest runs as written."""

    def add_column(m: re.Match) -> str:
        table, column, kind, rest = m.groups()
        ddl = f"ALTER TABLE {table} ADD COLUMN {column} {_PG_TYPES.get(kind.upper(), kind)}{rest}"
        quoted = ddl.strip().replace("'", "''")
        # then DuckDB forgets its cached schema, so later statements see the new column
        return f"CALL postgres_execute('{ALIAS}', '{quoted}'); CALL pg_clear_cache();"

    return _ADD_COLUMN.sub(add_column, migration)


def redacted(url: str) -> str:
    """The URL without its password (for messages)."""
    return _PASSWORD.sub(r"\1:***@", url)


def extension_path() -> Path:
    """The packaged postgres extension under the file name DuckDB's loader expects."""
    import duckdb_extension_postgres

    version = duckdb.__version__
    shipped = (
        Path(duckdb_extension_postgres.__file__).parent
        / "extensions"
        / f"v{version}"
        / "postgres.duckdb_extension"
    )
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    link = cache / "trading_assets" / f"duckdb-{version}" / _LOADER_NAME
    if not link.exists() or link.resolve() != shipped.resolve():
        link.parent.mkdir(parents=True, exist_ok=True)
        tmp = link.with_name(f".{link.name}.{os.getpid()}")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(shipped)
        tmp.replace(link)  # atomic: a concurrent process sees the old link or the new one
    return link


def open_cursor(url: str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A new connection (its own transaction) to the store at `url`, `store` in use."""
    key = (url, read_only)
    database = _databases.get(key)
    if database is None:
        database = duckdb.connect(
            ":memory:",
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False},
        )
        try:
            database.execute(f"LOAD '{extension_path()}'")
            quoted = url.replace("'", "''")
            mode = ", READ_ONLY" if read_only else ""
            database.execute(f"ATTACH '{quoted}' AS {ALIAS} (TYPE postgres{mode})")
        except BaseException:
            database.close()
            raise
        _databases[key] = database
    cursor = database.cursor()
    cursor.execute(f"USE {ALIAS}")
    return cursor


def release(url: str) -> None:
    """Close this process's connections to `url` (e.g. before PostgreSQL copies or drops
    the database, which needs it unused)."""
    for read_only in (False, True):
        database = _databases.pop((url, read_only), None)
        if database is not None:
            database.close()


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """PostgreSQL's advisory lock for migrations, held on a connection of its own while
    the caller migrates in its own (later, so fresh-snapshot) transaction: two hosts
    opening a new store at once migrate it once."""
    import psycopg2

    lock = psycopg2.connect(url)
    try:
        lock.autocommit = True
        with lock.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", [_MIGRATION_LOCK])
        yield
    finally:
        lock.close()  # ends the session, and its lock with it


def _forget_inherited() -> None:
    """A forked child must not use (or close) its parent's PostgreSQL connections: keep
    them referenced and unused, and open its own."""
    _inherited.extend(_databases.values())
    _databases.clear()


_inherited: list[duckdb.DuckDBPyConnection] = []
os.register_at_fork(after_in_child=_forget_inherited)
