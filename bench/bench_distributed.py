"""One 24-model backfill run by 1, 2 and 4 Celery worker hosts (network namespaces).

Each pass builds the tested multi-host setup from scratch (trading_assets_tests/hosts.py:
a fresh PostgreSQL instance database and result store, N workers in namespaces of their
own with concurrency 1, deploy/dagster.celery.yaml), then times the real
`trading-assets backfill --daemon` of 24 generated sma_crossover / buy_and_hold models
over the bundled AAPL/MSFT/IBM prices. Prints per pass: wall time of the command, CPU
seconds of the worker namespaces' processes (over the backfill), of the head (the
command and everything it started: daemon, GraphQL launch) and of this script's TCP
forwarder, the span of the 24 model runs (first start to last end, from the Dagster
instance) and its speed-up over one worker (and per worker).

    sudo .venv/bin/python bench/bench_distributed.py [--workers 1,2,4] [--start --end]

Needs root (ip netns). The machine's cores are shared: `uptime` is printed with each
figure; N workers cannot beat the number of free cores.
"""

from __future__ import annotations

import argparse
import itertools
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from trading_assets_tests.e2e import CLI
from trading_assets_tests.hosts import deployment, skip_unless_netns


def models_yaml() -> str:
    """24 models: 20 sma_crossover parameter pairs x sizes, 4 buy_and_hold."""
    lines = ["universe: [AAPL, MSFT, IBM]", "market_data: {source: bundled}", "models:"]
    pairs = list(itertools.product((3, 5, 8, 10, 12), (20, 30, 40, 60)))
    for fast, slow in pairs:
        lines.append(
            f"  - {{signature: sma-{fast}-{slow}, agent: sma_crossover, "
            f"params: {{fast: {fast}, slow: {slow}, size: 10}}}}"
        )
    lines += [f"  - {{signature: hold-{i}, agent: buy_and_hold}}" for i in range(4)]
    return "\n".join(lines) + "\n"


def runs_span(c) -> float:
    """First model run's start to the last one's end, from the Dagster instance: the
    part of the command the workers share (the head's registration, prices load and
    daemon start come before it, the analytics after)."""
    import dagster as dg

    saved = dict(os.environ)
    os.environ.update(c.head_env)
    try:
        with dg.DagsterInstance.get() as instance:
            records = [
                r
                for r in instance.get_run_records()
                if "dagster-celery/task_id" in r.dagster_run.tags
            ]
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert len(records) == 24, f"{len(records)} model runs"
    return max(r.end_time for r in records) - min(r.start_time for r in records)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def one_pass(n: int, start: str, end: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench_distributed_") as tmp:
        config = Path(tmp) / "models.yaml"
        config.write_text(models_yaml())
        with deployment(Path(tmp), n) as c:
            before = sum(w.cpu_seconds() for w in c.workers)
            head_before = resource.getrusage(resource.RUSAGE_CHILDREN)
            fwd_before = time.process_time()
            t0 = time.perf_counter()
            span = ("--start", start, "--end", end)
            done = subprocess.run(
                [str(CLI), "backfill", "--config", str(config), *span, "--daemon", "--quiet"],
                env=c.head_env,
                capture_output=True,
                text=True,
                check=False,
            )
            wall = time.perf_counter() - t0
            workers_cpu = sum(w.cpu_seconds() for w in c.workers) - before
            head = resource.getrusage(resource.RUSAGE_CHILDREN)
            head_cpu = (head.ru_utime - head_before.ru_utime) + (
                head.ru_stime - head_before.ru_stime
            )
            forwarder_cpu = time.process_time() - fwd_before
            if done.returncode != 0:
                raise SystemExit(f"backfill with {n} workers failed: {done.stderr[-3000:]}")
            span = runs_span(c)
    return {
        "workers": n,
        "wall": wall,
        "runs": span,
        "workers_cpu": workers_cpu,
        "head_cpu": head_cpu,
        "forwarder_cpu": forwarder_cpu,
        "uptime": uptime(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--start", default="2010-01-04")
    parser.add_argument("--end", default="2011-12-30")
    args = parser.parse_args()
    try:
        skip_unless_netns()
    except BaseException as why:  # pytest's Skipped: the reason, as one line
        raise SystemExit(f"bench_distributed: {why}") from None
    print(f"24 models, {args.start}..{args.end}; {os.cpu_count()} cores (shared); {uptime()}")
    results = []
    for n in (int(x) for x in args.workers.split(",")):
        r = one_pass(n, args.start, args.end)
        results.append(r)
        speedup = results[0]["runs"] / r["runs"]  # over the first pass (1 worker)
        print(
            f"{n} worker(s): wall {r['wall']:.1f} s, runs {r['runs']:.1f} s,"
            f" CPU workers {r['workers_cpu']:.1f} s"
            f" + head {r['head_cpu']:.1f} s + forwarder {r['forwarder_cpu']:.1f} s;"
            f" speed-up {speedup:.2f}x ({speedup / n:.2f} per worker); {r['uptime']}",
            flush=True,
        )


if __name__ == "__main__":
    main()
