"""date x model partitions, and the mapping that chains each model's days.

Dates are weekdays. The XNYS calendar, not the partitioning, decides which of them are
trading days: an exchange holiday is a partition that materializes as a recorded no-op
(no store row), and a model-day's state comes from the previous XNYS session. Holidays
are deliberately not Dagster `exclusions`: Dagster hashes a partitions definition
through its repr, and 262 excluded dates made that 300x slower (0.59 ms a hash), which
dominated the backfill daemon's iterations (measured; see bench/README.md).
Models are dynamic: registering a model (config or legacy import) adds a partition
without a code change.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from trading_assets.defs.chain_mapping import MultiPartitionMapping

DATE_START = dt.date(2000, 1, 3)
DATE_FORMAT = "%Y-%m-%d"
MODELS_PARTITION = "models"


def trading_date_partitions() -> dg.TimeWindowPartitionsDefinition:
    return dg.TimeWindowPartitionsDefinition(
        start=DATE_START.strftime(DATE_FORMAT),
        cron_schedule="0 0 * * 1-5",
        fmt=DATE_FORMAT,
        timezone="UTC",
        # the partition for D exists once D has started, so "today" can be simulated at the close
        end_offset=1,
    )


date_partitions = trading_date_partitions()
model_partitions = dg.DynamicPartitionsDefinition(name=MODELS_PARTITION)
model_day_partitions = dg.MultiPartitionsDefinition(
    {"date": date_partitions, "model": model_partitions}
)

# Each model-day depends on the same model's previous trading day. The model dimension
# must be mapped explicitly, or every model would wait for every model. The mapping is
# Dagster's, with a range mapped per model at once (chain_mapping.py: run provenance).
previous_day_of_same_model = MultiPartitionMapping(
    {
        "date": dg.DimensionPartitionMapping(
            "date", dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=-1)
        ),
        "model": dg.DimensionPartitionMapping("model", dg.IdentityPartitionMapping()),
    }
)


def partition_key(date: dt.date, model: str) -> str:
    return dg.MultiPartitionKey({"date": date.strftime(DATE_FORMAT), "model": model})


def split_keys(keys: list[str]) -> dict[str, list[dt.date]]:
    """Group multi-partition keys by model, dates sorted (a run walks each chain in order)."""
    by_model: dict[str, list[dt.date]] = {}
    for key in keys:
        mk = key if isinstance(key, dg.MultiPartitionKey) else _parse(key)
        dims = mk.keys_by_dimension
        by_model.setdefault(dims["model"], []).append(dt.date.fromisoformat(dims["date"]))
    return {m: sorted(ds) for m, ds in sorted(by_model.items())}


def _parse(key: str) -> dg.MultiPartitionKey:
    date, model = key.split("|", 1)
    return dg.MultiPartitionKey({"date": date, "model": model})
