"""Legacy re-import is all or nothing per model: one bad log line rejects that model's
files, leaves every row already imported for it in place (that day's log rows too), and
the CLI says REJECTED with a failing exit code. The real fixture, copied to tmp."""

from __future__ import annotations

import shutil
import subprocess
import sys

from trading_assets.legacy.importer import import_legacy
from trading_assets.store.results import ResultStore
from trading_assets_tests.legacy_fixture import SIGNATURES, fixture_copy

SIGNATURE = "qwen3-max"  # its 2025-10-23 log holds 7 messages


CLI = (sys.executable, "-m", "trading_assets.cli.main")


def legacy_rows(store: ResultStore, table: str, model: str) -> list[tuple]:
    with store.connect() as con:  # table names are constants
        return con.execute(
            f"SELECT * FROM {table} WHERE model = ? ORDER BY ALL", [model]
        ).fetchall()


def test_one_bad_log_line_rejects_the_model_and_keeps_its_imported_rows(tmp_path):
    root = fixture_copy(tmp_path)
    for other in set(SIGNATURES) - {SIGNATURE}:  # one model: the CLI has nothing else to replay
        shutil.rmtree(root / "data" / "agent_data" / other)
    store = ResultStore(tmp_path / "s.duckdb")
    assert import_legacy(store, root).accepted == [SIGNATURE]
    positions = legacy_rows(store, "legacy_positions", SIGNATURE)
    logs = legacy_rows(store, "legacy_logs", SIGNATURE)
    [(day, n)] = store.query(
        "SELECT date, count(*) AS n FROM legacy_logs WHERE model = ? GROUP BY date "
        "HAVING count(*) = 7",
        [SIGNATURE],
    ).itertuples(index=False)
    day = day.date()  # pandas gives a Timestamp
    log = root / "data" / "agent_data" / SIGNATURE / "log" / day.isoformat() / "log.jsonl"
    log.write_text(log.read_text() + "{this is not json\n")

    done = subprocess.run(
        [*CLI, "import-legacy", str(root), "--store", str(store.path)],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 1, done.stderr
    [summary] = [line for line in done.stdout.splitlines() if line.strip().startswith(SIGNATURE)]
    assert summary.split()[1] == "REJECTED" and "accepted" not in done.stdout
    assert f"{log}:" in done.stdout and "log_rejected" in done.stdout
    assert legacy_rows(store, "legacy_positions", SIGNATURE) == positions
    assert legacy_rows(store, "legacy_logs", SIGNATURE) == logs  # the day's 7 rows among them
    assert n == 7 and sum(r[1] == day for r in logs) == 7
