"""Runs distributed by Celery over several hosts (deploy/dagster.celery.yaml).

Two Celery workers, each in a network namespace of its own (trading_assets_tests/hosts.py),
reach RabbitMQ, Redis, the PostgreSQL Dagster instance and the PostgreSQL result store
only over the network. The head runs `trading-assets backfill --daemon` as a user would:
the daemon launches each model's run as a Celery task, a worker executes it.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections import Counter

import dagster as dg
import psycopg2
import pytest
from celery import Celery

from trading_assets_tests.e2e import CLI, write_config
from trading_assets_tests.faults import install_slow_agent, sessions
from trading_assets_tests.hosts import celery_env, deployment, skip_unless_netns

pytestmark = pytest.mark.slow

START, END = "2012-03-01", "2012-03-14"  # 10 XNYS sessions
MODELS = ["m1", "m2", "m3", "m4"]
CONFIG = "universe: [AAPL]\nmarket_data: {source: bundled}\nmodels:\n" + "".join(
    f"  - {{signature: {m}, agent: slow, params: {{delay: {{DELAY}}}}}}\n" for m in MODELS
)


@pytest.fixture
def hosts(tmp_path, monkeypatch):
    """Two worker hosts, a head home, a fresh instance database and result store."""
    skip_unless_netns()
    with deployment(tmp_path, 2, install_slow_agent(tmp_path / "site")) as c:
        # this test process reads the instance as the head does
        for key in ("TRADING_ASSETS_PG_URL", *celery_env("", "")):
            monkeypatch.setenv(key, c.head_env[key])
        yield c


def backfill(c, tmp_path, delay: float, **popen) -> subprocess.Popen:
    config = write_config(tmp_path, CONFIG.replace("{DELAY}", str(delay)))
    args = ("--config", str(config), "--start", START, "--end", END, "--daemon")
    return subprocess.Popen(
        [str(CLI), "backfill", *args, "--format", "json", "--quiet"],
        env=c.head_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def stored_counts(store: str) -> dict[tuple[str, str], int]:
    with psycopg2.connect(store) as con, con.cursor() as cur:
        cur.execute("SELECT model, date::text, count(*) FROM model_days GROUP BY 1, 2")
        return {(m, d): n for m, d, n in cur.fetchall()}


def materializations(instance) -> Counter:
    """How many times Dagster recorded each model_day partition materialized."""
    records = instance.fetch_materializations(dg.AssetKey("model_day"), limit=10_000).records
    return Counter(r.asset_materialization.partition for r in records)


def instance_of(c) -> dg.DagsterInstance:
    return dg.DagsterInstance.from_config(c.head_env["DAGSTER_HOME"])


def model_runs(instance) -> list[dg.DagsterRun]:
    return [r for r in instance.get_runs() if "dagster-celery/task_id" in r.tags]


def model_of(run: dg.DagsterRun) -> str:
    return run.tags["dagster/asset_partition_range_start"].split("|")[1]


def worker_of(c, run: dg.DagsterRun) -> str | None:
    """The worker that ran the run's task, as Celery's result backend records it."""
    app = Celery(backend=celery_env("127.0.0.1", c.queue)["TRADING_ASSETS_CELERY_BACKEND"])
    app.conf.result_extended = True
    result = app.AsyncResult(run.tags["dagster-celery/task_id"])
    info = result.info if isinstance(result.info, dict) else {}
    return result.worker or info.get("hostname")


def test_two_worker_hosts_finish_a_backfill_through_the_daemon(hosts, tmp_path):
    done = backfill(hosts, tmp_path, delay=0.0)
    out, err = done.communicate(timeout=600)
    assert done.returncode == 0, err[-3000:]
    report = json.loads(out)
    days = sessions(START, END)
    assert report["model_days"] == days * len(MODELS)

    counts = stored_counts(hosts.store)
    assert len(counts) == days * len(MODELS), counts
    assert set(counts.values()) == {1}
    with instance_of(hosts) as instance:
        done_once = materializations(instance)
        assert {k.split("|")[1] for k in done_once} == set(MODELS)
        assert set(done_once.values()) == {1}  # each partition materialized once
        runs = model_runs(instance)
        assert sorted(model_of(r) for r in runs) == MODELS
        assert {r.status for r in runs} == {dg.DagsterRunStatus.SUCCESS}
        # executed on both hosts (each worker name is its namespace's)
        assert {worker_of(hosts, r) for r in runs} == set(hosts.names)


def test_killed_worker_costs_only_its_run_and_the_rerun_does_only_what_is_missing(hosts, tmp_path):
    victim = hosts.workers[0]
    cli = backfill(hosts, tmp_path, delay=0.5)  # 5 s of walk per model: killed mid-range
    with instance_of(hosts) as instance:
        deadline = time.monotonic() + 300
        target = None
        while target is None:
            assert time.monotonic() < deadline, "no run started on the victim worker"
            assert cli.poll() is None, cli.stderr.read()[-3000:]
            for run in model_runs(instance):
                stepped = instance.get_records_for_run(
                    run.run_id, of_type=dg.DagsterEventType.STEP_START
                ).records
                worker = worker_of(hosts, run)
                if stepped and worker and worker.startswith(victim.name + "@"):
                    target = run
            time.sleep(0.3)
        time.sleep(1.0)  # a second into the model's ten slow days
        victim.kill()
        killed_at = time.time()
        lost_model, lost_worker = model_of(target), worker_of(hosts, target)

        out, err = cli.communicate(timeout=600)
        failed = instance.get_run_by_id(target.run_id)
        assert failed.status == dg.DagsterRunStatus.FAILURE
        [failure] = instance.get_records_for_run(
            target.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
        ).records
        assert f"worker {lost_worker} lost" in failure.event_log_entry.message
        # run monitoring polls every 10 s, the ping takes up to 6 s
        assert failure.event_log_entry.timestamp - killed_at < 60
        others = [r for r in model_runs(instance) if model_of(r) != lost_model]
        assert sorted(model_of(r) for r in others) == sorted(set(MODELS) - {lost_model})
        assert {r.status for r in others} == {dg.DagsterRunStatus.SUCCESS}

    assert cli.returncode != 0
    # the job's report names the model and why: its first failed day is the lost model's
    assert f"first {lost_model} on {START}" in out + err, out + err
    assert f"worker {lost_worker} lost" in out + err
    days = sessions(START, END)
    counts = stored_counts(hosts.store)
    assert {m for m, _ in counts} == set(MODELS) - {lost_model}

    again = backfill(hosts, tmp_path, delay=0.0)
    out, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-3000:]
    report = json.loads(out)
    assert report["model_days"] == days  # only the lost model's range ran
    assert report["already_stored"] == days * (len(MODELS) - 1)
    counts = stored_counts(hosts.store)
    assert len(counts) == days * len(MODELS)
    assert set(counts.values()) == {1}
    with instance_of(hosts) as instance:
        done_once = materializations(instance)
        runs = model_runs(instance)
    # every partition materialized once: the killed run recorded none, nothing re-ran
    assert len(done_once) == days * len(MODELS) and set(done_once.values()) == {1}
    # the lost model ran twice (killed, then the re-run), every other model once
    assert Counter(model_of(r) for r in runs) == {m: 1 + (m == lost_model) for m in MODELS}


@pytest.fixture
def study_hosts(tmp_path, monkeypatch):
    """Two worker hosts whose study_job runs on dagster-celery's executor, its chunks'
    results in a folder every host reaches (the namespaces share this filesystem)."""
    skip_unless_netns()
    study_env = {
        "TRADING_ASSETS_STUDY_EXECUTOR": "celery",
        "TRADING_ASSETS_STUDY_IO_DIR": str(tmp_path / "study_io"),
    }
    with deployment(tmp_path, 2, study_env) as c:
        monkeypatch.setenv("TRADING_ASSETS_PG_URL", c.head_env["TRADING_ASSETS_PG_URL"])
        yield c


def study_run(env: dict, config, *extra: str) -> str:
    done = subprocess.run(
        [str(CLI), "study", "run", "--config", str(config), "--format", "json", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    return done.stdout


def study_trials(store: str) -> list[tuple]:
    with psycopg2.connect(store) as con, con.cursor() as cur:
        cur.execute(
            "SELECT trial, final_value, sharpe, (SELECT count(*) FROM study_returns r "
            "WHERE r.trial = t.trial) FROM study_trials t ORDER BY trial"
        )
        return [(t, round(v, 6), None if s is None else round(s, 9), n) for t, v, s, n in cur]


def test_a_studys_chunks_run_on_the_worker_hosts_and_store_what_one_process_stores(
    study_hosts, tmp_path
):
    from trading_assets.store.results import ResultStore
    from trading_assets_tests.test_study import CONFIG, TRIALS

    c = study_hosts
    config = write_config(tmp_path, CONFIG)
    study_run(c.head_env, config, "--trials-per-chunk", "2")  # 5 trials: 3 chunks

    spread = study_trials(c.store.replace(c.service_host, "127.0.0.1"))
    assert [row[0] for row in spread] == sorted(TRIALS)
    with instance_of(c) as instance:
        (run,) = [r for r in instance.get_runs() if r.job_name == "study_job"]
        assert run.status == dg.DagsterRunStatus.SUCCESS
        starts = [
            e
            for e in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.STEP_START)
            if e.step_key
        ]
    chunk_steps = sorted(e.step_key for e in starts if "run_trials" in e.step_key)
    assert len(chunk_steps) == 3, chunk_steps
    # every step (plan, the three chunks, collect) ran in a process of a worker host
    on_workers = {pid for w in c.workers for pid in w.pids()}
    assert {e.dagster_event.pid for e in starts} <= on_workers, on_workers

    # the same study in one local process: the same trials, figures and daily returns
    home = tmp_path / "local_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    local = {**c.head_env, "DAGSTER_HOME": str(home)}
    for key in ("TRADING_ASSETS_STUDY_EXECUTOR", "TRADING_ASSETS_STUDY_IO_DIR"):
        local.pop(key)
    store = tmp_path / "local.duckdb"
    study_run(local, config, "--store", str(store))
    here = ResultStore(store).query(
        "SELECT trial, final_value, sharpe, (SELECT count(*) FROM study_returns r "
        "WHERE r.trial = t.trial) AS days FROM study_trials t ORDER BY trial"
    )
    assert spread == [
        (t, round(v, 6), None if s != s else round(s, 9), n)
        for t, v, s, n in here.itertuples(index=False)
    ]
