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
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

CODE_MODULE = "trading_assets.defs.definitions"

# A single-run backfill of N partitions otherwise writes N "planned" events and N
# materializations one row at a time. These Dagster settings record one planned event
# per run and insert materializations in batches (where the storage supports it).
# Trade-off (Dagster's): a failed range run does not mark each partition failed.
DAGSTER_EVENT_SETTINGS = {
    "DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true",
    "DAGSTER_EVENT_BATCH_SIZE": "1000",
}
TEMPLATE = Path(__file__).resolve().parents[2] / "dagster.yaml"


def ensure_home() -> Path:
    home = Path(os.environ.get("DAGSTER_HOME") or ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists() and TEMPLATE.exists():
        shutil.copyfile(TEMPLATE, config)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def get_instance() -> dg.DagsterInstance:
    ensure_home()
    return dg.DagsterInstance.get()


def daemon_alive(instance: dg.DagsterInstance, max_age_s: float = 45.0) -> bool:
    """A daemon heartbeats every 30 s; one we started wipes its heartbeats when it stops."""
    beats = instance.get_daemon_heartbeats()
    beat = beats.get("BACKFILL")
    return beat is not None and time.time() - beat.timestamp < max_age_s


@contextmanager
def running_daemon(instance: dg.DagsterInstance, env: dict[str, str]) -> Iterator[bool]:
    """Yield True if this process started a daemon (and will stop it), False if one ran."""
    if daemon_alive(instance):
        yield False
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
        yield True
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        instance.wipe_daemon_heartbeats()


def graphql(document: str, env: dict[str, str]) -> dict:
    """Run a GraphQL document in-process against the code location (what the UI sends).

    The document goes through a file: a backfill can name tens of thousands of partitions.
    """
    bin_dir = Path(sys.executable).parent
    with tempfile.NamedTemporaryFile("w", suffix=".graphql") as doc:
        doc.write(document)
        doc.flush()
        out = subprocess.run(
            [str(bin_dir / "dagster-graphql"), "-m", CODE_MODULE, "--file", doc.name],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=False,
        )
    if out.returncode != 0:
        raise RuntimeError(f"dagster-graphql failed: {out.stderr.strip()[-2000:]}")
    # the code server logs to stdout too; the answer is the JSON line
    answer = [line for line in out.stdout.splitlines() if line.startswith("{")]
    if not answer:
        raise RuntimeError(f"dagster-graphql gave no answer: {out.stdout[-2000:]}")
    return json.loads(answer[-1])


def literal(value: object) -> str:
    """A GraphQL input literal for a JSON-like value."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))
