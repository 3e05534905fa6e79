"""A backfill of 10 models x 1 year through faults: model-days completed, retried, lost.

The real `trading-assets backfill`, hurt three times, then run to the end:
  (each once this command has stored a model and another model's run is mid-chain)
  1. kill -9 of a run worker mid-chain (default path, 2 worker processes);
  2. Ctrl-C (SIGINT) of the command while its runs are mid-chain;
  3. kill -9 of the daemon (`--daemon`) while its runs are mid-chain;
  4. the same command again, unhurt: it must finish the job.
Each re-run runs only the model-days not yet stored. The agents are a plugin that holds
cash and sleeps `--delay` seconds a day (the LLM time of a real agent), so the runs are
long enough to be hurt mid-chain.

    python bench/bench_faults.py [--delay 0.02] [--models 10] [--year 2011]

Prints, per step, the exit code, the job's model-days and how long the CLI took to
notice; then completed (stored once), retried (run by more than one job: sum of the
jobs' model-days minus the total) and lost (expected minus stored; must be 0).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from trading_assets_tests.e2e import sqlite_project, write_config
from trading_assets_tests.faults import (
    any_started_run,
    descendants,
    install_slow_agent,
    job_report,
    sessions,
    start_cli,
    stored_days,
    wait_for,
)


def config_text(models: int, delay: float) -> str:
    lines = ["initial_cash: 100000", "universe: [AAPL, MSFT, IBM]", "models:"]
    lines += [
        f"  - {{signature: m{i:02d}, agent: slow, params: {{delay: {delay}}}}}"
        for i in range(models)
    ]
    return "\n".join(lines) + "\n"


def hurt(project, env, args, fault: str) -> tuple[int, str, float]:
    """Start the command, hurt it once one of its runs is mid-chain; (rc, output, s)."""
    extra = ("--daemon",) if fault == "daemon" else ("--workers", "2")
    cli = start_cli(project, *args, *extra, **env)
    before = _stored(project)

    def mid_job() -> bool:  # some model of this command stored, another mid-chain
        return _stored(project) > before and any_started_run(project)

    wait_for(mid_job, timeout=300, what="a stored model and a running one")
    if fault == "worker":
        [worker, *_] = [p for p in descendants(cli.pid, "forkserver") if p.ppid() != cli.pid]
        worker.kill()
    elif fault == "sigint":
        cli.send_signal(signal.SIGINT)
    else:
        [daemon] = descendants(cli.pid, "dagster-daemon")
        daemon.kill()
    hit = time.monotonic()
    out, err = cli.communicate(timeout=300)
    return cli.returncode, out + err, time.monotonic() - hit


def _stored(project) -> int:
    if not project.store.exists():
        return 0
    try:
        return len(stored_days(project))
    except Exception:  # the command holds the file for a write just now
        return -1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10)
    parser.add_argument("--delay", type=float, default=0.02)
    parser.add_argument("--year", type=int, default=2011)
    a = parser.parse_args()
    start, end = f"{a.year}-01-01", f"{a.year}-12-31"
    expected = a.models * sessions(start, end)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        project = sqlite_project(tmp)
        env = install_slow_agent(tmp / "site")
        config = write_config(tmp, config_text(a.models, a.delay))
        args = ("backfill", "--config", str(config), "--start", start, "--end", end, "--quiet")
        os.environ["DAGSTER_HOME"] = str(project.home)  # the helpers read the instance
        jobs = []
        print(f"{a.models} models x {start}..{end} = {expected} model-days, {a.delay} s/day")
        for fault in ("worker", "sigint", "daemon"):
            rc, _text, noticed = hurt(project, env, args, fault)
            job = json.loads(project.run("jobs", "--format", "json").stdout)[0]
            jobs.append(job)
            print(
                f"  {fault:<7} exit {rc:>3}, {noticed:5.1f} s after the fault: job {job['job_id']} "
                f"{job['status']:<11} {job['total_model_days']:>5} model-days, "
                f"{job['completed']:>5} completed; stored now {len(stored_days(project))}"
            )
        t0 = time.monotonic()
        final = project.run(*args, "--format", "json", **env)
        outcome = json.loads(final.stdout)
        report = job_report(project, outcome["job_id"])
        jobs.append({"total_model_days": report["progress"]["total_model_days"]})
        print(
            f"  re-run  exit {final.returncode:>3} in {time.monotonic() - t0:5.1f} s: job "
            f"{outcome['job_id']} {outcome['status']}, {outcome['model_days']} model-days "
            f"({outcome['already_stored']} already stored)"
        )
        rows = stored_days(project)
    finished = [r for r in rows if r[2] in ("completed", "degraded_success")]
    distinct = len({(m, d) for m, d, _ in rows})
    run_total = sum(j["total_model_days"] for j in jobs)
    print(f"model-days completed {len(finished)} (rows {len(rows)}, distinct {distinct})")
    print(f"model-days retried   {run_total - expected} (run by more than one job)")
    print(f"model-days lost      {expected - len(finished)}")
    if len(finished) != expected or distinct != len(rows):
        sys.exit("FAILED: lost or duplicated model-days")


if __name__ == "__main__":
    main()
