"""The PostgreSQL store as several hosts use it: writer processes of different models at
once while a reader holds its transaction open (nothing lost or duplicated, no writer
waits), migrations applied once by openers racing on a new database, a read-only server
(reads work, a write is one error line), an unreachable one, and the date partitions'
span read from the database. Real processes and the local PostgreSQL server throughout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg2
import pytest

from trading_assets.defs.partitions import date_partitions_of
from trading_assets.errors import StoreError
from trading_assets.runs.metrics import compute_metrics
from trading_assets.runs.model_day import run_range
from trading_assets.runs.registration import register_validated
from trading_assets.store import postgres
from trading_assets.store.copy import copy_store
from trading_assets.store.metrics import replace_metrics
from trading_assets.store.results import ResultStore
from trading_assets.store.schema import MIGRATIONS
from trading_assets_tests.conftest import table_rows
from trading_assets_tests.folder_models import FIRST, LAST, days, folder, load_prices, spec
from trading_assets_tests.test_store_concurrency import RUN_WORKER

MODELS = ("m1", "m2", "m3", "m4")
# a notebook on another host: one transaction open from before the writers start until
# after they end (psycopg2, REPEATABLE READ like the store's own connections)
READER = """
import sys, psycopg2
con = psycopg2.connect(sys.argv[1])
con.set_session(isolation_level="REPEATABLE READ")
cur = con.cursor()
cur.execute("SELECT count(*) FROM model_days")
print("ready", cur.fetchone()[0], flush=True)
sys.stdin.readline()  # held open until the test says the writers are done
cur.execute("SELECT count(*) FROM model_days")
print("same snapshot", cur.fetchone()[0], flush=True)
con.commit()
cur.execute("SELECT count(*) FROM model_days")
print("after", cur.fetchone()[0], flush=True)
"""
OPENER = """
import sys
from trading_assets.store.results import ResultStore
print(ResultStore(sys.argv[1]).model_signatures(), flush=True)
"""


def start(code: str, *args: str, stdin=None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *map(str, args)],
        stdout=subprocess.PIPE,
        stdin=stdin,
        text=True,
    )


def cli(*argv: str, store: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "trading_assets.cli.main", *argv, "--store", store],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
        timeout=120,
    )


def registered(url: str, tmp_path) -> ResultStore:
    store = ResultStore(url)
    path = folder(tmp_path, "p")
    register_validated(
        store, [spec(m, path, cash=10_000.0 * (i + 1)) for i, m in enumerate(MODELS)]
    )
    load_prices(store)
    return store


@pytest.mark.slow
def test_writer_processes_of_four_models_and_a_reader_holding_open_lose_nothing(
    pg_stores, tmp_path
):
    store = registered(pg_stores.new(), tmp_path)
    dates = days(24)
    reader = start(READER, store.path, stdin=subprocess.PIPE)
    assert reader.stdout.readline().split() == ["ready", "0"]

    workers = [
        start(RUN_WORKER, store.path, m, ",".join(d.isoformat() for d in dates)) for m in MODELS
    ]
    # the reader waits for the test: had a writer waited for the reader, none would end
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    assert reader.poll() is None, "the reader is still in its transaction"
    reader_out, _ = reader.communicate("done\n", timeout=30)

    assert [w.returncode for w in workers] == [0] * len(MODELS), outputs
    assert not any("FAILED" in out or "waiting" in out for out in outputs), outputs
    # the reader saw one consistent snapshot, then everything once it looked again
    assert reader_out.splitlines() == ["same snapshot 0", f"after {len(MODELS) * len(dates)}"]
    rows = table_rows(store, "model_days", "model, date")
    assert [(r["model"], r["date"]) for r in rows] == [(m, d) for m in MODELS for d in dates]
    assert {r["status"] for r in rows} == {"completed"}
    holdings = table_rows(store, "holdings", "model, date, symbol")
    keys = [(h["model"], h["date"], h["symbol"]) for h in holdings]
    assert len(keys) == len(set(keys)) == len(MODELS) * len(dates) * 2  # AAPL and IBM, once
    for m in MODELS:  # each chain continued from its own stored days: one buy, then holds
        orders = [o for o in table_rows(store, "orders") if o["model"] == m]
        assert {o["date"] for o in orders} == {dates[0]}


def test_openers_racing_on_a_new_database_apply_each_migration_once(pg_stores):
    url = pg_stores.new()
    openers = [start(OPENER, url) for _ in range(4)]
    outputs = [o.communicate(timeout=120)[0] for o in openers]
    assert [o.returncode for o in openers] == [0] * 4
    assert outputs == ["[]\n"] * 4
    applied = ResultStore(url).query("SELECT version FROM schema_migrations ORDER BY 1")
    assert applied["version"].tolist() == [v for v, _, _ in MIGRATIONS]


def test_read_only_server_serves_read_commands_and_refuses_a_write_in_one_line(pg_stores, tmp_path):
    store = registered(pg_stores.new(), tmp_path)
    run_range(store, {"m1": days(5)})
    replace_metrics(store, compute_metrics(store).frame)  # what the metrics asset does
    postgres.release(store.path)
    name = store.path.rsplit("/", 1)[1]
    admin = psycopg2.connect(store.path.rsplit("/", 1)[0] + "/postgres")
    admin.autocommit = True
    admin.cursor().execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
    admin.close()

    board = cli("leaderboard", "--format", "json", store=store.path)
    assert board.returncode == 0, board.stderr
    assert [r["model"] for r in json.loads(board.stdout)] == ["m1"]
    results = cli("results", "--model", "m1", "--format", "json", store=store.path)
    assert results.returncode == 0 and len(json.loads(results.stdout)) == 5
    listed = cli("models", "list", "--format", "json", store=store.path)
    assert listed.returncode == 0, listed.stderr
    assert [m["days"] for m in json.loads(listed.stdout)] == [5, 0, 0, 0]

    refused = cli("models", "disable", "m1", store=store.path)
    assert refused.returncode == 2, refused.stderr
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert lines[0].startswith(f"error: {store.path}: cannot use the store")
    assert "read-only transaction" in lines[0]
    assert "read commands (leaderboard, results, status) work" in lines[0]


def test_unreachable_server_is_one_error_line_naming_the_url_without_its_password():
    url = "postgresql://someone:secret@127.0.0.1:1/nowhere"
    done = cli("leaderboard", store=url)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: postgresql://someone:***@127.0.0.1:1/nowhere: ")
    assert "cannot use the PostgreSQL store" in line and "Fix: check the URL" in line
    assert "secret" not in done.stderr


def test_date_partitions_span_the_stored_bars_read_from_the_database(pg_stores, tmp_path):
    url = pg_stores.new()
    assert date_partitions_of(url).start.date().isoformat() == "2000-01-03"  # nothing stored
    registered(url, tmp_path)
    keys = date_partitions_of(url).get_partition_keys()
    assert (keys[0], keys[-1]) == (FIRST.isoformat(), LAST.isoformat())


def test_a_duckdb_files_contents_move_to_a_new_postgres_store_whole(pg_stores, tmp_path):
    old = registered(str(tmp_path / "old.duckdb"), tmp_path)
    run_range(old, {"m1": days(6), "m2": days(3)})
    with pytest.raises(StoreError, match="no such store file"):
        copy_store(tmp_path / "missing.duckdb", pg_stores.new("x"))
    new = ResultStore(pg_stores.new())

    copied = copy_store(old.path, new.path)

    assert copied["model_days"] == 9 and copied["models"] == len(MODELS)
    for table, order in [
        ("models", "signature"),
        ("model_days", "model, date"),
        ("holdings", "model, date, symbol"),
        ("prices", "date, symbol"),
    ]:
        assert table_rows(new, table, order) == table_rows(old, table, order), table
    again = cli("leaderboard", "--format", "json", store=new.path)
    assert json.loads(again.stdout) == json.loads(
        cli("leaderboard", "--format", "json", store=str(old.path)).stdout
    )
    with pytest.raises(StoreError, match="already has models"):
        copy_store(old.path, new.path)  # never into a store that holds results


def test_legacy_import_into_postgres_stores_what_it_stores_in_a_duckdb_file(pg_stores, tmp_path):
    from trading_assets.legacy.importer import import_legacy
    from trading_assets_tests.legacy_fixture import FIXTURE_ROOT

    stores = {
        "duckdb": ResultStore(tmp_path / "s.duckdb"),
        "postgres": ResultStore(pg_stores.new()),
    }
    reports = {name: import_legacy(store, FIXTURE_ROOT) for name, store in stores.items()}
    assert reports["postgres"] == reports["duckdb"]
    tables = {
        "models": "signature",
        "legacy_positions": "model, id",
        "legacy_logs": "model, date, line_no, seq",
        "prices": "source, date, symbol",
    }
    for table, order in tables.items():
        rows = {
            name: [{k: v for k, v in r.items() if k not in ("registered_at", "imported_at")}
                   for r in table_rows(store, table, order)]
            for name, store in stores.items()
        }  # fmt: skip
        assert rows["postgres"] == rows["duckdb"], table
        assert rows["postgres"], table


def test_every_migration_gives_postgres_the_columns_and_types_of_a_duckdb_file(pg_stores, tmp_path):
    from trading_assets.store.analytics import table_shape

    stores = [ResultStore(tmp_path / "s.duckdb"), ResultStore(pg_stores.new())]
    listed = "SELECT table_name FROM information_schema.tables WHERE table_catalog = "
    listed += "current_database() AND table_schema = current_schema() ORDER BY 1"
    tables = [list(store.query(listed)["table_name"]) for store in stores]
    assert tables[0] == tables[1] and "metrics" in tables[0] and "listings" in tables[0]
    for table in tables[0]:
        duckdb_file, on_postgres = (table_shape(store, table) for store in stores)
        assert on_postgres == duckdb_file, table  # (column, DuckDB type) list, 0 rows
