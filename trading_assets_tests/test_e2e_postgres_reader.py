"""A notebook's open transaction on the PostgreSQL store does not block a backfill.

The reader opens the store as the notebook does (`store.db.connect(url, read_only=True)`),
begins a transaction and reads model_days, the leaderboard and daily_portfolio, and keeps
the transaction open while the real `trading-assets backfill` runs in another process,
writes its model-days and rebuilds those analytics tables. The backfill must finish; the
reader's transaction keeps its snapshot; a new transaction sees the backfill's days.
"""

from __future__ import annotations

import subprocess

import pytest

from trading_assets.store import postgres
from trading_assets.store.db import connect
from trading_assets_tests.e2e import TWO_MODELS, postgres_database, sqlite_project, write_config

pytestmark = pytest.mark.slow

FIRST = ("2012-05-01", "2012-05-31")
SECOND = ("2012-06-01", "2012-07-31")
# far more than the backfill takes; without the fix it waited for the reader for ever
BACKFILL_TIMEOUT_S = 300

LAST_DAYS = "SELECT model, CAST(max(date) AS VARCHAR) FROM model_days GROUP BY model ORDER BY model"
BOARD = "SELECT model, last_date FROM leaderboard ORDER BY model"


def test_backfill_finishes_while_a_reader_holds_a_transaction_open(tmp_path):
    config = str(write_config(tmp_path, TWO_MODELS))
    project = sqlite_project(tmp_path)
    with postgres_database("ta_reader") as url:
        project.store = url

        def backfill(start: str, end: str) -> subprocess.CompletedProcess:
            return project.run(
                "backfill", "--config", config, "--start", start, "--end", end, "--store", url,
                timeout=BACKFILL_TIMEOUT_S,
            )  # fmt: skip

        done = backfill(*FIRST)
        assert done.returncode == 0, done.stderr[-3000:]
        with connect(url, read_only=True) as notebook:
            notebook.execute("BEGIN")
            before = notebook.execute(LAST_DAYS).fetchall()
            board_before = notebook.execute(BOARD).fetchall()
            notebook.execute("SELECT count(*) FROM daily_portfolio").fetchall()
            assert before == [("hold", "2012-05-31"), ("sma-fast", "2012-05-31")]

            try:
                done = backfill(*SECOND)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the backfill did not finish in {BACKFILL_TIMEOUT_S} s")
            assert done.returncode == 0, done.stderr[-3000:]
            # the open transaction still reads its snapshot
            assert notebook.execute(LAST_DAYS).fetchall() == before
            assert notebook.execute(BOARD).fetchall() == board_before
            notebook.execute("COMMIT")
            # a new transaction sees what the backfill wrote, analytics included
            assert notebook.execute(LAST_DAYS).fetchall() == [
                ("hold", "2012-07-31"),
                ("sma-fast", "2012-07-31"),
            ]
            assert notebook.execute(BOARD).fetchall() == [
                ("hold", "2012-07-31"),
                ("sma-fast", "2012-07-31"),
            ]
        postgres.release(url)  # before the database is dropped
