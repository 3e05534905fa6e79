"""Dagster's MultiPartitionMapping, with a range mapped per model instead of key by key.

Why: when a run over a model's date range materializes `model_day`, Dagster maps the
whole range through the self-dependency to record data-version provenance (once the
asset has any materialization). The stock MultiPartitionMapping maps every key through
the date dimension's TimeWindowPartitionMapping one at a time: about 0.25 ms a key,
0.9 s of a 3,392-partition run (bench/README.md, "Dagster defects" 1). Here the keys are
grouped by the identity-mapped dimension (the model) and each group's dates are mapped
as one subset: the same upstream partitions, computed in milliseconds.

The class keeps Dagster's class name on purpose: Dagster serializes a mapping by its
class name, so the webserver, the daemon and the asset graph snapshot see a stock
MultiPartitionMapping with the same dimension mappings (the date chain in the lineage
is unchanged); only this code location's runs use the faster method. Anything but the
shape used here (every dimension mapped to itself, exactly one non-identity) falls back
to Dagster's own method. Behind the package's version gate (`dagster_patches/`).
"""

from __future__ import annotations

from collections import defaultdict

import dagster as dg
from dagster._core.definitions.partitions.context import partition_loading_context
from dagster._core.definitions.partitions.mapping.partition_mapping import (
    UpstreamPartitionsResult,
)
from dagster._core.definitions.partitions.subset.default import DefaultPartitionsSubset

from trading_assets.dagster_patches import require_pinned_dagster

require_pinned_dagster(__name__)


class MultiPartitionMapping(dg.MultiPartitionMapping):
    """A MultiPartitionMapping whose upstream mapping handles a range per group at once."""

    def get_upstream_mapped_partitions_result_for_partitions(
        self,
        downstream_partitions_subset,
        downstream_partitions_def,
        upstream_partitions_def,
        current_time=None,
        dynamic_partitions_store=None,
    ) -> UpstreamPartitionsResult:
        mapped = self._single_mapped_dimension(downstream_partitions_def, upstream_partitions_def)
        if mapped is None or downstream_partitions_subset is None:
            return super().get_upstream_mapped_partitions_result_for_partitions(
                downstream_partitions_subset,
                downstream_partitions_def,
                upstream_partitions_def,
                current_time,
                dynamic_partitions_store,
            )
        dim, mapping = mapped
        dim_def = downstream_partitions_def.get_partitions_def_for_dimension(dim)
        with partition_loading_context(current_time, dynamic_partitions_store):
            groups: dict[tuple, list[str]] = defaultdict(list)
            for key in downstream_partitions_subset.get_partition_keys():
                dims = downstream_partitions_def.get_partition_key_from_str(key).keys_by_dimension
                others = tuple(sorted((n, k) for n, k in dims.items() if n != dim))
                groups[others].append(dims[dim])
            upstream_keys, nonexistent = [], set()
            for others, keys in groups.items():
                result = mapping.get_upstream_mapped_partitions_result_for_partitions(
                    dim_def.empty_subset().with_partition_keys(keys), dim_def, dim_def
                )
                upstream_keys += [
                    dg.MultiPartitionKey({dim: k, **dict(others)})
                    for k in result.partitions_subset.get_partition_keys()
                ]
                # as the stock mapping reports them: keys of the mapped dimension
                nonexistent.update(result.required_but_nonexistent_subset.get_partition_keys())
            return UpstreamPartitionsResult(
                partitions_subset=upstream_partitions_def.empty_subset().with_partition_keys(
                    upstream_keys
                ),
                required_but_nonexistent_subset=DefaultPartitionsSubset(nonexistent),
            )

    def _single_mapped_dimension(self, downstream_def, upstream_def):
        """(dimension, mapping) if every dimension maps to itself and only one is not an
        identity; None otherwise (then Dagster's own method runs)."""
        if downstream_def != upstream_def or not isinstance(
            downstream_def, dg.MultiPartitionsDefinition
        ):
            return None
        names = {d.name for d in downstream_def.partitions_defs}
        mappings = self.downstream_mappings_by_upstream_dimension
        if set(mappings) != names or any(m.dimension_name != up for up, m in mappings.items()):
            return None
        non_identity = [
            (up, m.partition_mapping)
            for up, m in mappings.items()
            if not isinstance(m.partition_mapping, dg.IdentityPartitionMapping)
        ]
        return non_identity[0] if len(non_identity) == 1 else None
