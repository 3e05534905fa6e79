"""Scale past the demo: 100 models x the full bundled history through `trading-assets
backfill` on the embedded default, then the UI's partitions page for `model_day`.

About 340,000 model-day partitions (over Dagster's advised 100,000 per asset). Prints
the backfill's wall time and CPU seconds, the peak RSS of every process it started, the
instance's size on disk (per folder), the DuckDB store's size, and, against a running
`dagster-webserver` on that instance, the time of the GraphQL queries the asset's
partitions page sends (partition health and partition stats) and of the page itself in
headless chromium.

    python bench/bench_scale.py                    # 100 models, in a fresh temporary folder
    python bench/bench_scale.py --models 20 --dir /tmp/scale   # keep the folder
    python bench/bench_scale.py --dir /tmp/scale --ui-only     # re-time the UI only

Prints figures; asserts nothing. Takes several minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # trading_assets_tests
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_sweep

from bench_sweep import CLI, REPO, ProcessWatch

# What the asset page's Partitions tab asks (Dagster 1.13's PartitionHealthQuery and the
# asset's partition stats), trimmed to the fields that cost server time.
HEALTH = """
query PartitionHealth($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      partitionKeysByDimension { name partitionKeys }
      assetPartitionStatuses {
        ... on MultiPartitionStatuses {
          primaryDimensionName
          ranges {
            primaryDimStartKey primaryDimEndKey
            secondaryDim {
              ... on TimePartitionStatuses { ranges { status startKey endKey } }
              ... on DefaultPartitionStatuses { materializedPartitions failedPartitions }
            }
          }
        }
      }
    }
  }
}
"""
STATS = """
query PartitionStats($key: AssetKeyInput!) {
  assetNodeOrError(assetKey: $key) {
    ... on AssetNode {
      partitionStats { numMaterialized numPartitions numFailed numMaterializing }
    }
  }
}
"""


def scale_config(models: int) -> str:
    """`models` cheap agents: sma_crossover variants and buy_and_hold fractions."""
    lines = [
        "initial_cash: 100000",
        "universe: [AAPL, IBM, MSFT]",
        "market_data: {source: bundled}",
        "corporate_actions: ignore",
        "models:",
    ]
    for i in range(models):
        if i % 4 == 3:
            fraction = round(0.5 + (i % 50) / 100, 2)
            params = f"{{fraction: {fraction}}}"
            lines.append(f"  - {{signature: hold-{i}, agent: buy_and_hold, params: {params}}}")
        else:
            fast, slow = 3 + i % 17, 30 + (i * 7) % 170
            lines.append(
                f"  - {{signature: sma-{i}, agent: sma_crossover, "
                f"params: {{fast: {fast}, slow: {slow}, size: {10 + i}}}}}"
            )
    return "\n".join(lines) + "\n"


def du(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def backfill(folder: Path, models: int) -> None:
    home, store = folder / "home", folder / "store.duckdb"
    home.mkdir(parents=True)
    shutil.copyfile(REPO / "dagster.yaml", home / "dagster.yaml")
    config = folder / "models.yaml"
    config.write_text(scale_config(models))
    env = {**os.environ, "DAGSTER_HOME": str(home), "TRADING_ASSETS_STORE": str(store)}
    args = [str(CLI), "backfill", "--config", str(config), "--store", str(store)]
    with ProcessWatch() as watch:
        start = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
    (folder / "backfill.log").write_text(done.stdout + done.stderr)
    tail = [line for line in done.stdout.splitlines() if "model-days" in line]
    print(f"trading-assets backfill, {models} models, full bundled history (embedded SQLite)")
    print(f"  exit code                           {done.returncode:8d}")
    print(f"  {tail[0].strip() if tail else '?'}")
    print(f"  wall time, command start to exit    {elapsed:8.1f} s")
    print(f"  CPU seconds, all its processes      {sum(watch.cpu.values()):8.1f} s")
    print(f"  load average (1 min) at the end     {os.getloadavg()[0]:8.1f}")
    by_role: dict[str, list[int]] = {}
    for role, mib in watch.peaks.values():
        by_role.setdefault(role, []).append(mib)
    for role, peaks in sorted(by_role.items()):
        if max(peaks) < 20:  # helpers (resource tracker, shells): not worth a line
            continue
        print(f"  peak RSS {role:<26} {max(peaks):8d} MiB  ({len(peaks)} processes)")
    if done.returncode != 0:
        print(done.stdout[-2000:], done.stderr[-2000:])


def sizes(folder: Path) -> None:
    home = folder / "home"
    print(f"  instance on disk ($DAGSTER_HOME)    {du(home) / 2**20:8.1f} MiB")
    for part in [home / "history" / "runs" / "index.db", home / "history" / "runs.db"]:
        print(f"    {part.relative_to(home)!s:<32}{du(part) / 2**20:8.1f} MiB")
    store = sum(du(p) for p in folder.glob("store.duckdb*"))
    print(f"  DuckDB store                        {store / 2**20:8.1f} MiB")


def graphql(port: int, query: str) -> tuple[float, dict]:
    body = json.dumps({"query": query, "variables": {"key": {"path": ["model_day"]}}})
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=900) as answer:
        data = json.loads(answer.read())
    return time.perf_counter() - start, data


def ui(folder: Path) -> None:
    from trading_assets_tests.e2e import Project, webserver

    project = Project(home=folder / "home", store=folder / "store.duckdb")
    with ProcessWatch() as watch, webserver(project, timeout=300) as port:
        for name, query in (("partition health", HEALTH), ("partition stats", STATS)):
            for attempt in ("first", "second"):
                seconds, data = graphql(port, query)
                node = (data.get("data") or {}).get("assetNodeOrError") or {}
                stats = node.get("partitionStats") or ""
                errors = data.get("errors") and str(data["errors"])[:300]
                answer = stats or errors or ""
                print(f"  GraphQL {name:<17} ({attempt}) {seconds:8.2f} s  {answer}")
        page_seconds = browser_page_load(port)
        print(f"  partitions page in chromium         {page_seconds}")
    peaks = [mib for role, mib in watch.peaks.values()]
    print(f"  peak RSS webserver (and its code server) {max(peaks, default=0)} MiB")


def browser_page_load(port: int) -> str:
    try:
        from trading_assets_tests.browser import browser_page
    except ImportError as exc:  # playwright missing
        return f"not measured ({exc})"
    url = f"http://127.0.0.1:{port}/assets/model_day?view=partitions"
    with browser_page() as page:
        start = time.perf_counter()
        page.goto(url, wait_until="networkidle", timeout=900_000)
        page.get_by_text("Loading...").first.wait_for(state="hidden", timeout=900_000)
        return f"{time.perf_counter() - start:8.2f} s (goto to network idle, no 'Loading...')"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--dir", type=Path, default=None, help="keep the instance here")
    parser.add_argument("--ui-only", action="store_true", help="re-time the UI on --dir")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ta-scale-") as tmp:
        folder = args.dir or Path(tmp)
        if not args.ui_only:
            backfill(folder, args.models)
        sizes(folder)
        ui(folder)


if __name__ == "__main__":
    main()
