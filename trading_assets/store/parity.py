"""The store side of legacy parity: the imported legacy lines, stored rows, recorded outcomes.

Plain rows in, plain rows out: `legacy/parity.py` owns the comparison; this module owns
its SQL. Every function works on a connection the caller opened (one per run).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb
import pandas as pd

from trading_assets.config import ModelSpec, source_id
from trading_assets.store.results import ResultStore, read_spec

_IN_DATES = "model = ? AND list_contains(?::DATE[], date)"
_INSERT_RESULTS = (
    "INSERT INTO parity_results (model, check_name, run_id, checked_at, date, passed, n_diffs) "
    "SELECT ?, ?, ?, ?, unnest(?::DATE[]), unnest(?::BOOLEAN[]), unnest(?::INTEGER[])"
)
_INSERT_DIFFS = (
    "INSERT INTO parity_diffs (model, check_name, run_id, recorded_at, date, field, legacy_value, "
    "new_value) SELECT ?, ?, ?, ?, unnest(?::DATE[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
    "unnest(?::VARCHAR[])"
)


def stored_parity_inputs(
    store: ResultStore, model: str, dates: list[dt.date], tables: Sequence[str]
) -> tuple[list[tuple], dict, dict[str, dict[dt.date, list[dict]]]]:
    """legacy_lines of `dates` and the stored rows of `tables` per date, on one connection."""
    with store.connect() as con:
        lines, closes = legacy_lines(con, read_spec(con, model, store.path), dates)
        return lines, closes, {t: stored_rows(con, t, model, dates) for t in tables}


def record_parity_now(store: ResultStore, model: str, check_name: str, *args) -> None:
    """`record_parity` in a transaction of its own."""
    with store.connect() as con:
        con.execute("BEGIN")
        record_parity(con, model, check_name, *args)
        con.execute("COMMIT")


def has_legacy_record(con: duckdb.DuckDBPyConnection, model: str) -> bool:
    """Whether an import stored legacy position lines for `model` (parity has a reference)."""
    row = con.execute("SELECT count(*) FROM legacy_positions WHERE model = ?", [model]).fetchone()
    return bool(row and row[0])


def legacy_lines(
    con: duckdb.DuckDBPyConnection, spec: ModelSpec, dates: Sequence[dt.date]
) -> tuple[list[tuple], dict[tuple[dt.date, str], float | None]]:
    """The imported lines on `dates` (date, id, action, symbol, amount, cash, positions JSON)
    in id order, and the closes of the model's market data on those dates."""
    lines = con.execute(
        "SELECT date, id, action, symbol, amount, cash, positions FROM legacy_positions "
        f"WHERE {_IN_DATES} ORDER BY date, id",
        [spec.signature, list(dates)],
    ).fetchall()
    closes = {
        (d, s): c
        for d, s, c in con.execute(
            "SELECT date, symbol, close FROM prices "
            "WHERE source = ? AND list_contains(?::DATE[], date)",
            [source_id(spec.market_data), list(dates)],
        ).fetchall()
    }
    return lines, closes


def stored_rows(
    con: duckdb.DuckDBPyConnection, table: str, model: str, dates: list[dt.date]
) -> dict[dt.date, list[dict]]:
    """Rows of a result table (a constant name) per date; orders in their sequence."""
    order = "date, seq" if table == "orders" else "date"
    cur = con.execute(f"SELECT * FROM {table} WHERE {_IN_DATES} ORDER BY {order}", [model, dates])
    names = [c[0] for c in cur.description]
    out: dict[dt.date, list[dict]] = {}
    for row in cur.fetchall():
        record = dict(zip(names, row, strict=True))
        out.setdefault(record["date"], []).append(record)
    return out


def record_parity(
    con: duckdb.DuckDBPyConnection,
    model: str,
    check_name: str,
    dates: Sequence[dt.date],
    results: Sequence[tuple],
    diffs: Sequence[tuple],
    run_id: str | None,
    now: dt.datetime,
) -> None:
    """Replace the outcomes on `dates`: results (date, passed, n_diffs) and diffs
    (date, field, legacy text, new text). The caller owns the transaction."""
    for table in ("parity_results", "parity_diffs"):  # constant names, values bound
        con.execute(
            f"DELETE FROM {table} WHERE {_IN_DATES} AND check_name = ?",
            [model, list(dates), check_name],
        )
    for sql, rows in ((_INSERT_RESULTS, results), (_INSERT_DIFFS, diffs)):
        if rows:
            con.execute(sql, [model, check_name, run_id, now, *map(list, zip(*rows, strict=True))])


def parity_tables(store: ResultStore, check_name: str) -> tuple[pd.DataFrame, ...]:
    """Per model: days checked, passed, failed, last check and first failing date; and
    the diffs recorded on each model's first failing date."""
    with store.connect() as con:
        return _parity_tables(con, check_name)


def _parity_tables(con: duckdb.DuckDBPyConnection, check_name: str) -> tuple[pd.DataFrame, ...]:
    summary = con.execute(
        "SELECT model, count(*) AS checked_days, count(*) FILTER (WHERE passed) AS passed, "
        "count(*) FILTER (WHERE NOT passed) AS failed, max(checked_at) AS last_checked_at, "
        "min(date) FILTER (WHERE NOT passed) AS first_failing_date "
        "FROM parity_results WHERE check_name = ? GROUP BY model ORDER BY model",
        [check_name],
    ).df()
    diffs = con.execute(
        "SELECT d.model, d.field, d.legacy_value, d.new_value FROM parity_diffs d "
        "JOIN (SELECT model, min(date) AS date FROM parity_results "
        "      WHERE check_name = ? AND NOT passed GROUP BY model) f "
        "ON d.model = f.model AND d.date = f.date WHERE d.check_name = ? ORDER BY d.model",
        [check_name, check_name],
    ).df()
    return summary, diffs
