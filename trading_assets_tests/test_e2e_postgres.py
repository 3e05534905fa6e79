"""The Postgres-backed Dagster instance (deploy/dagster.postgres.yaml) against the real
PostgreSQL server on this machine: a backfill through the CLI, the GraphQL launch and
the daemon (`--daemon`, the UI's path) lands its runs, materializations and backfill
record in Postgres."""

from __future__ import annotations

import shutil

import dagster as dg
import psycopg2
import pytest

from trading_assets_tests.e2e import REPO, Project, postgres_database, write_config

pytestmark = pytest.mark.slow

CONFIG = """
universe: [IBM]
models:
  - {signature: ibm-sma, agent: sma_crossover, params: {fast: 3, slow: 8, size: 10}}
"""


@pytest.fixture
def pg_database():
    with postgres_database("ta_test") as url:
        yield url


def test_backfill_on_postgres_instance_records_runs_in_postgres(tmp_path, pg_database, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(REPO / "deploy" / "dagster.postgres.yaml", home / "dagster.yaml")
    project = Project(home=home, store=tmp_path / "store.duckdb")
    config = write_config(tmp_path, CONFIG)
    done = project.run(
        "backfill",
        "--config",
        str(config),
        "--start",
        "2010-03-01",
        "--end",
        "2010-03-31",
        "--daemon",
        TRADING_ASSETS_PG_URL=pg_database,
    )
    assert done.returncode == 0, done.stderr[-3000:]

    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("TRADING_ASSETS_PG_URL", pg_database)
    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        [backfill] = instance.get_backfills()
        assert backfill.status.value == "COMPLETED_SUCCESS"
        materialized = instance.get_materialized_partitions(dg.AssetKey("model_day"))
        assert len(materialized) == 23  # weekdays of March 2010, all XNYS sessions
    with psycopg2.connect(pg_database) as con, con.cursor() as cur:
        cur.execute("SELECT count(*) FROM runs WHERE status = 'SUCCESS'")
        assert cur.fetchone()[0] >= 2  # market_prices, the model's range run, analytics
