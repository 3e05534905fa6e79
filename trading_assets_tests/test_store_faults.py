"""A read-only or full store, as a user meets it through the CLI: read commands still
work on a read-only store; a write is one error line naming the path (no traceback); and
nothing already stored is lost. The read-only and full file systems are real: a tmpfs
mounted (and remounted read-only) by the test, which needs root: skipped otherwise."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from trading_assets.runs.metrics import compute_metrics
from trading_assets.store.metrics import replace_metrics
from trading_assets.store.results import ResultStore
from trading_assets_tests.folder_models import days, stored_model

pytestmark = pytest.mark.duckdb_file  # PostgreSQL's read-only store: test_store_postgres.py


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "16m"):
    path.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.strip()}): needs root")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def cli(*argv: str, store: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trading_assets.cli.main", *argv, "--store", str(store)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=120,
    )


@pytest.fixture
def stored(tmp_path) -> ResultStore:
    store = stored_model(tmp_path)
    replace_metrics(store, compute_metrics(store).frame)  # what the metrics asset does
    return store


def assert_one_error_line(done: subprocess.CompletedProcess, path: Path, words: str) -> None:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"error: {path}") and words in lines[0], lines[0]


def test_read_only_store_is_read_by_read_commands_and_refuses_writes_in_one_line(tmp_path, stored):
    with tmpfs(tmp_path / "ro") as mnt:
        path = mnt / "s.duckdb"
        shutil.copy(stored.path, path)
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)

        board = cli("leaderboard", "--format", "json", store=path)
        assert board.returncode == 0, board.stderr
        assert [r["model"] for r in json.loads(board.stdout)] == ["a"]
        results = cli("results", "--model", "a", "--format", "json", store=path)
        assert results.returncode == 0 and len(json.loads(results.stdout)) == 5
        status = cli("status", "--model", "a", "--date", str(days(5)[-1]), store=path)
        assert status.returncode == 0 and json.loads(status.stdout)["source"] == "new"
        listed = cli("models", "list", "--format", "json", store=path)
        assert listed.returncode == 0 and json.loads(listed.stdout)[0]["days"] == 5

        refused = cli("models", "disable", "a", store=path)
        assert_one_error_line(refused, path, "Read-only file system")
        assert "read commands (leaderboard, results, status) work" in refused.stderr


def test_full_disk_is_one_error_line_and_stored_results_stay(tmp_path, stored):
    with tmpfs(tmp_path / "full", size="8m") as mnt:
        path = mnt / "s.duckdb"
        shutil.copy(stored.path, path)
        before = cli("results", "--model", "a", "--format", "json", store=path).stdout
        with contextlib.suppress(OSError), open(mnt / "filler", "wb") as filler:
            while True:  # take every free byte, as a disk that filled up would
                filler.write(b"\0" * 65536)
                filler.flush()

        refused = cli("models", "remove", "a", "--yes", store=path)

        assert_one_error_line(refused, path, "No space left on device")
        assert "free disk space" in refused.stderr
        (mnt / "filler").unlink()
        after = cli("results", "--model", "a", "--format", "json", store=path)
        assert after.returncode == 0 and after.stdout == before  # nothing lost


@pytest.mark.parametrize("command", ["leaderboard", "backfill"])
def test_truncated_store_is_one_error_line_naming_the_damage(tmp_path, stored, command):
    path = tmp_path / "truncated.duckdb"
    data = stored.path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a copy cut off mid-way (a crash, a full disk)
    config = tmp_path / "models.yaml"
    config.write_text(
        f"initial_cash: 10000\nuniverse: [AAPL, IBM]\n"
        f"market_data: {{source: folder, path: {tmp_path / 'p'}}}\n"
        "models:\n  - {signature: a, agent: buy_and_hold}\n"
    )
    argv = ["leaderboard"] if command == "leaderboard" else ["backfill", "--config", str(config)]

    done = cli(*argv, "--quiet" if command == "backfill" else "--format=table", store=path)

    assert_one_error_line(done, path, "the file is damaged")
    assert "restore it from a backup" in done.stderr


def test_full_disk_on_a_fresh_store_is_one_error_line_and_leaves_no_tmp_file(tmp_path):
    with tmpfs(tmp_path / "full", size="2m") as mnt:
        path = mnt / "s.duckdb"
        done = cli(
            "backfill", "--config", "demo", "--start", "2012-01-03", "--end", "2012-01-10",
            "--quiet", "--workers", "1", store=path,
        )  # fmt: skip
        lines = done.stderr.strip().splitlines()
        assert done.returncode == 2, done.stderr[-3000:]
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr[-3000:]
        assert lines[0].startswith("error: ") and "No space left on device" in lines[0]
        assert "free disk space" in lines[0]
        assert not list(mnt.glob("*.tmp")), sorted(p.name for p in mnt.iterdir())
