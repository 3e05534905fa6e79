"""Helpers for fault tests: a slow agent installed as a real plugin, a running CLI to
hurt, and what a user then sees (job report, store rows, Dagster runs)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import dagster as dg
import duckdb
import exchange_calendars as xcals
import psutil

from trading_assets_tests.e2e import CLI, Project

SLOW_AGENT = '''
import time
from typing import ClassVar
from trading_assets.agents.base import NO_DECISION, AgentParams

class Slow:
    """Holds cash, taking `delay` seconds a day: a run long enough to be hurt mid-chain."""
    name: ClassVar[str] = "slow"

    class Params(AgentParams):
        delay: float = 0.1

    def __init__(self, params, context):
        self.params = params

    def decide(self, view, portfolio):
        time.sleep(self.params.delay)
        return NO_DECISION
'''


def install_slow_agent(site: Path) -> dict[str, str]:
    """A plugin distribution (module + dist-info entry point) on PYTHONPATH; the env."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "slow_agent.py").write_text(SLOW_AGENT)
    info = site / "slow_agent-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: slow-agent\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[trading_assets.agents]\nslow = slow_agent:Slow\n")
    return {"PYTHONPATH": str(site)}


def sessions(start: str, end: str) -> int:
    """XNYS trading days in [start, end], by the exchange calendar (not our code)."""
    return len(xcals.get_calendar("XNYS").sessions_in_range(start, end))


def start_cli(project: Project, *args: str, group: bool = False, **env: str) -> subprocess.Popen:
    """The CLI in the background; group: in a process group of its own, as a terminal's
    foreground job is (os.killpg(cli.pid, SIGINT) is then what Ctrl-C does)."""
    return subprocess.Popen(
        [str(CLI), *args],
        env=project.env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        process_group=0 if group else None,
    )


def wait_for(check: Callable[[], object], timeout: float = 90, what: str = "") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def runs(project: Project, statuses=None) -> list[dg.DagsterRun]:
    # the test's DAGSTER_HOME is the project's (the instance's storage reads it)
    with dg.DagsterInstance.from_config(str(project.home)) as instance:
        return list(instance.get_runs(dg.RunsFilter(statuses=statuses or [])))


def any_started_run(project: Project) -> bool:
    """A model_day run of a job (not the command's in-process market_prices run)."""
    started = runs(project, [dg.DagsterRunStatus.STARTED])
    return any("trading_assets/job" in r.tags for r in started)


def started_run_of(project: Project, model: str) -> bool:
    return any(
        r.tags.get(
            "dagster/asset_partition_range_start", r.tags.get("dagster/partition", "")
        ).endswith(f"|{model}")
        for r in runs(project, [dg.DagsterRunStatus.STARTED])
    )


def descendants(pid: int, marker: str) -> list[psutil.Process]:
    try:
        procs = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []
    return [p for p in procs if marker in " ".join(_cmdline(p))]


def _cmdline(p: psutil.Process) -> list[str]:
    try:
        return p.cmdline()
    except psutil.Error:
        return []


def job_id_in(text: str) -> str:
    """The job id a command printed (`backfill ID ...`, `job ID ...`)."""
    return re.search(r"(?:job|backfill) (\w{12})", text).group(1)


def job_report(project: Project, job_id: str) -> dict:
    done = project.run("job", job_id, "--format", "json")
    return json.loads(done.stdout)


def stored_days(project: Project) -> list[tuple]:
    """(model, date, status) of every model_days row, in order."""
    con = duckdb.connect(str(project.store), read_only=True)
    try:
        return con.execute("SELECT model, date, status FROM model_days ORDER BY ALL").fetchall()
    finally:
        con.close()
