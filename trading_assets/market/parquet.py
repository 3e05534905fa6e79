"""Reading a user's Parquet file (prices, documents): DuckDB reads it, no store involved.

The one place outside `store/` that imports duckdb (pyproject's import-linter contract
names it); pyarrow is not a dependency.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from trading_assets.errors import MarketDataError


def read_parquet_frame(path: Path) -> pd.DataFrame:
    """The file as a frame of strings (bars are validated from text, as CSV's are)."""
    return duckdb.execute("SELECT * FROM read_parquet(?)", [str(path)]).df().astype(str)


def read_parquet_records(path: Path) -> list[dict]:
    """The file's rows as dicts of Python values (None for nulls, lists, zoned datetimes)."""
    try:
        cursor = duckdb.execute("SELECT * FROM read_parquet(?)", [str(path)])
    except duckdb.Error as exc:
        raise MarketDataError(
            f"cannot read Parquet file: {exc}", where=str(path), fix="check the file"
        ) from None
    names = [c[0] for c in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
