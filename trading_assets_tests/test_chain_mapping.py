"""The date-chain mapping answers exactly what Dagster's stock MultiPartitionMapping
answers (the upstream partitions a run's range depends on), and Dagster's other
processes (webserver, daemon) receive a stock MultiPartitionMapping."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._serdes import deserialize_value, serialize_value

from trading_assets.defs.partitions import (
    date_partitions,
    model_day_partitions,
    previous_day_of_same_model,
)

STOCK = dg.MultiPartitionMapping(
    dict(previous_day_of_same_model.downstream_mappings_by_upstream_dimension)
)
DATES = date_partitions.get_partition_keys_in_range(
    dg.PartitionKeyRange("2000-01-03", "2002-12-31")
)
RANGES = {
    "one model, its whole range (a range run)": [f"{d}|m1" for d in DATES],
    "the second partition": [f"{DATES[1]}|m2"],
    "gaps and two models": [f"{d}|m1" for d in DATES[::7]] + [f"{d}|m2" for d in DATES[5:40]],
}


def _upstream(mapping, keys: list[str]) -> tuple[set, set]:
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("models", ["m1", "m2"])
        with partition_loading_context(dynamic_partitions_store=instance):
            subset = model_day_partitions.empty_subset().with_partition_keys(keys)
            result = mapping.get_upstream_mapped_partitions_result_for_partitions(
                subset, model_day_partitions, model_day_partitions
            )
            return (
                set(result.partitions_subset.get_partition_keys()),
                set(result.required_but_nonexistent_subset.get_partition_keys()),
            )


@pytest.mark.parametrize("keys", RANGES.values(), ids=RANGES.keys())
def test_same_upstream_partitions_as_dagsters_mapping(keys):
    ours = _upstream(previous_day_of_same_model, keys)
    assert ours == _upstream(STOCK, keys)
    assert ours[0]  # not vacuous: the range depends on something


def test_first_partition_depends_on_nothing_as_in_dagster():
    keys = [f"{DATES[0]}|m2"]
    assert _upstream(previous_day_of_same_model, keys) == _upstream(STOCK, keys) == (set(), set())


def test_other_processes_see_dagsters_own_mapping():
    received = deserialize_value(serialize_value(previous_day_of_same_model))
    assert type(received) is dg.MultiPartitionMapping
    assert received == STOCK
