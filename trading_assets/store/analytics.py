"""The analytics tables downstream of the model-days: daily_portfolio and leaderboard."""

from __future__ import annotations

import functools
from collections.abc import Sequence

import duckdb
import pandas as pd

from trading_assets.store.results import ResultStore
from trading_assets.store.schema import MIGRATIONS

# A day's exposure: the share of its value held in positions (0 for an empty book). The
# one home of the rule: daily_portfolio stores it and the metrics average it.
EXPOSURE_SQL = "coalesce(d.positions_value / nullif(d.portfolio_value, 0), 0)"

# Running peak and drawdown per model over its whole history, in one statement.
DAILY_PORTFOLIO_SQL = f"""
CREATE OR REPLACE TABLE daily_portfolio AS
SELECT d.model, d.date, d.portfolio_value, d.cumulative_return,
       max(d.portfolio_value) OVER w AS running_peak,
       1 - d.portfolio_value / max(d.portfolio_value) OVER w AS drawdown,
       {EXPOSURE_SQL} AS exposure,
       coalesce(h.n_positions, 0) AS n_positions,
       d.contract_version
FROM model_days d
LEFT JOIN (SELECT model, date, count(*) AS n_positions FROM holdings GROUP BY ALL) h
    USING (model, date)
WHERE d.status <> 'failed'
WINDOW w AS (PARTITION BY d.model ORDER BY d.date
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
ORDER BY d.model, d.date
"""


def rebuild_daily_portfolio(store: ResultStore) -> tuple[int, int]:
    """Rebuild daily_portfolio from every model-day; return (rows, models)."""
    with store.connect() as con:
        con.execute(DAILY_PORTFOLIO_SQL)
        (rows, models) = con.execute(
            "SELECT count(*), count(DISTINCT model) FROM daily_portfolio"
        ).fetchone()
    return rows, models


def replace_leaderboard(store: ResultStore, frame: pd.DataFrame) -> None:
    with store.connect() as con:
        con.register("incoming", frame)
        con.execute("CREATE OR REPLACE TABLE leaderboard AS SELECT * FROM incoming")


def completed_days(store: ResultStore, models: Sequence[str]) -> int:
    """How many of `models`' model-days are stored and not failed."""
    frame = store.query(
        "SELECT count(*) AS n FROM model_days WHERE list_contains(?, model) AND status <> 'failed'",
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
