"""The result store (either backend: --store-backend): migrations, models, idempotent
model-day writes, the chain of states between runs, a foreign process holding the file
(DuckDB), and the leaderboard.

Prices come from the bundled source; ranges are a few January 2012 sessions so the
module stays fast. One template store (prices written once) is copied per test.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import subprocess
import sys
import time

import pandas as pd
import pytest

import trading_assets.store.db as store_db
from trading_assets.analytics.metrics import performance
from trading_assets.config import FeesConfig, MarketDataConfig, ModelSpec
from trading_assets.errors import StoreError
from trading_assets.market.calendar import trading_days
from trading_assets.market.history import PriceHistory
from trading_assets.market.sources import BundledSource
from trading_assets.runs.metrics import compute_metrics
from trading_assets.runs.model import run_model
from trading_assets.store.leaderboard import LEADERBOARD_COLUMNS, leaderboard
from trading_assets.store.metrics import stored_metrics
from trading_assets.store.results import RESULT_TABLES, ResultStore
from trading_assets.store.schema import MIGRATIONS
from trading_assets.vocab import CONTRACT_VERSION

# 2012-01-03 .. 2012-01-20: 13 sessions (Martin Luther King Jr. Day, the 16th, is closed).
DAYS = trading_days(dt.date(2012, 1, 3), dt.date(2012, 1, 20))
UNIVERSE = ("AAPL", "IBM", "MSFT")


def spec(signature: str, agent: str, params: dict | None = None, cash=100_000.0) -> ModelSpec:
    return ModelSpec(
        signature=signature,
        agent=agent,
        params=params or {},
        universe=UNIVERSE,
        initial_cash=cash,
        market_data=MarketDataConfig(),
        fees=FeesConfig(),
    )


BH = spec("bh", "buy_and_hold")
SMA = spec("sma", "sma_crossover", {"fast": 2, "slow": 5, "size": 10})


@pytest.fixture(scope="module")
def template(module_stores):
    path = module_stores.new("template")
    ResultStore(path).write_prices("bundled", BundledSource().load())
    return path


@pytest.fixture
def store(template, stores) -> ResultStore:
    result = ResultStore(stores.copy(template))
    result.register_models([BH, SMA])
    return result


def rows(store: ResultStore, table: str, model: str) -> pd.DataFrame:
    volatile = " EXCLUDE (started_at, completed_at, run_id)" if table == "model_days" else ""
    keys = {"orders": "date, seq", "holdings": "date, symbol", "signals": "date, symbol"}
    return store.query(
        f"SELECT *{volatile} FROM {table} WHERE model = ? ORDER BY {keys.get(table, 'date')}",
        [model],
    )


def snapshot(store: ResultStore, model: str) -> dict[str, pd.DataFrame]:
    return {t: rows(store, t, model) for t in RESULT_TABLES}


def assert_same(a: dict[str, pd.DataFrame], b: dict[str, pd.DataFrame]) -> None:
    for table in RESULT_TABLES:
        pd.testing.assert_frame_equal(a[table], b[table], obj=table)


# -- migrations ----------------------------------------------------------------------


def migration_tables(upto: int | None = None) -> set[str]:
    """Every table the shipped migrations leave, read from their SQL in order (a table
    made anew is created, filled, the old one dropped and the new one renamed)."""
    tables: set[str] = set()
    statement = re.compile(
        r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)|DROP TABLE (\w+)|ALTER TABLE (\w+) RENAME TO (\w+)",
        flags=re.I,
    )
    for version, _, sql in MIGRATIONS:
        if upto is not None and version > upto:
            continue
        for created, dropped, old, new in statement.findall(sql):
            tables = (tables | {created.lower()}) if created else tables
            tables -= {dropped.lower(), old.lower()}
            tables |= {new.lower()} if new else set()
    return tables - {""}


def store_tables(store: ResultStore) -> set[str]:
    return set(
        store.query(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = current_schema()"
        )["table_name"]
    )


def test_store_with_new_file_creates_every_table_and_records_version_1(stores):
    store = ResultStore(stores.new())
    assert {"models", "prices", *RESULT_TABLES} <= migration_tables(upto=1)
    assert migration_tables() | {"schema_migrations"} <= store_tables(store)
    migrations = store.query("SELECT version, name FROM schema_migrations ORDER BY version")
    assert migrations["version"].tolist() == [v for v, _, _ in MIGRATIONS]
    assert migrations["version"].iloc[0] == 1
    assert migrations["name"].tolist() == [name for _, name, _ in MIGRATIONS]


def test_store_with_version_1_file_upgrades_to_latest_on_open(stores, monkeypatch):
    path = stores.new()
    with monkeypatch.context() as patch:
        patch.setattr(store_db, "MIGRATIONS", MIGRATIONS[:1])
        old = ResultStore(path)
        old.register_models([BH])
        assert set(old.query("SELECT version FROM schema_migrations")["version"]) == {1}
    store = ResultStore(path)
    versions = store.query("SELECT version FROM schema_migrations ORDER BY 1")["version"]
    assert versions.tolist() == [v for v, _, _ in MIGRATIONS]
    assert migration_tables() <= store_tables(store)
    assert store.model_spec("bh") == BH  # data from before the upgrade is kept


def test_store_with_version_12_study_returns_keeps_rows_and_drops_the_key(stores, monkeypatch):
    path = stores.new()
    row = "INSERT INTO study_returns VALUES ('s', 't', DATE '2020-01-02', 0.01, 101.0)"
    with monkeypatch.context() as patch:
        patch.setattr(store_db, "MIGRATIONS", [m for m in MIGRATIONS if m[0] <= 12])
        ResultStore(path).query(row)
    store = ResultStore(path)
    assert store.query("SELECT * FROM study_returns").values.tolist() == [
        ["s", "t", pd.Timestamp("2020-01-02"), 0.01, 101.0]
    ]
    store.query(row)  # no declared key: write_study's delete-then-insert keeps it unique
    assert len(store.query("SELECT * FROM study_returns")) == 2


def test_store_with_reopened_file_does_not_reapply_migrations(stores):
    path = stores.new()
    store = ResultStore(path)
    first = store.query("SELECT * FROM schema_migrations")
    store.register_models([BH])
    again = ResultStore(path)
    pd.testing.assert_frame_equal(again.query("SELECT * FROM schema_migrations"), first)
    assert again.model_signatures() == ["bh"]


def test_store_with_newer_schema_version_raises_store_error(stores):
    path = stores.new()
    ResultStore(path).query(
        "INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')"
    )
    with pytest.raises(StoreError) as info:
        ResultStore(path).model_signatures()
    assert "99" in str(info.value) and "newer" in str(info.value)
    assert "upgrade trading_assets" in info.value.fix


# -- models ----------------------------------------------------------------------------


def test_model_spec_with_registered_model_round_trips(store):
    assert store.model_spec("sma") == SMA
    assert store.model_spec("sma").config_hash == SMA.config_hash
    assert store.model_signatures() == ["bh", "sma"]
    stored = store.query("SELECT agent, config_hash, contract_version FROM models ORDER BY 1")
    assert stored.values.tolist() == [
        ["buy_and_hold", BH.config_hash, CONTRACT_VERSION],
        ["sma_crossover", SMA.config_hash, CONTRACT_VERSION],
    ]


def test_register_models_with_changed_spec_replaces_it(store):
    changed = spec("sma", "sma_crossover", {"fast": 3, "slow": 5, "size": 10})
    store.register_models([changed])
    assert store.model_spec("sma") == changed
    assert store.model_signatures() == ["bh", "sma"]


def test_model_spec_with_unknown_model_names_the_registered_ones(store):
    with pytest.raises(StoreError) as info:
        store.model_spec("nope")
    assert "'nope'" in str(info.value)
    assert "registered: bh, sma" in str(info.value)
    assert "backfill --config" in info.value.fix


# -- run_model writes ----------------------------------------------------------------


def test_run_model_with_short_range_writes_every_result_table(store):
    run = run_model(store, "bh", DAYS[:5])
    assert run.failure is None and run.completed_dates == DAYS[:5]
    days = rows(store, "model_days", "bh")
    assert [d.date() for d in days["date"]] == DAYS[:5]
    assert set(days["status"]) == {"completed"}
    assert (days["config_hash"] == BH.config_hash).all()
    orders = rows(store, "orders", "bh")
    assert len(orders) == 3 and set(orders["status"]) == {"filled"}
    assert {d.date() for d in orders["date"]} == {DAYS[0]}
    holdings = rows(store, "holdings", "bh")
    assert len(holdings) == 3 * 5
    assert len(rows(store, "signals", "bh")) == 3
    for _, day in days.iterrows():
        held = holdings[holdings["date"] == day["date"]]
        assert day["positions_value"] == pytest.approx(held["market_value"].sum())
        assert day["portfolio_value"] == pytest.approx(day["cash"] + day["positions_value"])
        assert day["cumulative_return"] == pytest.approx(day["portfolio_value"] / 100_000 - 1)


def test_run_model_with_fresh_model_starts_from_initial_cash(store):
    store.register_models([spec("rich", "buy_and_hold", cash=12_345.0)])
    run_model(store, "bh", DAYS[:3])  # another model's history must not leak in
    run_model(store, "rich", [DAYS[2]])
    day = rows(store, "model_days", "rich").iloc[0]
    orders = rows(store, "orders", "rich")
    spent = float((orders["price"] * orders["quantity"]).sum())
    assert 0 < spent <= 12_345.0
    assert day["cash"] == pytest.approx(12_345.0 - spent)
    assert day["daily_return"] == pytest.approx(day["portfolio_value"] / 12_345.0 - 1)
    assert store.start_state(BH, DAYS[0], None).state.cash == 100_000.0


def test_run_model_with_range_split_in_two_runs_equals_one_run(store, template, stores):
    run_model(store, "sma", DAYS[:6])
    run_model(store, "sma", DAYS[6:])
    other = ResultStore(stores.copy(template, "other"))
    other.register_models([SMA])
    run_model(other, "sma", DAYS)
    assert_same(snapshot(store, "sma"), snapshot(other, "sma"))
    assert len(rows(store, "orders", "sma")) > 0, "the range should trade for this to matter"


def test_run_model_with_same_range_rerun_replaces_rows_without_duplicates(store):
    run_model(store, "sma", DAYS)
    first = snapshot(store, "sma")
    run_model(store, "sma", DAYS, run_id="second")
    assert_same(snapshot(store, "sma"), first)
    ids = store.query("SELECT DISTINCT run_id FROM model_days WHERE model = 'sma'")
    assert ids["run_id"].tolist() == ["second"]


def test_run_model_with_one_middle_day_rerun_reproduces_that_day(store):
    run_model(store, "sma", DAYS)
    run_model(store, "bh", DAYS)
    first = {m: snapshot(store, m) for m in ("sma", "bh")}
    for model in ("sma", "bh"):
        run = run_model(store, model, [DAYS[6]], run_id="redo")
        assert run.completed_dates == [DAYS[6]]
    for model in ("sma", "bh"):
        assert_same(snapshot(store, model), first[model])
    redone = store.query("SELECT model, date FROM model_days WHERE run_id = 'redo' ORDER BY 1")
    assert redone["model"].tolist() == ["bh", "sma"]
    assert {d.date() for d in redone["date"]} == {DAYS[6]}


def test_run_model_with_non_consecutive_days_keeps_the_days_between(store):
    run_model(store, "bh", DAYS[:5])
    run_model(store, "bh", [DAYS[1], DAYS[3]])
    kept = rows(store, "model_days", "bh")
    assert [d.date() for d in kept["date"]] == DAYS[:5]


# -- the chain of states ---------------------------------------------------------------


def test_run_model_with_previous_trading_day_missing_names_partition_and_fix(store):
    run_model(store, "bh", DAYS[:3])
    with pytest.raises(StoreError) as info:
        run_model(store, "bh", [DAYS[4]])  # DAYS[3] (2012-01-06) never ran
    error = info.value
    assert error.where == "partition 2012-01-09|bh"
    assert "previous trading day 2012-01-06 has no result" in str(error)
    assert "last stored: 2012-01-05" in str(error)
    assert "materialize bh from 2012-01-06" in error.fix
    assert len(rows(store, "model_days", "bh")) == 3


def gappy_store(template, stores, missing: dt.date) -> ResultStore:
    store = ResultStore(stores.copy(template, "gappy"))
    frame = store.load_prices("bundled").to_frame()
    frame = frame[frame["date"] != missing]
    store.write_prices("bundled", PriceHistory.from_frame(frame, source="bundled"))
    store.register_models([BH])
    return store


def test_run_model_with_day_missing_from_prices_stores_failure_and_keeps_earlier_days(
    template, stores
):
    store = gappy_store(template, stores, DAYS[2])
    run = run_model(store, "bh", DAYS[:5])
    assert run.completed_dates == DAYS[:2]
    assert run.failure is not None and run.failure.date == DAYS[2]
    days = rows(store, "model_days", "bh")
    assert days["status"].tolist() == ["completed", "completed", "failed"]
    failed = days.iloc[2]
    assert "2012-01-05" in failed["error_message"]
    assert math.isnan(failed["portfolio_value"])
    assert failed["cash"] == days.iloc[1]["cash"]
    assert len(rows(store, "holdings", "bh")) == 3 * 2  # none for the failed day


def test_run_model_with_previous_day_failed_raises_and_says_rerun_it(template, stores):
    store = gappy_store(template, stores, DAYS[2])
    run_model(store, "bh", DAYS[:3])
    with pytest.raises(StoreError) as info:
        run_model(store, "bh", [DAYS[3]])
    assert "previous day 2012-01-05 failed" in str(info.value)
    assert info.value.where == "partition 2012-01-06|bh"
    assert "re-run 2012-01-05|bh" in info.value.fix


# -- a foreign process holding the file ------------------------------------------------

HOLDER = (
    "import duckdb, sys, time\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "print('ready', flush=True)\n"
    "time.sleep(float(sys.argv[2]))\n"
)


def hold_file(path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.duckdb_file
def test_store_with_foreign_process_holding_file_retries_then_fails_clearly(store, monkeypatch):
    run_model(store, "bh", DAYS[:3])
    before = snapshot(store, "bh")
    monkeypatch.setattr(store_db, "WAIT_TIMEOUT_S", 1.0)
    holder = hold_file(store.path, 60)
    try:
        started = time.monotonic()
        with pytest.raises(StoreError) as info:
            run_model(store, "bh", [DAYS[3]])
        assert time.monotonic() - started >= 1.0  # it retried for WAIT_TIMEOUT_S
    finally:
        holder.kill()
        holder.wait()
    assert "cannot open the store" in str(info.value)
    assert info.value.where == str(store.path)
    assert "close other programs" in info.value.fix
    assert_same(snapshot(store, "bh"), before)  # nothing written is lost
    run_model(store, "bh", [DAYS[3]])  # and the day runs once the file is free
    assert len(rows(store, "model_days", "bh")) == 4


@pytest.mark.duckdb_file
def test_store_with_foreign_process_leaving_soon_waits_and_succeeds(store, monkeypatch):
    monkeypatch.setattr(store_db, "WAIT_TIMEOUT_S", 20.0)
    holder = hold_file(store.path, 1.0)
    try:
        assert store.model_signatures() == ["bh", "sma"]
    finally:
        holder.kill()
        holder.wait()


# -- the leaderboard -------------------------------------------------------------------


def day(model: str, date: dt.date, status: str, value: float | None, ret: float | None):
    return {
        "model": model,
        "date": date,
        "status": status,
        "portfolio_value": value,
        "daily_return": ret,
        "contract_version": CONTRACT_VERSION,
    }


def test_leaderboard_with_hand_checked_values_returns_documented_columns(stores):
    store = ResultStore(stores.new("lb"))
    store.register_models(
        [spec("up", "buy_and_hold", cash=1000.0), spec("down", "bollinger", cash=1000.0)]
    )
    d = DAYS
    up = [
        day("up", d[0], "completed", 1000.0, 0.0),
        day("up", d[1], "completed", 1100.0, 0.1),
        day("up", d[2], "degraded_success", 990.0, -0.1),
        day("up", d[3], "completed", 1210.0, 1210.0 / 990.0 - 1),
        day("up", d[4], "failed", None, None),
    ]
    down = [
        day("down", d[0], "completed", 1000.0, 0.0),
        day("down", d[1], "completed", 900.0, -0.1),
    ]
    store.write_results("up", d[:5], {"model_days": up})
    store.write_results("down", d[:2], {"model_days": down})
    store.register_models([spec("never-ran", "bollinger")])
    # the metrics rows, as the metrics table holds them (the figures' one home)
    metrics = pd.DataFrame(
        [
            {"model": "down", "cumulative_return": -0.1, "annual_return": None,
             "max_drawdown": 0.1, "sharpe": -11.2, "days": 2, "first_date": d[0],
             "last_date": d[1], "sortino": None, "fast": None},
            {"model": "up", "cumulative_return": 0.21, "annual_return": None,
             "max_drawdown": 0.1, "sharpe": 6.38688, "days": 4, "first_date": d[0],
             "last_date": d[3], "sortino": 9.5, "fast": 3},
        ]
    )  # fmt: skip

    board = leaderboard(store, metrics)
    assert list(board.columns) == [*LEADERBOARD_COLUMNS, "sortino", "fast"]
    assert board["model"].tolist() == ["up", "down"]  # best total return first
    top = board.iloc[0].to_dict()
    assert top["agent"] == "buy_and_hold"
    assert top["final_value"] == 1210.0  # the last day that counts (the 5th failed)
    assert (top["total_return"], top["max_drawdown"], top["sharpe"]) == (0.21, 0.1, 6.38688)
    assert top["trading_days"] == 4 and top["sortino"] == 9.5 and top["fast"] == 3
    assert (top["first_date"], top["last_date"]) == ("2012-01-03", "2012-01-06")
    assert (top["degraded_days"], top["failed_days"]) == (1, 1)
    bottom = board.iloc[1].to_dict()
    assert (bottom["total_return"], bottom["trading_days"], bottom["failed_days"]) == (-0.1, 2, 0)
    # the hand-checked Sharpe above, over the returns 0, 0.1, -0.1, 0.2222 (the failed
    # day left out): mean excess 0.0555556 - 0.02/252, sample std 0.137885, x sqrt(252)
    r = pd.Series([0.0, 0.1, -0.1, 1210.0 / 990.0 - 1], index=pd.DatetimeIndex(d[:4]))
    assert performance(r).sharpe == pytest.approx(6.38688, abs=1e-5)


def test_leaderboard_with_real_run_matches_stored_values(store):
    run_model(store, "bh", DAYS)
    board = leaderboard(store, compute_metrics(store).frame).set_index("model")
    days = rows(store, "model_days", "bh")
    assert board.loc["bh", "final_value"] == days["portfolio_value"].iloc[-1]
    assert board.loc["bh", "total_return"] == pytest.approx(days["cumulative_return"].iloc[-1])
    assert board.loc["bh", "trading_days"] == len(DAYS)
    initial = json.loads(store.query("SELECT spec FROM models WHERE signature = 'bh'")["spec"][0])
    assert initial["initial_cash"] == 100_000.0


def test_leaderboard_with_empty_store_has_columns_and_no_rows(stores):
    empty = ResultStore(stores.new("empty"))
    board = leaderboard(empty, stored_metrics(empty))
    assert list(board.columns)[: len(LEADERBOARD_COLUMNS)] == LEADERBOARD_COLUMNS
    assert board.empty


@pytest.mark.duckdb_file
def test_store_lock_held_elsewhere_times_out_naming_the_lock_file(tmp_path):
    from trading_assets.store.db import StoreWait, file_lock

    path = tmp_path / "store.duckdb"
    with (
        file_lock(path),
        pytest.raises(StoreError, match="waited 0 s") as caught,
        file_lock(path, StoreWait(timeout_s=0.1)),
    ):
        pass
    assert caught.value.where == str(tmp_path / "store.duckdb.lock")
