"""Opening the store: a DuckDB file (the default) or a PostgreSQL database (a
`postgresql://` URL: store/postgres.py, no file lock, many writers at once).

A DuckDB file has one writer process at a time, readers read-only.

DuckDB never waits: a second read-write opener, or any opener while a writer holds
the file, fails at once (and read-only openers exclude writers). So every open here
waits instead, within one bounded deadline (`StoreWait`, 15 min by default):

1. writers take an advisory file lock on `<store>.lock` (filelock: flock on POSIX),
   which serializes our own processes: runs, the CLI, sensors;
2. then DuckDB is opened, retried while a foreign process (a notebook) holds the file.

While waiting, `StoreWait.report` is told every `report_every_s` seconds who holds the
store (its PID), so a Dagster run logs why it is not progressing. An OS-level failure
(read-only file system, disk full, permission) becomes one StoreError naming the path,
and so does a damaged file (truncated, or a block whose checksum fails), whenever DuckDB
notices it: on open or on the first read of a bad block.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
from filelock import FileLock, Timeout

from trading_assets.errors import StoreError
from trading_assets.store import postgres
from trading_assets.store.schema import MIGRATIONS, POSTGRES_MIGRATIONS

WAIT_TIMEOUT_S = 900.0  # long: a backfill's writes are short, but a notebook may linger
REPORT_EVERY_S = 30.0
_RETRY_S = 0.25
_PID_RE = re.compile(r"PID (\d+)")
# errors that mean the file system refused us, not that the store is busy
_OS_ERRORS = ("read-only", "no space", "permission denied", "disk full", "quota")
# errors that mean the file's bytes are not a whole DuckDB database
_DAMAGE = ("corrupt", "could not read enough bytes", "not a valid duckdb", "checksum")


@dataclass(frozen=True)
class StoreWait:
    """How long an open may wait for the store, and where the waiting is reported."""

    timeout_s: float | None = None  # None: WAIT_TIMEOUT_S (read when opening)
    report_every_s: float = REPORT_EVERY_S
    report: Callable[[str], None] | None = None  # e.g. a Dagster run's context.log.info

    def deadline(self) -> float:
        timeout = WAIT_TIMEOUT_S if self.timeout_s is None else self.timeout_s
        return time.monotonic() + timeout

    def tell(self, message: str) -> None:
        if self.report is not None:
            self.report(message)


NO_WAIT_REPORT = StoreWait()


@contextmanager
def file_lock(path: Path, wait: StoreWait = NO_WAIT_REPORT) -> Iterator[None]:
    """An advisory lock on `<store>.lock`, or a StoreError after `wait`'s timeout."""
    lock_path = path.with_name(path.name + ".lock")
    lock = FileLock(lock_path, poll_interval=0.02)
    deadline, waited = wait.deadline(), time.monotonic()
    while True:
        left = deadline - time.monotonic()
        try:
            lock.acquire(timeout=max(0.0, min(left, wait.report_every_s)))
            break
        except Timeout:
            if left <= wait.report_every_s:
                raise StoreError(
                    f"waited {time.monotonic() - waited:.0f} s for the store lock "
                    f"(held by PID {lock_holder(lock_path) or 'unknown'})",
                    where=str(lock_path),
                    fix="another trading-assets process is writing; wait for it to finish",
                ) from None
            wait.tell(
                f"waiting for the store lock {lock_path}: held by PID "
                f"{lock_holder(lock_path) or 'unknown'} for {time.monotonic() - waited:.0f} s"
            )
        except OSError as exc:  # cannot even create the lock file
            raise _os_error(exc, lock_path) from None
    try:
        yield
    finally:
        lock.release()


def lock_holder(lock_path: Path) -> int | None:
    """The PID holding a flock on `lock_path`, from /proc/locks (Linux); None if unknown."""
    try:
        inode = os.stat(lock_path).st_ino
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split()
        if len(fields) > 5 and fields[1] == "FLOCK" and fields[5].endswith(f":{inode}"):
            return int(fields[4])
    return None


def store_location(location: str | Path) -> Path | str:
    """A store location as the store keeps it: a PostgreSQL URL as given, a DuckDB
    file's path resolved."""
    return str(location) if postgres.is_postgres(location) else Path(location).resolve()


@contextmanager
def connect(
    path: Path | str, *, read_only: bool = False, wait: StoreWait = NO_WAIT_REPORT
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A short-lived connection to the store, migrated to the latest schema.

    read_only: for commands that only read; works on a read-only file or file system,
    and a missing store reads as an empty one. A PostgreSQL URL opens that database."""
    if postgres.is_postgres(path):
        with _postgres(str(path), read_only) as con:
            yield con
        return
    path = Path(path)
    if read_only:
        with _read_only(path, wait) as con:
            yield con
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _os_error(exc, path.parent) from None
    with file_lock(path, wait):
        con = _open(path, wait, read_only=False)
        try:
            migrate(con)
            yield con
        except (duckdb.Error, OSError) as exc:
            # a failed write or commit (duckdb raises IO, Transaction or Fatal errors)
            if isinstance(exc, OSError) or _refused_by_os(exc) or _damaged(exc):
                raise _os_error(exc, path) from None
            raise
        finally:
            con.close()


@contextmanager
def _read_only(path: Path, wait: StoreWait) -> Iterator[duckdb.DuckDBPyConnection]:
    if not path.exists():  # nothing stored yet: the empty schema
        con = duckdb.connect(":memory:")
        migrate(con)
    else:
        con = _open(path, wait, read_only=True)
        if _pending(con):  # an older schema: migrate once, read again
            con.close()
            with connect(path, wait=wait):
                pass
            con = _open(path, wait, read_only=True)
    try:
        yield con
    except duckdb.Error as exc:
        if _damaged(exc):
            raise _os_error(exc, path) from None
        raise
    finally:
        con.close()


@contextmanager
def _postgres(url: str, read_only: bool) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection to the PostgreSQL store, migrated first when a migration is missing
    (one migrator at a time under an advisory lock; a reader asks a writer to)."""
    con = None
    try:
        con = postgres.open_cursor(url, read_only=read_only)
        applied = _applied(con)
        if applied and max(applied) > MIGRATIONS[-1][0]:
            raise _newer(max(applied))
        if any(version not in applied for version, _, _ in MIGRATIONS):
            if not read_only:
                with postgres.migration_lock(url):
                    migrate(con, on_postgres=True)  # re-reads what is applied, under the lock
            else:  # a reader: a writer migrates, then it reads
                con.close()
                with _postgres(url, read_only=False):
                    pass
                con = postgres.open_cursor(url, read_only=True)
    except BaseException as exc:
        if con is not None:
            con.close()
        if isinstance(exc, duckdb.Error):
            raise _postgres_error(exc, url) from None
        raise
    try:
        yield con
    except duckdb.Error as exc:  # e.g. a read-only role or server, a full disk
        if _refused_by_os(exc):
            raise _postgres_error(exc, url) from None
        raise
    finally:
        con.close()


def _postgres_error(exc: BaseException, url: str) -> StoreError:
    where = postgres.redacted(url)
    if _refused_by_os(exc):
        return _os_error(exc, where)
    text = postgres.redacted(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    return StoreError(
        f"cannot use the PostgreSQL store: {text}",
        where=where,
        fix="check the URL (postgresql://user@host:port/database), that the server is "
        "running and the database exists (createdb)",
    )


def _open(path: Path, wait: StoreWait, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    deadline, started, reported = wait.deadline(), time.monotonic(), time.monotonic()
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise _os_error(exc, path) from None
            holder = _PID_RE.search(str(exc))
            who = f"PID {holder.group(1)}" if holder else "another process"
            if time.monotonic() > deadline:
                raise StoreError(
                    f"cannot open the store: held by {who} for "
                    f"{time.monotonic() - started:.0f} s ({exc})",
                    where=str(path),
                    fix="close other programs (notebooks) holding the DuckDB file open, "
                    "or read a copy of it",
                ) from None
            if time.monotonic() - reported >= wait.report_every_s:
                reported = time.monotonic()
                wait.tell(
                    f"waiting for the store {path}: held by {who} for {reported - started:.0f} s"
                )
            time.sleep(_RETRY_S)


def _refused_by_os(exc: BaseException) -> bool:
    return any(word in str(exc).lower() for word in _OS_ERRORS)


def _damaged(exc: BaseException) -> bool:
    return any(word in str(exc).lower() for word in _DAMAGE)


def _os_error(exc: BaseException, path: Path | str) -> StoreError:
    """The file system refused a read or write: one line naming the path and the fix."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        text = exc.strerror
    lower = text.lower()
    if any(word in lower for word in _DAMAGE):
        text = f"the file is damaged ({text})"
        fix = (
            "restore it from a backup, or move it aside and run the backfill (and "
            "import-legacy) again to rebuild it"
        )
    elif "no space" in lower or "disk full" in lower or "quota" in lower:
        fix = "free disk space (or move the store with --store); stored results are intact"
    elif any(word in lower for word in _OS_ERRORS):
        fix = "make the store writable, or point --store at a writable copy; "
        fix += "read commands (leaderboard, results, status) work on a read-only store"
    else:
        fix = "check the store path and its file system"
    return StoreError(f"cannot use the store: {text}", where=str(path), fix=fix)


def _applied(con: duckdb.DuckDBPyConnection) -> set[int]:
    """The versions of the migrations applied to the store (none: a new store)."""
    try:
        return {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
    except duckdb.CatalogException:
        return set()


def _pending(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether any migration is not applied yet (a read-only open then migrates once)."""
    applied = _applied(con)
    return any(version not in applied for version, _, _ in MIGRATIONS)


def _newer(current: int) -> StoreError:
    return StoreError(
        f"store schema version {current} is newer than this trading_assets ({MIGRATIONS[-1][0]})",
        fix="upgrade trading_assets, or point --store at another file",
    )


def migrate(con: duckdb.DuckDBPyConnection, *, on_postgres: bool = False) -> int:
    """Apply pending migrations; return the schema version. On PostgreSQL (the caller
    holds the migration lock) all pending migrations run in one transaction."""
    if on_postgres:
        con.execute("BEGIN")
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version INTEGER PRIMARY KEY, name VARCHAR, applied_at TIMESTAMP DEFAULT now())"
    )
    # fetchall: DuckDB refuses register() while a result is only partly fetched
    applied = {v for (v,) in con.execute("SELECT version FROM schema_migrations").fetchall()}
    latest = MIGRATIONS[-1][0]
    if applied and max(applied) > latest:
        raise _newer(max(applied))
    # every missing version, in order: a store made by a build that had a later
    # migration but not an earlier one still gets the earlier one
    for version, name, sql in MIGRATIONS:
        if version not in applied:
            if not on_postgres:
                con.execute("BEGIN")
            if on_postgres:
                sql = POSTGRES_MIGRATIONS.get(version) or postgres.for_postgres(sql)
            con.execute(sql)
            con.execute(
                "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, name]
            )
            if not on_postgres:
                con.execute("COMMIT")
    if on_postgres:
        con.execute("COMMIT")
    return latest
