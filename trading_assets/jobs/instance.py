"""Find (or set up) the Dagster instance and make sure a daemon serves it.

DAGSTER_HOME defaults to ./.dagster_home, linked to ./dagster.yaml when that exists
(the project checkout); the CLI starts `dagster-daemon` for the duration of a backfill
when no daemon is heartbeating, and stops it afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from trading_assets.instance import DAGSTER_EVENT_SETTINGS, hold_connections

CODE_MODULE = "trading_assets.defs.definitions"
TEMPLATE = Path(__file__).resolve().parents[2] / "dagster.yaml"


def ensure_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() and TEMPLATE.exists():
        shutil.copyfile(TEMPLATE, config)
    os.environ["DAGSTER_HOME"] = str(home)
    # runs launched by this process (in-process range runs, the daemon it starts) batch
    # their events, unless the shell chose otherwise
    for name, value in DAGSTER_EVENT_SETTINGS.items():
        os.environ.setdefault(name, value)
    return home


def get_instance() -> dg.DagsterInstance:
    ensure_home()
    return hold_connections(dg.DagsterInstance.get())


def daemon_alive(instance: dg.DagsterInstance, max_age_s: float = 45.0) -> bool:
    """A daemon heartbeats every 30 s; one we started wipes its heartbeats when it stops."""
    beats = instance.get_daemon_heartbeats()
    beat = beats.get("BACKFILL")
    return beat is not None and time.time() - beat.timestamp < max_age_s


@contextmanager
def running_daemon(
    instance: dg.DagsterInstance, env: dict[str, str]
) -> Iterator[Callable[[], bool]]:
    """Yield a check that the daemon still lives: the daemon this process started (and
    stops afterwards) is watched by its pid, within a poll; a daemon that already ran, by
    its heartbeat (every 30 s)."""
    if daemon_alive(instance):
        yield lambda: daemon_alive(instance, max_age_s=75.0)
        return
    bin_dir = Path(sys.executable).parent
    log = Path(os.environ["DAGSTER_HOME"]) / "daemon.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [str(bin_dir / "dagster-daemon"), "run", "-m", CODE_MODULE],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield lambda: proc.poll() is None
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        instance.wipe_daemon_heartbeats()


def graphql(document: str, variables: dict, env: dict[str, str]) -> dict:
    """Run a GraphQL document in-process against the code location (what the UI sends).

    Variables go as JSON (`--variables`); the answer comes back in a file (`-o`): the
    code location logs to stdout, too. The document goes through a file: it may carry a
    long literal, and one command-line argument is limited to 128 KiB on Linux.
    """
    bin_dir = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        doc, answer = Path(tmp) / "doc.graphql", Path(tmp) / "answer.json"
        doc.write_text(document)
        out = subprocess.run(
            [
                str(bin_dir / "dagster-graphql"),
                *("-m", CODE_MODULE, "--file", str(doc)),
                *("--variables", json.dumps(variables), "-o", str(answer)),
            ],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
        if out.returncode != 0 or not answer.exists():
            raise RuntimeError(f"dagster-graphql failed: {out.stderr.strip()[-2000:]}")
        return json.loads(answer.read_text())
