"""Parallel model runs and a notebook reading the store: no write lost, no model-day
failed on the DuckDB file lock. Writers wait (bounded, `StoreWait`) and report who holds
the store; real processes throughout (run workers are `run_range` in subprocesses, the
notebook is plain `duckdb.connect(read_only=True)`)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time

import dagster as dg
import pytest

from trading_assets.runs.model_day import run_range
from trading_assets.runs.registration import register_validated
from trading_assets.store.db import StoreWait
from trading_assets.store.results import ResultStore
from trading_assets_tests.conftest import table_rows
from trading_assets_tests.folder_models import days, folder, load_prices, spec

NOTEBOOK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
print("ready", flush=True)
deadline = time.monotonic() + float(sys.argv[2])
while time.monotonic() < deadline:  # a notebook polling its dashboard query
    con.execute("SELECT count(*) FROM model_days").fetchall()
    time.sleep(0.5)
"""
LOCK_HOLDER = """
import sys, time
from pathlib import Path
from trading_assets.store.db import file_lock
with file_lock(Path(sys.argv[1])):
    print("ready", flush=True)
    time.sleep(float(sys.argv[2]))
"""
RUN_WORKER = textwrap.dedent("""
    import datetime as dt, sys
    from trading_assets.runs.model_day import run_range
    from trading_assets.store.db import StoreWait
    from trading_assets.store.results import ResultStore
    path, model, dates = sys.argv[1], sys.argv[2], sys.argv[3].split(",")
    wait = StoreWait(report_every_s=5, report=lambda m: print(m, flush=True))
    store = ResultStore(path, wait=wait)
    dates = [dt.date.fromisoformat(d) for d in dates]
    for i in range(0, len(dates), 4):  # several short runs, each a load and a write
        for failure in run_range(store, {model: dates[i : i + 4]}).failures:
            print("FAILED", failure, flush=True)
""")
MODELS = ("m1", "m2", "m3", "m4")
pytestmark = pytest.mark.duckdb_file  # the file lock (PostgreSQL: test_store_postgres.py)


def start(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)], stdout=subprocess.PIPE, text=True
    )


@pytest.fixture
def store(tmp_path) -> ResultStore:
    store = ResultStore(tmp_path / "s.duckdb")
    path = folder(tmp_path, "p")
    register_validated(
        store, [spec(m, path, cash=10_000.0 * (i + 1)) for i, m in enumerate(MODELS)]
    )
    load_prices(store)
    return store


@pytest.mark.parametrize("holder_code", [NOTEBOOK, LOCK_HOLDER], ids=["notebook", "our_lock"])
def test_a_write_waits_for_the_holder_and_reports_its_pid(store, holder_code):
    holder = start(holder_code, store.path, 3)
    assert holder.stdout.readline().strip() == "ready"
    heard: list[str] = []
    waiting = ResultStore(store.path, wait=StoreWait(report_every_s=0.5, report=heard.append))
    outcome = run_range(waiting, {"m1": days(3)})
    holder.wait()
    assert not outcome.failures
    assert len(table_rows(store, "model_days")) == 3
    assert heard and all(f"PID {holder.pid}" in line for line in heard), heard


def test_a_write_gives_up_after_its_bounded_wait_naming_the_holder(store):
    holder = start(NOTEBOOK, store.path, 30)
    assert holder.stdout.readline().strip() == "ready"
    try:
        impatient = ResultStore(store.path, wait=StoreWait(timeout_s=1))
        outcome = run_range(impatient, {"m1": days(3)})
    finally:
        holder.kill()
        holder.wait()
    [failure] = outcome.failures
    assert f"held by PID {holder.pid}" in failure and "close other programs" in failure
    assert table_rows(store, "model_days") == []  # nothing half-written


@pytest.mark.slow
def test_parallel_run_workers_and_a_notebook_holding_60_s_lose_nothing(store):
    dates = days(24)
    notebook = start(NOTEBOOK, store.path, 60)
    assert notebook.stdout.readline().strip() == "ready"
    started = time.monotonic()
    workers = [
        start(RUN_WORKER, store.path, m, ",".join(d.isoformat() for d in dates)) for m in MODELS
    ]
    outputs = [w.communicate(timeout=600)[0] for w in workers]
    notebook.wait(timeout=30)

    assert [w.returncode for w in workers] == [0] * len(MODELS), outputs
    assert not any("FAILED" in out for out in outputs), outputs
    assert time.monotonic() - started >= 55  # they did wait for the notebook
    assert any(f"PID {notebook.pid}" in out for out in outputs)  # and said who they waited for
    rows = table_rows(store, "model_days", "model, date")
    assert [(r["model"], r["date"]) for r in rows] == [(m, d) for m in MODELS for d in dates]
    assert {r["status"] for r in rows} == {"completed"}
    # each chain is continuous: every day starts from the stored day before it
    for m in MODELS:
        mine = [r for r in rows if r["model"] == m]
        assert all(r["portfolio_value"] > 0 for r in mine)


def test_a_dagster_run_logs_who_holds_the_store_while_it_waits(store, instance):
    from trading_assets.defs.definitions import defs
    from trading_assets.defs.resources.store import StoreResource

    first, last = days(3)[0], days(3)[-1]
    holder = start(NOTEBOOK, store.path, 3)
    assert holder.stdout.readline().strip() == "ready"
    result = dg.materialize(
        [defs.get_assets_def(dg.AssetKey("model_day"))],
        instance=instance,
        resources={
            **defs.resources,
            "store": StoreResource(path=str(store.path), wait_report_s=0.5),
        },
        tags={
            "dagster/asset_partition_range_start": f"{first.isoformat()}|m1",
            "dagster/asset_partition_range_end": f"{last.isoformat()}|m1",
        },
    )
    holder.wait()
    assert result.success  # no model-day failed on the lock
    messages = [
        e.message
        for e in instance.all_logs(result.run_id)
        if e.message and "waiting for the store" in e.message
    ]
    assert messages and all(f"held by PID {holder.pid}" in m for m in messages), messages
    assert len(table_rows(store, "model_days")) == 3
