"""The analytics tables downstream of the model-days: daily_portfolio and leaderboard."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import duckdb
import pandas as pd

from trading_assets.analytics.metrics import running_peak
from trading_assets.store.results import ResultStore, counted_day
from trading_assets.store.schema import MIGRATIONS

# A day's exposure: the share of its value held in positions (0 for an empty book). The
# one home of the rule: daily_portfolio stores it and the metrics average it.
EXPOSURE_SQL = "coalesce(d.positions_value / nullif(d.portfolio_value, 0), 0)"

# Each counted model-day's value, exposure and positions; the running peak and drawdown
# are added in Python by analytics/metrics.py's `underwater` (the one home of a drawdown).
DAILY_PORTFOLIO_SQL = f"""
SELECT d.model, d.date, d.portfolio_value, d.cumulative_return,
       {EXPOSURE_SQL} AS exposure,
       coalesce(h.n_positions, 0) AS n_positions,
       d.contract_version
FROM model_days d
LEFT JOIN (SELECT model, date, count(*) AS n_positions FROM holdings GROUP BY ALL) h
    USING (model, date)
WHERE {counted_day("d")}
ORDER BY d.model, d.date
"""
DAILY_PORTFOLIO_COLUMNS = (
    "model", "date", "portfolio_value", "cumulative_return", "running_peak", "drawdown",
    "exposure", "n_positions", "contract_version",
)  # fmt: skip


def rebuild_daily_portfolio(store: ResultStore) -> tuple[int, int]:
    """Rebuild daily_portfolio from every model-day that counts; return (rows, models).
    A model's running peak starts at its initial cash (as `max_drawdown`'s does)."""
    initial = {s.signature: s.initial_cash for s in store.model_specs()}
    frame = store.query(DAILY_PORTFOLIO_SQL)
    peaks = [
        running_peak(group["portfolio_value"], initial.get(model))
        for model, group in frame.groupby("model", sort=False)
    ]
    frame["running_peak"] = pd.concat(peaks) if peaks else pd.Series(dtype=float)
    frame["drawdown"] = 1.0 - frame["portfolio_value"] / frame["running_peak"]
    with store.connect() as con:
        con.register("incoming", frame[list(DAILY_PORTFOLIO_COLUMNS)])
        replace_table(
            con,
            "daily_portfolio",
            "SELECT model, CAST(date AS DATE) AS date, "
            "portfolio_value, cumulative_return, CAST(running_peak AS DOUBLE) AS running_peak, "
            "CAST(drawdown AS DOUBLE) AS drawdown, exposure, n_positions, contract_version "
            "FROM incoming ORDER BY model, date",
        )
    return len(frame), int(frame["model"].nunique())


def replace_leaderboard(store: ResultStore, frame: pd.DataFrame) -> None:
    with store.connect() as con:
        con.register("incoming", frame)
        replace_table(con, "leaderboard", "SELECT * FROM incoming")


def replace_table(con: duckdb.DuckDBPyConnection, table: str, select: str) -> None:
    """Make `table` hold `select`'s rows. When the table already has exactly its columns
    (names and types), its rows are replaced (DELETE and INSERT in one transaction), never
    the table: on the PostgreSQL store, dropping a table (CREATE OR REPLACE) needs an
    ACCESS EXCLUSIVE lock, which waits for every open transaction that has read it, so a
    notebook holding a transaction open would stall the backfill's last step for as long
    as it held it; a row replacement waits for no reader (each keeps its snapshot). Other
    columns (a new model parameter in the leaderboard): the table is created again, as
    before. `table` and `select` are our own SQL, never user input."""
    wanted = _shape(con, select)
    con.execute("BEGIN")
    try:
        if _shape(con, f"SELECT * FROM {table}") == wanted:
            con.execute(f"DELETE FROM {table}")
            con.execute(f"INSERT INTO {table} {select}")
        else:
            con.execute(f"CREATE OR REPLACE TABLE {table} AS {select}")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _shape(con: duckdb.DuckDBPyConnection, select: str) -> list[tuple[str, str]] | None:
    """(column, DuckDB type) of what `select` returns; None when its table does not exist."""
    try:
        return [(name, kind) for name, kind, *_ in con.execute(f"DESCRIBE {select}").fetchall()]
    except duckdb.CatalogException:
        return None


def completed_days(store: ResultStore, models: Sequence[str]) -> int:
    """How many of `models`' model-days are stored and count (store/results.py: counted_day)."""
    frame = store.query(
        f"SELECT count(*) AS n FROM model_days WHERE list_contains(?, model) AND {counted_day()}",
        [list(models)],
    )
    return int(frame["n"].iloc[0])


def table_shape(store: ResultStore, table: str) -> tuple[list[tuple[str, str]], int]:
    """A store table's (column, DuckDB type) list and its row count (the UI's table
    metadata). `table` is one of our own table names, never user input."""
    with store.connect() as con:
        columns = _columns(con, table)
        (rows,) = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    return list(columns), int(rows)


@functools.cache
def migrated_columns(table: str) -> tuple[tuple[str, str], ...]:
    """A table's columns as the migrations create it, from an in-memory database: no
    store file is opened (definitions load while a run may hold the file's lock)."""
    con = duckdb.connect(":memory:")
    try:
        for _, _, sql in MIGRATIONS:
            con.execute(sql)
        return _columns(con, table)
    finally:
        con.close()


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> tuple[tuple[str, str], ...]:
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? AND table_catalog = current_database() "
        "AND table_schema = current_schema() ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return tuple((name, kind) for name, kind in rows)
