"""Schedules and sensors evaluated by a real `dagster-daemon` on a real instance and store.

One daemon serves the module (workspace.yaml, like production). The models config names
one model on a folder of CSV prices; nothing else is done by hand except what an operator
does: start the automation, and later drop new price data in and load it.
- models_config_sensor registers the model and loads its prices (a market_prices run);
- new_models_sensor adds its partition and runs its whole history;
- new prices in the store make new_prices_sensor run exactly the new days;
- trading_day_close, made to tick every minute, is evaluated by the daemon on today's
  date, and on pinned dates against the same instance and store (a weekend, a session
  already materialized, a session past the data), so every branch runs whatever today is.
Every wait is bounded; a failure prints the daemon's log.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import exchange_calendars as xcals
import pytest

from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.automation import trading_day_close
from trading_assets.defs.resources.store import StoreResource
from trading_assets_tests.e2e import REPO

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
WORKSPACE = REPO / "workspace.yaml"
MODEL = "hold-aaa"
XNYS = xcals.get_calendar("XNYS", start="2023-12-01")
JANUARY = [d.date() for d in XNYS.sessions_in_range("2024-01-02", "2024-01-31")]
FEBRUARY_FIRST = [d.date() for d in XNYS.sessions_in_range("2024-02-01", "2024-02-02")]
WAIT_S = 240


def write_bars(folder: Path, days: list[dt.date]) -> None:
    lines = ["date,open,high,low,close,volume"]
    lines += [f"{d},{100 + i},{101 + i},{99 + i},{100.5 + i},1000" for i, d in enumerate(days)]
    (folder / "AAA.csv").write_text("\n".join(lines) + "\n")


class Daemon:
    def __init__(self, tmp: Path):
        self.home, self.store = tmp / "dagster_home", tmp / "store.duckdb"
        self.prices, self.config = tmp / "prices", tmp / "models.yaml"
        self.home.mkdir()
        self.prices.mkdir()
        shutil.copyfile(REPO / "dagster.yaml", self.home / "dagster.yaml")
        self.env = {
            **os.environ,
            "DAGSTER_HOME": str(self.home),
            "TRADING_ASSETS_STORE": str(self.store),
            "TRADING_ASSETS_CONFIG": str(self.config),
            "TA_TRADING_DAY_CLOSE_CRON": "* * * * *",
        }
        self.log = tmp / "daemon.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        # Create the instance's SQLite storages once, before several processes (daemon,
        # its code server, the `dagster sensor start` calls) would race to create them
        # (two alembic heads in runs.db).
        self.instance().get_runs(limit=1)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [str(BIN / "dagster-daemon"), "run", "-w", str(WORKSPACE)],
                env=self.env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def dagster(self, *args: str) -> None:
        done = subprocess.run(
            [str(BIN / "dagster"), *args, "-w", str(WORKSPACE)],
            env=self.env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr

    def instance(self) -> dg.DagsterInstance:
        os.environ["DAGSTER_HOME"] = str(self.home)
        return dg.DagsterInstance.get()

    def wait_for(self, what: str, predicate) -> None:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(2)
        pytest.fail(f"{what}: not within {WAIT_S} s; daemon log:\n{self.log.read_text()[-4000:]}")


def ticks(instance: dg.DagsterInstance, name: str) -> list:
    """The instigator's finished ticks, newest first (a tick being evaluated is STARTED)."""
    [state] = [s for s in instance.all_instigator_state() if s.instigator_name == name]
    ticks = instance.get_ticks(state.instigator_origin_id, state.selector_id)
    return [t for t in ticks if t.status.value != "STARTED"]


def stored_days(daemon: Daemon) -> list[dt.date]:
    if not daemon.store.exists():
        return []
    try:
        con = duckdb.connect(str(daemon.store), read_only=True)
    except duckdb.IOException:  # a run is writing: ask again at the next poll
        return []
    try:
        if not con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'model_days'"
        ).fetchone()[0]:
            return []
        rows = con.execute(
            "SELECT date FROM model_days WHERE model = ? AND status = 'completed' ORDER BY date",
            [MODEL],
        ).fetchall()
    finally:
        con.close()
    return [r[0] for r in rows]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    daemon = Daemon(tmp_path_factory.mktemp("automation"))
    write_bars(daemon.prices, JANUARY)
    daemon.config.write_text(
        f"initial_cash: 10000\nuniverse: [AAA]\n"
        f"market_data: {{source: folder, path: '{daemon.prices}'}}\n"
        f"models:\n  - {{signature: {MODEL}, agent: buy_and_hold}}\n"
    )
    daemon.start()
    try:
        for sensor in ("models_config_sensor", "new_models_sensor", "new_prices_sensor"):
            daemon.dagster("sensor", "start", sensor)
        daemon.dagster("schedule", "start", "trading_day_close")
        yield daemon
    finally:
        daemon.stop()


def test_config_sensor_and_new_models_sensor_run_the_new_models_history(daemon):
    daemon.wait_for("the model's January history stored", lambda: stored_days(daemon) == JANUARY)
    instance = daemon.instance()
    runs = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.SUCCESS]))
    keys = {r.tags.get("dagster/run_key") for r in runs}
    assert f"register-{MODEL}" in keys
    assert any(k and k.startswith("models-config-") for k in keys)  # the prices run
    assert instance.get_dynamic_partitions("models") == [MODEL]
    [config_tick] = [t for t in ticks(instance, "models_config_sensor") if t.run_ids]
    assert config_tick.cursor  # the config's digest: an unchanged file is not re-read


def test_new_prices_sensor_runs_exactly_the_newly_priced_days(daemon):
    daemon.wait_for("January stored", lambda: stored_days(daemon) == JANUARY)
    write_bars(daemon.prices, JANUARY + FEBRUARY_FIRST)
    instance = daemon.instance()
    # what market_prices_daily does after the close, done now
    store = StoreResource(path=str(daemon.store))
    loaded = dg.materialize([market_prices], instance=instance, resources={"store": store})
    assert loaded.success

    expected = JANUARY + FEBRUARY_FIRST
    daemon.wait_for("February's first days", lambda: stored_days(daemon) == expected)
    first, last = FEBRUARY_FIRST[0], FEBRUARY_FIRST[-1]
    key = f"prices-{MODEL}-{first}-{last}"
    runs = instance.get_runs(dg.RunsFilter(tags={"dagster/run_key": key}))
    assert len(runs) == 1  # one run over the new days only, never the whole history again
    assert runs[0].tags["dagster/asset_partition_range_start"] == f"{first}|{MODEL}"


def close_reason(daemon: Daemon, day: dt.date) -> str:
    """What trading_day_close says at 18:00 New York on `day`, evaluated on the daemon's
    own instance and store (the tick's date is an input: both branches, whatever today is)."""
    tick = dt.datetime(day.year, day.month, day.day, 18, tzinfo=ZoneInfo("America/New_York"))
    with dg.build_schedule_context(
        instance=daemon.instance(),
        scheduled_execution_time=tick,
        resources={"store": StoreResource(path=str(daemon.store))},
    ) as context:
        result = trading_day_close(context)
    assert isinstance(result, dg.SkipReason), result
    return result.skip_message


def test_trading_day_close_on_pinned_days_says_why_it_launches_nothing(daemon):
    daemon.wait_for("January stored", lambda: stored_days(daemon)[: len(JANUARY)] == JANUARY)
    saturday, session = dt.date(2024, 1, 6), dt.date(2024, 1, 31)
    after_the_data = dt.date(2024, 3, 4)  # a Monday session past the model's last bar
    assert close_reason(daemon, saturday) == (
        "2024-01-06 (Saturday) is not an XNYS session: nothing to simulate"
    )
    assert close_reason(daemon, session) == (
        "2024-01-31: every enabled model's day is already materialized"
    )
    assert close_reason(daemon, after_the_data).startswith(
        f"2024-03-04: no bars for 2024-03-04 yet for {MODEL}; market_prices_daily loads them"
    )


def test_trading_day_close_is_evaluated_by_the_daemon_on_todays_date(daemon):
    """The daemon's own tick, after the model is registered: on a session today has no
    bars (the data ends in 2024), on any other day it is not a session. Either way the
    tick says why in the UI, and no run for a partition outside the data is requested."""
    daemon.wait_for("January stored", lambda: stored_days(daemon)[: len(JANUARY)] == JANUARY)
    instance = daemon.instance()
    since = time.time()

    def newer():
        return [t for t in ticks(instance, "trading_day_close") if t.timestamp > since]

    daemon.wait_for("a trading_day_close tick after registration", newer)
    tick = newer()[-1]
    day = dt.datetime.fromtimestamp(tick.timestamp, ZoneInfo("America/New_York")).date()
    assert tick.status.value == "SKIPPED", tick
    assert tick.run_ids == []
    if XNYS.is_session(day.isoformat()):
        assert tick.skip_reason.startswith(f"{day}: no bars for {day} yet for {MODEL};")
    else:
        assert tick.skip_reason == f"{day} ({day:%A}) is not an XNYS session: nothing to simulate"
