"""A study's trials run in chunks, one Dagster step each, so the job's executor spreads
them: through `trading-assets study run --workers 2 --trials-per-chunk 2` on a real
instance, the multiprocess executor runs one step per chunk, each in a process of its
own, and the store ends up with the same trials, daily returns and guards as the
default in-process run (both read back from the stores)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from trading_assets.store.results import ResultStore
from trading_assets_tests.test_study import CONFIG, TRIALS

REPO = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).parent / "trading-assets")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("chunks")
    home = tmp / "home"
    home.mkdir()
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    (tmp / "grid.yaml").write_text(CONFIG)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    env.pop("TRADING_ASSETS_STUDY_EXECUTOR", None)

    def study_run(store: Path, *extra: str) -> None:
        done = subprocess.run(
            [
                CLI,
                "study",
                "run",
                "--config",
                str(tmp / "grid.yaml"),
                "--store",
                str(store),
                *extra,
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[1].startswith("sma-grid")

    study_run(tmp / "here.duckdb")
    study_run(tmp / "spread.duckdb", "--workers", "2", "--trials-per-chunk", "2")
    return home, ResultStore(tmp / "here.duckdb"), ResultStore(tmp / "spread.duckdb")


def _stored(store: ResultStore) -> dict:
    trials = store.query("SELECT * EXCLUDE (contract_version) FROM study_trials ORDER BY trial")
    returns = store.query("SELECT * FROM study_returns ORDER BY trial, date")
    folds = store.query("SELECT * FROM study_folds ORDER BY fold")
    guards = store.query(
        "SELECT trials, days, best_trial, deflated_sharpe, pbo, pbo_splits, walk_forward_return "
        "FROM studies"
    )
    return {"trials": trials, "returns": returns, "folds": folds, "guards": guards}


@pytest.mark.slow  # two CLI runs, five step processes: about 2 minutes
def test_chunked_run_stores_the_same_trials_returns_and_guards_as_in_process(runs):
    _, here, spread = runs
    a, b = _stored(here), _stored(spread)
    assert list(a["trials"]["trial"]) == sorted(TRIALS)
    assert len(a["returns"]) == 5 * 502  # every trial's every day of 2011-2012
    for name in a:
        assert a[name].to_dict("records") == b[name].to_dict("records"), name
    [guards] = b["guards"].to_dict("records")
    assert guards["trials"] == 5 and guards["pbo_splits"] == 70
    assert 0.0 <= guards["deflated_sharpe"] <= 1.0


@pytest.mark.slow
def test_multiprocess_run_has_one_step_per_chunk_each_in_its_own_process(runs, monkeypatch):
    home, _, spread = runs
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        [run] = [
            r
            for r in instance.get_runs(filters=dg.RunsFilter(tags={"trading_assets/cli": "study"}))
            if r.job_name == "study_job"
        ]
        assert run.tags["dagster/partition"] == "sma-grid"
        starts = [
            e
            for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
            if e.dagster_event is not None
        ]
        steps = {e.step_key: e.dagster_event.pid for e in starts}
        chunks = sorted(k for k in steps if k.startswith("study.run_trials["))
        assert chunks == [
            "study.run_trials[trials_0_1]",
            "study.run_trials[trials_2_3]",
            "study.run_trials[trials_4_4]",
        ]
        assert {"study.plan_study", "study.collect_study"} <= set(steps)
        assert len({steps[k] for k in chunks}) == 3  # three processes
        assert os.getpid() not in steps.values()
        [event] = instance.fetch_materializations(dg.AssetKey("study"), limit=1).records
        assert event.run_id == run.run_id and event.partition_key == "sma-grid"
        table = event.asset_materialization.metadata["trials_table"]
        assert sorted(r.data["trial"] for r in table.value.records) == sorted(TRIALS)
        assert {"fast", "slow", "sharpe"} <= {c.name for c in table.value.schema.columns}
        assert json.dumps(table.value.records[0].data)  # plain values: the UI can sort them
        stored = spread.query("SELECT trial, sharpe FROM study_trials").set_index("trial")
        for record in table.value.records:
            # the table shows 4 places, as the top-20 markdown (the store keeps every digit)
            assert record.data["sharpe"] == round(stored.loc[record.data["trial"], "sharpe"], 4)
        stability = event.asset_materialization.metadata["stability"].value
        assert stability.startswith("![Parameter stability](data:image/png;base64,")


@pytest.mark.parametrize(
    ("executor", "says"),
    [
        ("dask", ["TRADING_ASSETS_STUDY_EXECUTOR='dask' is not an executor", "local, celery"]),
        # Celery without a shared folder: each chunk's result would stay on its host
        ("celery", ["TRADING_ASSETS_STUDY_IO_DIR is not set", "a folder they all reach"]),
    ],
)
def test_a_study_executor_that_cannot_work_is_one_line_naming_what_to_set(
    tmp_path, monkeypatch, executor, says
):
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path), "TRADING_ASSETS_STUDY_EXECUTOR": executor}
    env.pop("TRADING_ASSETS_STUDY_IO_DIR", None)
    (tmp_path / "grid.yaml").write_text(CONFIG)
    done = subprocess.run(
        [
            CLI,
            "study",
            "run",
            "--config",
            str(tmp_path / "grid.yaml"),
            "--store",
            str(tmp_path / "s.duckdb"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode != 0
    [line] = [x for x in done.stderr.splitlines() if x.startswith("error:")]
    assert all(part in line for part in says), line
    assert "Traceback" not in done.stderr
