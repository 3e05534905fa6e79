"""Helpers for end-to-end tests: run the real `trading-assets` CLI against a real
Dagster instance (its own DAGSTER_HOME) and a real DuckDB store."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CLI = Path(sys.executable).parent / "trading-assets"
PG = os.environ.get("TA_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """The URL of a new database with a unique name on the test server; dropped after."""
    import psycopg2

    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(PG)
    admin.autocommit = True
    try:
        admin.cursor().execute(f'CREATE DATABASE "{name}"')
        yield PG.rsplit("/", 1)[0] + "/" + name
        admin.cursor().execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        admin.close()


@dataclass
class Project:
    home: Path
    store: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            "TRADING_ASSETS_STORE": str(self.store),
            **extra,
        }

    def run(self, *args: str, timeout: float = 600, **extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(CLI), *args],
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def sqlite_project(tmp_path: Path) -> Project:
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    return Project(home=home, store=tmp_path / "store.duckdb")


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(text)
    return path


# two models on the bundled AAPL and MSFT bars: the e2e backfills' usual config
TWO_MODELS = """
initial_cash: 100000
universe: [AAPL, MSFT]
market_data: {source: bundled}
models:
  - {signature: sma-fast, agent: sma_crossover, params: {fast: 5, slow: 20, size: 50}}
  - {signature: hold, agent: buy_and_hold}
"""
IBM_HOLD = "universe: [IBM]\nmodels:\n  - {signature: ibm-hold, agent: buy_and_hold}\n"


def backfilled_project(tmp_path: Path, start: str = "2012-01-03", end: str = "2012-01-13"):
    """A fresh instance and store after `trading-assets backfill` of one IBM buy-and-hold
    model (9 model-days by default): the smallest instance a UI test can look at."""
    project = sqlite_project(tmp_path)
    config = str(write_config(tmp_path, IBM_HOLD))
    done = project.run("backfill", "--config", config, "--start", start, "--end", end)
    assert done.returncode == 0, done.stderr[-2000:]
    return project


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def webserver(project: Project, timeout: float = 90) -> Iterator[int]:
    """A real dagster-webserver on the project's instance, on a free loopback port."""
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "dagster-webserver"),
            "-m",
            "trading_assets.defs.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        env=project.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, f"webserver did not start in {timeout:.0f} s"
                time.sleep(1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=30)
