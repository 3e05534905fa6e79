"""Cost of one materialization event: Dagster's stock SQLite event log vs ours, batched.

A toy asset with N static partitions and ~600 bytes of metadata (about what model_day
records per partition) is materialized as one range run, in-process, on a fresh instance
with the stock storage and on one with the project's dagster.yaml
(BatchedSqliteEventLogStorage), with DAGSTER_EVENT_BATCH_SIZE=1000 for both. The cost
per event is (time of the N-partition run - time of a 1-partition run) / (N - 1), the
run's fixed cost taken out. Also counts the rows each leaves (they must match).

    python bench/bench_event_log.py [--partitions 2000]

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import tempfile
import time
import warnings
from pathlib import Path

os.environ["DAGSTER_EVENT_BATCH_SIZE"] = "1000"
os.environ["DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"] = "true"
warnings.filterwarnings("ignore")

import dagster as dg  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
METADATA = {"models": dg.MetadataValue.md("| model | from | to |\n" + "|---" * 3 + "|\n" * 20)}


def toy_asset(n: int) -> dg.AssetsDefinition:
    @dg.asset(
        name=f"toy_{n}",
        partitions_def=dg.StaticPartitionsDefinition([f"p{i:05d}" for i in range(n)]),
        backfill_policy=dg.BackfillPolicy.single_run(),
    )
    def toy(context) -> dg.MaterializeResult:  # no annotation: `from __future__` strings
        return dg.MaterializeResult(metadata={**METADATA, "n": len(context.partition_keys)})

    return toy


def timed_run(instance: dg.DagsterInstance, n: int) -> float:
    asset = toy_asset(n)
    start = time.perf_counter()
    dg.materialize(
        [asset],
        instance=instance,
        tags={
            "dagster/asset_partition_range_start": "p00000",
            "dagster/asset_partition_range_end": f"p{n - 1:05d}",
        },
        run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
    )
    return time.perf_counter() - start


def measure(yaml_text: str, n: int) -> tuple[float, str, int]:
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "dagster.yaml").write_text(yaml_text)
        os.environ["DAGSTER_HOME"] = str(home)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            timed_run(instance, 2)  # warm: imports, index shard, asset key rows
            one = timed_run(instance, 1)
            many = timed_run(instance, n)
            kind = type(instance.event_log_storage).__name__
        with sqlite3.connect(home / "history" / "runs" / "index.db") as con:
            (rows,) = con.execute(
                "SELECT count(*) FROM event_logs WHERE dagster_event_type = 'ASSET_MATERIALIZATION'"
            ).fetchone()
    return (many - one) / (n - 1), kind, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--partitions", type=int, default=2000)
    n = parser.parse_args().partitions
    project = (REPO / "dagster.yaml").read_text()
    stock = re.sub(r"\nevent_log_storage:\n(  .*\n)+", "\n", project)
    print(
        f"one materialization event, range run of {n} partitions, in-process "
        f"({os.cpu_count()} cores, shared)"
    )
    results = {}
    for label, text in (("stock", stock), ("batched", project)):
        per_event, kind, rows = measure(text, n)
        results[label] = per_event
        print(f"  {label:<8} {kind:<30} {per_event * 1000:7.2f} ms/event  ({rows} index rows)")
    print(f"  speed-up {results['stock'] / results['batched']:.1f}x")


if __name__ == "__main__":
    main()
