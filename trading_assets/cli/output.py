"""Print a frame as a table, JSON (a list of objects) or CSV.

A table is for people: fractions (`analytics/metrics.py: PERCENT_COLUMNS`) read as
percentages. JSON and CSV are for scripts: fractions stay fractions."""

from __future__ import annotations

import json
import math
import sys

import pandas as pd

from trading_assets.analytics.metrics import with_percentages


def render(frame: pd.DataFrame, fmt: str) -> str:
    if fmt == "json":
        records = frame.to_dict(orient="records")
        return json.dumps([{k: _plain(v) for k, v in r.items()} for r in records], indent=2)
    if fmt == "csv":
        return frame.to_csv(index=False)
    if frame.empty:
        return "(no rows)"
    shown = with_percentages(frame)
    return shown.to_string(index=False, float_format=lambda x: f"{x:,.4f}")


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "tolist"):
        return value.tolist()
    if hasattr(value, "item"):
        return value.item()
    return value


def print_table(frame: pd.DataFrame, fmt: str) -> int:
    print(render(frame, fmt))
    return 0


def print_leaderboard(store, fmt: str) -> int:
    """Print the stored leaderboard; say which models the metrics table does not cover."""
    from trading_assets.jobs.report import LEADERBOARD_TABLE, table_columns
    from trading_assets.runs.metrics import stored_leaderboard

    board, stale = stored_leaderboard(store)
    print(render(table_columns(board, fmt, LEADERBOARD_TABLE), fmt))
    if stale:
        print(
            f"note: the metrics table does not cover the latest stored days of "
            f"{', '.join(stale)}; materialize metrics (the UI, or trading-assets backfill)",
            file=sys.stderr,
        )
    return 0
