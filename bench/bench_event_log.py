"""Cost of one materialization event: Dagster's stock SQLite event log vs ours, batched.

A toy asset with N static partitions and ~600 bytes of metadata (about what model_day
records per partition) is materialized as one range run, in-process, on a fresh instance
with the stock storage and on one with the project's dagster.yaml
(BatchedSqliteEventLogStorage), with DAGSTER_EVENT_BATCH_SIZE=1000 for both. The cost
per event is (time of the N-partition run - time of a 1-partition run) / (N - 1), the
run's fixed cost taken out. Also counts the rows each leaves (they must match).

    python bench/bench_event_log.py [--partitions 2000]
    python bench/bench_event_log.py --check-evaluations 300   # + one per-partition check
                                                # evaluation per partition (as legacy parity)

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


def toy_asset(n: int, checks: bool = False) -> dg.AssetsDefinition:
    """A range-run asset; with `checks`, one check evaluation per partition is logged the
    way model_day logs legacy parity (`context.log_event(AssetCheckEvaluation(...))`)."""
    name = f"toy_{n}_{'checked' if checks else 'plain'}"
    spec = dg.AssetCheckSpec("parity", asset=name)

    @dg.asset(
        name=name,
        partitions_def=dg.StaticPartitionsDefinition([f"p{i:05d}" for i in range(n)]),
        backfill_policy=dg.BackfillPolicy.single_run(),
        check_specs=[spec] if checks else None,
    )
    def toy(context) -> dg.MaterializeResult:  # no annotation: `from __future__` strings
        if not checks:
            return dg.MaterializeResult(metadata={**METADATA, "n": len(context.partition_keys)})
        for key in context.partition_keys:
            context.log_event(
                dg.AssetCheckEvaluation(
                    asset_key=context.asset_key, check_name="parity", passed=True, partition=key
                )
            )
        return dg.MaterializeResult(
            metadata=METADATA,
            check_results=[dg.AssetCheckResult(check_name="parity", passed=True)],
        )

    return toy


def timed_run(instance: dg.DagsterInstance, n: int, checks: bool = False) -> float:
    asset = toy_asset(n, checks)
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


def check_evaluation_cost(yaml_text: str, n: int) -> tuple[float, float]:
    """Wall and CPU seconds per per-partition check evaluation: a range run of n
    partitions with one evaluation each, minus the same run without them, over n."""
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        (home / "dagster.yaml").write_text(yaml_text)
        os.environ["DAGSTER_HOME"] = str(home)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            timed_run(instance, 2, checks=True)  # warm
            cpu = time.process_time()
            plain = timed_run(instance, n)
            cpu_plain, cpu = time.process_time() - cpu, time.process_time()
            checked = timed_run(instance, n, checks=True)
            cpu_checked = time.process_time() - cpu
    return (checked - plain) / n, (cpu_checked - cpu_plain) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--partitions", type=int, default=2000)
    parser.add_argument("--check-evaluations", type=int, default=0, metavar="N")
    args = parser.parse_args()
    n = args.partitions
    project = (REPO / "dagster.yaml").read_text()
    if args.check_evaluations:
        wall, cpu = check_evaluation_cost(project, args.check_evaluations)
        print(
            f"one per-partition ASSET_CHECK_EVALUATION in a range run of "
            f"{args.check_evaluations} partitions (batched storage): {wall * 1000:.2f} ms "
            f"wall, {cpu * 1000:.2f} ms CPU (load {os.getloadavg()[0]:.1f})"
        )
        return
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
