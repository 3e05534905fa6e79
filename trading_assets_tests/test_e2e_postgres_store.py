"""The PostgreSQL store end to end: `trading-assets backfill --store postgresql://...`
through the real CLI and a real Dagster instance, then every read command and the
notebook on it. The same backfill into a DuckDB file is the reference: each read command
prints the same on both backends (run ids and clock times aside)."""

from __future__ import annotations

import json

import pytest

from trading_assets.runs.metrics import compute_metrics, ranked_leaderboard
from trading_assets.store.results import ResultStore
from trading_assets_tests.e2e import TWO_MODELS, postgres_database, sqlite_project, write_config
from trading_assets_tests.test_notebook import execute_notebook, text

pytestmark = pytest.mark.slow

CONFIG = TWO_MODELS
START, END, LAST_DAY = "2012-05-01", "2012-07-31", "2012-07-31"
VOLATILE = {"run_id", "started_at", "completed_at", "registered_at", "updated_at"}


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory):
    """{"duckdb": project, "postgres": project}, each after the same CLI backfill."""
    tmp = tmp_path_factory.mktemp("pgstore")
    config = str(write_config(tmp, CONFIG))
    with postgres_database("ta_store") as url:
        projects = {}
        for backend, store in (("duckdb", None), ("postgres", url)):
            (tmp / backend).mkdir()
            project = sqlite_project(tmp / backend)
            if store is not None:
                project.store = store
            done = project.run(
                "backfill", "--config", config, "--start", START, "--end", END,
                "--store", str(project.store),
            )  # fmt: skip
            assert done.returncode == 0, f"{backend}: {done.stderr[-3000:]}"
            projects[backend] = project
        yield projects


def read(project, *args: str):
    done = project.run(*args, "--store", str(project.store))
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def stable(rows):
    if isinstance(rows, dict):
        return {k: v for k, v in rows.items() if k not in VOLATILE}
    return [stable(row) for row in rows]


@pytest.mark.parametrize(
    "command",
    [
        ("leaderboard", "--format", "json"),
        ("results", "--model", "sma-fast", "--format", "json"),
        ("results", "--model", "hold", "--start", "2012-07-02", "--format", "json"),
        ("metrics", "--format", "json"),
        ("models", "list", "--format", "json"),
        ("status", "--model", "sma-fast", "--date", LAST_DAY),
        ("jobs", "--format", "json"),
    ],
    ids=lambda c: " ".join(c[:2]),
)
def test_read_command_on_postgres_store_prints_what_it_prints_on_duckdb(backfilled, command):
    on_postgres = read(backfilled["postgres"], *command)
    on_duckdb = read(backfilled["duckdb"], *command)
    assert on_postgres, "something was stored"
    if command[0] == "jobs":  # job ids differ; what they did does not
        on_postgres, on_duckdb = (
            [{k: r[k] for k in ("kind", "status", "total_model_days", "completed", "models")}
             for r in rows]
            for rows in (on_postgres, on_duckdb)
        )  # fmt: skip
    assert stable(on_postgres) == stable(on_duckdb)


def test_backfill_on_postgres_stores_every_model_day_once(backfilled):
    store = ResultStore(backfilled["postgres"].store, read_only=True)
    days = store.query("SELECT model, count(*) AS n, count(DISTINCT date) AS d FROM model_days "
                       "GROUP BY model ORDER BY model")  # fmt: skip
    assert days.values.tolist() == [["hold", 64, 64], ["sma-fast", 64, 64]]  # XNYS, May-Jul
    assert store.query("SELECT DISTINCT status FROM model_days")["status"].tolist() == ["completed"]


def test_notebook_on_postgres_store_shows_its_leaderboard(backfilled):
    store = ResultStore(backfilled["postgres"].store, read_only=True)
    cells = execute_notebook(store.path)
    board = ranked_leaderboard(store, compute_metrics(store).frame)
    shown = text(cells["leaderboard"])
    positions = [shown.index(model) for model in board["model"]]
    assert positions == sorted(positions) and len(positions) == 2
    header = text(cells["model-day"]).splitlines()[0]
    assert header.startswith(f"{board['model'].iloc[0]} on 2012-")


def test_daemon_backfill_and_trigger_write_the_postgres_store(tmp_path):
    """The UI's path (`--daemon`: an asset backfill the daemon runs) and `trigger` + `job
    --wait` (a detached supervisor): their run workers load the definitions and write the
    store by its URL alone."""
    config = str(write_config(tmp_path, CONFIG))
    with postgres_database("ta_store") as url:
        project = sqlite_project(tmp_path)
        project.store = url
        done = project.run(
            "backfill", "--config", config, "--start", "2012-03-01", "--end", "2012-03-30",
            "--models", "hold", "--daemon", "--store", url,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr[-3000:]
        triggered = project.run(
            "trigger", "--config", config, "--start", "2012-03-01", "--end", "2012-03-30",
            "--models", "sma-fast", "--format", "json", "--store", url,
        )  # fmt: skip
        assert triggered.returncode == 0, triggered.stderr[-3000:]
        job_id = json.loads(triggered.stdout)["job_id"]
        waited = project.run("job", job_id, "--wait", "--format", "json", "--store", url)
        assert waited.returncode == 0, waited.stderr[-3000:]
        assert json.loads(waited.stdout)["status"] == "completed"
        days = ResultStore(url, read_only=True).query(
            "SELECT model, count(*) AS n FROM model_days GROUP BY 1 ORDER BY 1"
        )
        assert days.values.tolist() == [["hold", 22], ["sma-fast", 22]]  # March 2012 sessions
        # (22 weekdays; Good Friday fell on 6 April that year)
