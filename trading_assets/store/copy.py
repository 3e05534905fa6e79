"""Move a DuckDB file's contents into another store (e.g. a new PostgreSQL database).

DuckDB attaches the file read-only beside the target store and copies every table in
one transaction: `INSERT ... BY NAME` into the target's migrated tables, and `CREATE
TABLE AS` for the tables the analytics assets create (daily_portfolio, leaderboard).
Stop the writers of the file first (a writer's lock refuses the read-only attach).
"""

from __future__ import annotations

from pathlib import Path

from trading_assets.errors import StoreError
from trading_assets.store.db import connect

_TABLES = (
    "SELECT table_name FROM information_schema.tables WHERE table_catalog = ? "
    "AND table_schema = ? AND table_type = 'BASE TABLE' ORDER BY 1"
)


def copy_store(source: str | Path, target: str | Path) -> dict[str, int]:
    """Copy every table of the DuckDB file `source` into the store `target`, which must
    hold no results yet; return the rows copied per table."""
    source = Path(source).resolve()
    if not source.exists():
        raise StoreError("no such store file", where=str(source), fix="check the path")
    copied = {}
    with connect(target) as con:
        if con.execute("SELECT count(*) FROM models").fetchone()[0]:
            raise StoreError(
                "the target store already has models",
                where=str(target),
                fix="copy into a new, empty database (createdb)",
            )
        here = con.execute("SELECT current_database(), current_schema()").fetchone()
        quoted = str(source).replace("'", "''")
        con.execute(f"ATTACH '{quoted}' AS old (READ_ONLY)")
        try:
            mine = {r[0] for r in con.execute(_TABLES, list(here)).fetchall()}
            theirs = [r[0] for r in con.execute(_TABLES, ["old", "main"]).fetchall()]
            con.execute("BEGIN")
            for table in theirs:  # names from the file's catalog, not from the user
                if table == "schema_migrations":
                    continue
                if table in mine:
                    con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM old.{table}")
                else:
                    con.execute(f"CREATE TABLE {table} AS SELECT * FROM old.{table}")
                copied[table] = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            con.execute("COMMIT")
        finally:
            con.execute("DETACH old")
    return copied
