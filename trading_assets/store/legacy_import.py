"""The store side of a legacy import: position lines, logs and issues, as plain rows.

`legacy/importer.py` reads and checks the files and builds the rows; this module owns
the SQL. A re-import of unchanged files changes nothing (not even `imported_at`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from trading_assets.llm.scrub import scrub_all
from trading_assets.store.results import ResultStore

POSITION_COLS = "model, date, id, action, symbol, amount, cash, positions, source_file, line_no"
_INSERT_POSITIONS = f"""
INSERT INTO legacy_positions ({POSITION_COLS}, imported_at)
SELECT unnest(?::VARCHAR[]), unnest(?::DATE[]), unnest(?::INTEGER[]), unnest(?::VARCHAR[]),
       unnest(?::VARCHAR[]), unnest(?::BIGINT[]), unnest(?::DOUBLE[]), unnest(?::VARCHAR[]),
       unnest(?::VARCHAR[]), unnest(?::INTEGER[]), ?
"""
_INSERT_LOGS = """
INSERT INTO legacy_logs (model, date, line_no, seq, role, content)
SELECT unnest(?::VARCHAR[]), unnest(?::DATE[]), unnest(?::INTEGER[]), unnest(?::INTEGER[]),
       unnest(?::VARCHAR[]), unnest(?::VARCHAR[])
"""
ISSUE_COLS = "model, file, line, code, message, rejected"
_INSERT_ISSUES = f"""
INSERT INTO legacy_issues ({ISSUE_COLS}, imported_at)
SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::INTEGER[]), unnest(?::VARCHAR[]),
       unnest(?::VARCHAR[]), unnest(?::BOOLEAN[]), ?
"""
_SCOPES = {  # which issues an import replaces
    "model": "model = ?",  # an accepted model's flags and old rejections
    "rejections": "model = ? AND rejected",  # a rejected model keeps the flags of its rows
    "checkout": "model IS NULL AND starts_with(file, ?)",  # prices, folders, config
}


@dataclass(frozen=True)
class ModelRows:
    """One signature's rows (POSITION_COLS, legacy_logs and ISSUE_COLS order)."""

    signature: str
    rejection: list[tuple] | None  # an issue row: the model was refused, keep its old rows
    positions: list[tuple]
    logs: list[tuple]
    issues: list[tuple]


def write_import(
    store: ResultStore,
    checkout: str,
    checkout_issues: list[tuple],
    models: Sequence[ModelRows],
    now: dt.datetime,
    *,
    secrets: Sequence[str] = (),
) -> dict[str, str]:
    """Write the checkout's issues, then each model in its own transaction; return the
    registered models' config hashes.

    secrets: the keys the legacy text may hold (legacy/importer.py says which). Every text
    of the logs (the legacy agent's own messages: it may have echoed its key) and issues
    is scrubbed of them and of credential values (`llm/scrub.py`) here, where it is stored.
    """
    checkout_issues = scrub_all(checkout_issues, secrets)
    models = [
        dataclasses.replace(
            m,
            rejection=scrub_all(m.rejection, secrets),
            logs=scrub_all(m.logs, secrets),
            issues=scrub_all(m.issues, secrets),
        )
        for m in models
    ]
    with store.connect() as con:
        con.execute("BEGIN")
        _replace_issues(con, "checkout", checkout, checkout_issues, now)
        con.execute("COMMIT")
        for model in models:
            con.execute("BEGIN")
            _write_model(con, model, now)
            con.execute("COMMIT")
        return dict(con.execute("SELECT signature, config_hash FROM models").fetchall())


def legacy_trading_dates(store: ResultStore, model: str) -> list[dt.date]:
    """Dates on which the imported legacy model has action lines (registration excluded)."""
    with store.connect() as con:
        rows = con.execute(
            "SELECT DISTINCT date FROM legacy_positions "
            "WHERE model = ? AND action IS NOT NULL ORDER BY date",
            [model],
        ).fetchall()
    return [r[0] for r in rows]


def _write_model(con: duckdb.DuckDBPyConnection, model: ModelRows, now: dt.datetime) -> None:
    sig = model.signature
    if model.rejection is not None:  # keep the earlier import and its flags; new rejection
        _replace_issues(con, "rejections", sig, model.rejection, now)
        return
    old = con.execute(
        f"SELECT {POSITION_COLS} FROM legacy_positions WHERE model = ? ORDER BY id", [sig]
    ).fetchall()
    if old != model.positions:
        con.execute("DELETE FROM legacy_positions WHERE model = ?", [sig])
        if model.positions:
            con.execute(_INSERT_POSITIONS, [*map(list, zip(*model.positions, strict=True)), now])
    con.execute("DELETE FROM legacy_logs WHERE model = ?", [sig])
    if model.logs:
        con.execute(_INSERT_LOGS, list(map(list, zip(*model.logs, strict=True))))
    _replace_issues(con, "model", sig, model.issues, now)


def _replace_issues(
    con: duckdb.DuckDBPyConnection, scope: str, key: str, rows: list[tuple], now: dt.datetime
) -> None:
    """Replace the issues in `scope` (a constant clause) unless they are unchanged."""
    where = _SCOPES[scope]
    old = con.execute(f"SELECT {ISSUE_COLS} FROM legacy_issues WHERE {where}", [key]).fetchall()
    if sorted(old, key=_sort_key) == sorted(rows, key=_sort_key):
        return  # unchanged: keep imported_at
    con.execute(f"DELETE FROM legacy_issues WHERE {where}", [key])
    if rows:
        con.execute(_INSERT_ISSUES, [*map(list, zip(*rows, strict=True)), now])


def _sort_key(row: tuple) -> tuple:
    return tuple("" if v is None else str(v) for v in row)
