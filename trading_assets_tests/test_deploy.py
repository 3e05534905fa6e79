"""The production deployment files in deploy/ work as written.

- every systemd unit passes `systemd-analyze verify` (when the tool exists) and its
  ExecStart runs a binary of this venv with subcommands and flags that binary accepts;
- deploy/dagster.postgres.yaml loads as a Dagster instance on a real PostgreSQL database
  of its own, `dagster instance migrate` succeeds on it, and the run queue is bounded;
- the three services, started with their units' own command lines (paths and ports
  moved to this checkout and free ports), serve: the webserver loads the code location
  from the code server, and the daemon heartbeats into Postgres.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import psycopg2
import pytest
import yaml

from trading_assets_tests.e2e import REPO, postgres_database

DEPLOY = REPO / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))
INSTALL_ROOT = "/opt/trading_assets"  # where the units expect the checkout
BIN = Path(sys.executable).parent


def exec_start(unit: Path) -> list[str]:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # keep the keys' case
    parser.read(unit)
    return shlex.split(parser["Service"]["ExecStart"])


def local(argv: list[str], **ports: int) -> list[str]:
    """A unit's command line for this checkout: /opt/trading_assets -> the repo, ports moved."""
    text = shlex.join(argv).replace(INSTALL_ROOT, str(REPO))
    for old, new in ports.items():
        text = text.replace(f"-p {old.lstrip('p')}", f"-p {new}")
    return shlex.split(text)


def test_units_name_the_three_services():
    assert [u.name for u in UNITS] == [
        "trading-assets-code-server.service",
        "trading-assets-daemon.service",
        "trading-assets-webserver.service",
    ]


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.stem)
def test_unit_exec_start_binary_exists_and_accepts_every_flag(unit):
    argv = local(exec_start(unit))
    binary = Path(argv[0])
    assert binary.parent == BIN and os.access(binary, os.X_OK), f"{unit.name}: {binary}"
    words = [a for a in argv[1:] if not a.startswith("-")]
    subcommands = [w for w in words if "/" not in w and "." not in w and not w.isdigit()]
    subcommands = subcommands[: {"dagster": 2, "dagster-daemon": 1}.get(binary.name, 0)]
    help_text = subprocess.run(
        [str(binary), *subcommands, "--help"], capture_output=True, text=True, check=True
    ).stdout
    for flag in (a for a in argv[1:] if a.startswith("-")):
        assert f"{flag} " in help_text or f"{flag}," in help_text, f"{unit.name}: {flag}"


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_units_pass_systemd_analyze_verify(tmp_path):
    env = tmp_path / "env"
    env.write_text((DEPLOY / "trading-assets.env.example").read_text())
    for unit in UNITS:
        text = unit.read_text().replace(INSTALL_ROOT, str(REPO))
        text = text.replace("/etc/trading_assets/env", str(env))
        # the service user exists only on a real host
        text = text.replace("User=trading-assets", "User=root")
        (tmp_path / unit.name).write_text(text.replace("Group=trading-assets", "Group=root"))
    done = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.glob("*.service"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr


# -- the instance on a real PostgreSQL database -----------------------------------------


@pytest.fixture
def pg_url():
    with postgres_database("ta_ops_deploy") as url:
        yield url


@pytest.fixture
def home(tmp_path, pg_url, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copyfile(DEPLOY / "dagster.postgres.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("TRADING_ASSETS_PG_URL", pg_url)
    monkeypatch.setenv("TRADING_ASSETS_STORE", str(tmp_path / "store.duckdb"))
    return home


def test_production_instance_migrates_and_loads_on_postgres_with_a_bounded_queue(home, pg_url):
    migrate = subprocess.run(
        [str(BIN / "dagster"), "instance", "migrate"], capture_output=True, text=True, check=False
    )
    assert migrate.returncode == 0, migrate.stderr

    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        assert type(instance.event_log_storage).__name__ == "PostgresEventLogStorage"
        assert type(instance.schedule_storage).__name__ == "PostgresScheduleStorage"
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        limits = instance.get_concurrency_config().run_queue_config
        assert limits.max_concurrent_runs == 4
        assert {"key": "dagster/sensor_name", "limit": 2} in limits.tag_concurrency_limits
        assert instance.run_monitoring_enabled
    with psycopg2.connect(pg_url) as con, con.cursor() as cur:
        cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'runs'")
        assert cur.fetchone() == (1,)


@pytest.mark.parametrize("host", ["127.0.0.1", "10.77.9.1"])  # the head, a worker host
def test_celery_instance_takes_every_address_from_the_environment(
    tmp_path, pg_url, host, monkeypatch
):
    home = tmp_path / "celery_home"
    home.mkdir()
    shutil.copyfile(DEPLOY / "dagster.celery.yaml", home / "dagster.yaml")
    monkeypatch.setenv("TRADING_ASSETS_PG_URL", pg_url)
    monkeypatch.setenv("TRADING_ASSETS_CELERY_BROKER", f"amqp://guest:guest@{host}:5672//")
    monkeypatch.setenv("TRADING_ASSETS_CELERY_BACKEND", f"redis://{host}:6379/0")
    monkeypatch.setenv("TRADING_ASSETS_CELERY_QUEUE", "celery_deploy_test")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        launcher = instance.run_launcher
        assert type(launcher).__name__ == "WorkerCheckingCeleryRunLauncher"
        assert launcher.celery.conf.broker_url == f"amqp://guest:guest@{host}:5672//"
        assert launcher.celery.conf.result_backend == f"redis://{host}:6379/0"
        assert launcher.default_queue == "celery_deploy_test"
        assert launcher.celery.conf.result_extended is True  # the worker's name in results
        assert instance.run_monitoring_enabled
        assert instance.run_monitoring_max_resume_run_attempts == 0
    worker = yaml.safe_load((DEPLOY / "celery_worker.yaml").read_text())["execution"]["config"]
    assert worker["broker"] == {"env": "TRADING_ASSETS_CELERY_BROKER"}
    assert worker["backend"] == {"env": "TRADING_ASSETS_CELERY_BACKEND"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what: str, predicate, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, KeyError, TypeError, ValueError):  # still starting up
            pass
        time.sleep(1)
    pytest.fail(f"{what}: not within {timeout:g} s")


LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries {
    name locationOrLoadError { __typename } } } } }"""


def locations(port: int) -> dict[str, str]:
    """Code location name -> RepositoryLocation or PythonError, as the UI sees them."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": LOCATIONS}).encode(),
        headers={"Content-Type": "application/json"},
    )
    body = json.loads(urllib.request.urlopen(request, timeout=5).read())
    entries = body["data"]["workspaceOrError"]["locationEntries"]
    return {e["name"]: (e["locationOrLoadError"] or {}).get("__typename") for e in entries}


@pytest.mark.slow
def test_services_started_from_their_units_serve_the_code_location(home, tmp_path):
    migrate = subprocess.run([str(BIN / "dagster"), "instance", "migrate"], check=False)
    assert migrate.returncode == 0
    grpc, web = free_port(), free_port()
    workspace = yaml.safe_load((DEPLOY / "workspace.yaml").read_text())
    workspace["load_from"][0]["grpc_server"]["port"] = grpc
    (tmp_path / "workspace.yaml").write_text(yaml.safe_dump(workspace))
    commands = {}
    for unit in UNITS:
        argv = local(exec_start(unit), p4266=grpc, p3000=web)
        argv = [
            str(tmp_path / a.rsplit("/", 1)[-1]) if a.endswith("workspace.yaml") else a
            for a in argv
        ]
        commands[unit.stem.removeprefix("trading-assets-")] = argv
    procs = []
    try:
        for name in ("code-server", "webserver", "daemon"):
            log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
            procs.append(subprocess.Popen(commands[name], cwd=REPO, stdout=log, stderr=log))
        wait_until(
            "the code location, through the code server",
            lambda: locations(web) == {"trading_assets": "RepositoryLocation"},
        )
        with dg.DagsterInstance.get() as instance:
            wait_until("a daemon heartbeat in Postgres", lambda: instance.get_daemon_heartbeats())
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
