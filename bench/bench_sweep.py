"""A 12-model sma_crossover sweep through `trading-assets backfill`, beside backtrader.

Twelve (fast, slow, size) variants over AAPL, IBM and MSFT, the full bundled history,
through the real CLI on a fresh embedded (SQLite) instance and store; then the same 12
backtests in backtrader, one after another, in this process. Prints the wall time of
the command, the peak RSS of every process it started (CLI, workers, daemon, runs),
every model's final value next to backtrader's, backtrader's time and the ratio.

    python bench/bench_sweep.py                  # the default path: range runs, batched events
    python bench/bench_sweep.py --before         # the previous path: stock event storage,
                                                 #   an asset backfill run by the daemon
    python bench/bench_sweep.py --config demo    # `make demo`'s backfill (3 models), no peers
    python bench/bench_sweep.py --with-demo      # the sweep, then the demo's backfill, side by side

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # for trading_assets_tests

REPO = Path(__file__).resolve().parents[1]
TICKS = os.sysconf("SC_CLK_TCK")
CLI = Path(sys.executable).parent / "trading-assets"
CASH = 100_000.0
UNIVERSE = ("AAPL", "IBM", "MSFT")
VARIANTS = [  # (fast, slow, size)
    (5, 20, 50),
    (5, 50, 100),
    (10, 30, 50),
    (10, 50, 100),
    (10, 100, 50),
    (20, 50, 100),
    (20, 100, 100),
    (20, 200, 50),
    (30, 90, 100),
    (50, 100, 50),
    (50, 200, 100),
    (100, 300, 50),
]


def sweep_config() -> str:
    lines = [
        f"initial_cash: {CASH:.0f}",
        f"universe: [{', '.join(UNIVERSE)}]",
        "market_data: {source: bundled}",
        "corporate_actions: ignore",  # raw prices, as backtrader trades them
        "models:",
    ]
    for fast, slow, size in VARIANTS:
        lines.append(
            f"  - {{signature: sma-{fast}-{slow}-{size}, agent: sma_crossover, "
            f"params: {{fast: {fast}, slow: {slow}, size: {size}}}}}"
        )
    return "\n".join(lines) + "\n"


def stock_yaml() -> str:
    """The project's dagster.yaml without the event_log_storage block (Dagster's stock)."""
    text = (REPO / "dagster.yaml").read_text()
    return re.sub(r"\nevent_log_storage:\n(  .*\n)+", "\n", text)


class ProcessWatch:
    """Polls /proc for every descendant of this process: VmHWM is each one's peak RSS;
    utime + stime its CPU seconds (the last value seen, so a process's final 0.2 s may be
    missed). CPU time says what the work costs whatever else loads the machine."""

    def __init__(self) -> None:
        self.peaks: dict[int, tuple[str, int]] = {}
        self.cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def __enter__(self) -> ProcessWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _poll(self) -> None:
        while not self._stop.wait(0.2):
            for pid in _descendants(os.getpid()):
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
                    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                self.cpu[pid] = (int(stat[11]) + int(stat[12])) / TICKS
                hwm = re.search(r"VmHWM:\s+(\d+) kB", status)
                if hwm:
                    self.peaks[pid] = (_role(cmd), int(hwm.group(1)) // 1024)


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int(Path(entry, "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _role(cmd: str) -> str:
    for needle, role in (
        ("forkserver", "worker/forkserver"),
        ("dagster-daemon", "daemon"),
        ("api execute_run", "run worker"),
        ("dagster-graphql", "graphql launch"),
        ("trading-assets", "CLI"),
    ):
        if needle in cmd:
            return role
    return cmd.split(" ")[0].rsplit("/", 1)[-1] or "?"


def run_cli(tmp: Path, config: str, before: bool, workers: int | None) -> tuple[float, str, dict]:
    home, store = tmp / "home", tmp / "store.duckdb"
    home.mkdir()
    (home / "dagster.yaml").write_text(
        stock_yaml() if before else (REPO / "dagster.yaml").read_text()
    )
    args = [str(CLI), "backfill", "--config", config, "--store", str(store)]
    if before:
        args.append("--daemon")
    if workers:
        args += ["--workers", str(workers)]
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    with ProcessWatch() as watch:
        start = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"backfill failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    board = subprocess.run(
        [str(CLI), "leaderboard", "--format", "json", "--store", str(store)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    finals = {row["model"]: row["final_value"] for row in json.loads(board.stdout)}
    return elapsed, done.stdout, {"finals": finals, "rss": watch.peaks, "cpu": watch.cpu}


def backtrader_sweep() -> tuple[float, dict[str, float]]:
    from trading_assets.market.sources import BundledSource
    from trading_assets_tests.peers import run_backtrader

    history = BundledSource().load()
    finals, start = {}, time.perf_counter()
    for fast, slow, size in VARIANTS:
        result = run_backtrader(history, UNIVERSE, fast, slow, size, CASH)
        finals[f"sma-{fast}-{slow}-{size}"] = result.final_value
    return time.perf_counter() - start, finals


def measure(config: str | None, before: bool, workers: int | None) -> tuple[float, str, dict]:
    """One backfill on a fresh instance and store: the sweep when config is None."""
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if config is None:
            config = str(tmp / "sweep.yaml")
            Path(config).write_text(sweep_config())
        return run_cli(tmp, config, before, workers)


def report(title: str, elapsed: float, out: str, got: dict) -> None:
    days = re.search(r": (\d+) model-days in", out)
    runs_end = re.search(r"last run ended after ([\d.]+) s", out)
    print(title)
    print(f"  machine: {os.cpu_count()} cores, shared with other work while measured")
    print(f"  model-days                          {days.group(1) if days else '?'}")
    print(f"  wall time, command start to exit    {elapsed:8.1f} s")
    print(f"  last run ended after                {runs_end.group(1) if runs_end else '?':>8} s")
    print(f"  CPU seconds, all its processes      {sum(got['cpu'].values()):8.1f} s")
    print(f"  load average (1 min) at the end     {os.getloadavg()[0]:8.1f}")
    for pid, (role, mib) in sorted(got["rss"].items(), key=lambda kv: -kv[1][1])[:4]:
        print(f"  peak RSS {role:<26} {mib:8d} MiB  (pid {pid})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", action="store_true", help="stock storage + daemon backfill")
    parser.add_argument("--config", default=None, help="'demo' or a models YAML (no peers)")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument(
        "--with-demo", action="store_true", help="then `make demo`'s backfill, side by side"
    )
    args = parser.parse_args()
    path = "stock event storage, daemon backfill" if args.before else "range runs, batched events"
    elapsed, out, got = measure(args.config, args.before, args.workers)
    report(
        f"trading-assets backfill --config {args.config or 'sweep (12 models)'} ({path})",
        elapsed,
        out,
        got,
    )
    if args.config is not None:
        return
    bt_time, bt_finals = backtrader_sweep()
    print(f"\n  {'model':<18} {'ours':>16} {'backtrader':>16}  equal")
    equal = 0
    for model, theirs in bt_finals.items():
        ours = got["finals"].get(model, float("nan"))
        equal += abs(ours - theirs) < 0.005
        print(f"  {model:<18} {ours:16,.2f} {theirs:16,.2f}  {abs(ours - theirs) < 0.005}")
    print(f"\n  backtrader, 12 backtests one after another  {bt_time:8.1f} s")
    print(f"  ratio backtrader time / our wall time        {bt_time / elapsed:8.2f}")
    if not args.with_demo:
        return
    demo = measure("demo", args.before, args.workers)
    print()
    report(f"trading-assets backfill --config demo ({path})", *demo)
    print(f"\n  {'side by side':<36} {'sweep':>10} {'demo':>10}")
    print(f"  {'wall time, command start to exit':<36} {elapsed:9.1f}s {demo[0]:9.1f}s")
    cpu = sum(got["cpu"].values()), sum(demo[2]["cpu"].values())
    print(f"  {'CPU seconds, all its processes':<36} {cpu[0]:9.1f}s {cpu[1]:9.1f}s")
    print(f"  {'backtrader time / ratio':<36} {bt_time:9.1f}s {bt_time / elapsed:10.2f}")
    print(f"  {'final values equal to backtrader':<36} {equal:>7} of {len(bt_finals)}")


if __name__ == "__main__":
    main()
