"""date x model partitions, and the mapping that chains each model's days.

Dates are weekdays. The XNYS calendar, not the partitioning, decides which of them are
trading days: an exchange holiday is a partition that materializes as a recorded no-op
(no store row), and a model-day's state comes from the previous XNYS session. Holidays
are deliberately not Dagster `exclusions`: Dagster hashes a partitions definition
through its repr, and 262 excluded dates made that 300x slower (0.59 ms a hash), which
dominated the backfill daemon's iterations (measured; see bench/README.md).
Models are dynamic: registering a model (config or legacy import) adds a partition
without a code change.

The date dimension spans the period the market data covers, so the UI shows no years of
permanently missing days: `market_prices` records the earliest and latest bar of any
registered source in a sidecar beside the store (`store/coverage.py`), read here when
the definitions load (never DuckDB: a run worker loads them while a writer may hold the
store). The partitions start at the first bar and end at the last one. Data that is
current (its last bar within LIVE_DAYS of today) keeps the end at today instead, so the
daily close schedule and the automation always find today's partition. No sidecar (a
fresh store) gives the full default span, DATE_START..today. New data past the end
shows up once the code location reloads (each run worker loads it afresh; the UI and
the daemon on "Reload definitions" or a restart).
"""

from __future__ import annotations

import datetime as dt
import os

import dagster as dg

from trading_assets.dagster_patches.chain_mapping import MultiPartitionMapping
from trading_assets.store.coverage import Coverage, read_coverage
from trading_assets.vocab import DEFAULT_STORE_PATH, STORE_ENV

DATE_START = dt.date(2000, 1, 3)
DATE_FORMAT = "%Y-%m-%d"
MODELS_PARTITION = "models"
LIVE_DAYS = 7  # data whose last bar is this recent is live: the partitions run to today


def trading_date_partitions(
    coverage: Coverage | None = None, today: dt.date | None = None
) -> dg.TimeWindowPartitionsDefinition:
    """Weekday partitions over `coverage` (see the module doc); None: DATE_START..today."""
    today = today or dt.datetime.now(dt.UTC).date()
    start = coverage.first if coverage else DATE_START
    live = coverage is None or (today - coverage.last).days <= LIVE_DAYS
    return dg.TimeWindowPartitionsDefinition(
        start=start.strftime(DATE_FORMAT),
        end=None if live else _window_end(coverage.last).strftime(DATE_FORMAT),
        cron_schedule="0 0 * * 1-5",
        fmt=DATE_FORMAT,
        timezone="UTC",
        # the partition for D exists once D has started, so "today" can be simulated at the close
        end_offset=1 if live else 0,
    )


def _window_end(day: dt.date) -> dt.date:
    """The end of `day`'s partition window (the next weekday): the last partition whose
    window ends by then is `day`'s."""
    following = day + dt.timedelta(days=1)
    while following.weekday() >= 5:
        following += dt.timedelta(days=1)
    return following


def stored_coverage() -> Coverage | None:
    """The coverage sidecar of the store the environment names (as the resources do)."""
    return read_coverage(os.environ.get(STORE_ENV) or DEFAULT_STORE_PATH)


def date_partitions_of(store_path) -> dg.TimeWindowPartitionsDefinition:
    """The date dimension as a process loading the definitions now would see it for
    `store_path` (after market_prices rewrote the sidecar: the CLI's own keys)."""
    return trading_date_partitions(read_coverage(store_path))


date_partitions = trading_date_partitions(stored_coverage())
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


# Dagster's tags for a single-run range of partitions (one run walks the model's days)
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


def range_tags(model: str, first, last, last_model: str | None = None) -> dict[str, str]:
    """One run over `model`'s days first..last (dates or YYYY-MM-DD), walked in date
    order; with `last_model`, over the models model..last_model too."""
    return {RANGE_START: f"{first}|{model}", RANGE_END: f"{last}|{last_model or model}"}


def split_keys(keys: list[str]) -> dict[str, list[dt.date]]:
    """Group multi-partition keys by model, dates sorted (a run walks each chain in order)."""
    by_model: dict[str, list[dt.date]] = {}
    for key in keys:
        mk = key if isinstance(key, dg.MultiPartitionKey) else _parse(key)
        dims = mk.keys_by_dimension
        by_model.setdefault(dims["model"], []).append(dt.date.fromisoformat(dims["date"]))
    return {m: sorted(ds) for m, ds in sorted(by_model.items())}


def key_date(key: str) -> dt.date:
    """The date of a `date|model` partition key."""
    mk = key if isinstance(key, dg.MultiPartitionKey) else _parse(key)
    return dt.date.fromisoformat(mk.keys_by_dimension["date"])


def _parse(key: str) -> dg.MultiPartitionKey:
    date, model = key.split("|", 1)
    return dg.MultiPartitionKey({"date": date, "model": model})
