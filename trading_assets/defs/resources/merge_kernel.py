"""The merge kernel as a Dagster resource: its constants become run config.

The config fields are derived from `kernel.merge.MergeConstants` (names, defaults,
descriptions, the [0, 1] range), so the resource cannot drift from the kernel.
"""

from __future__ import annotations

import dataclasses
from functools import cached_property

import dagster as dg
from pydantic import Field, create_model

from trading_assets.kernel.lanes import Lane
from trading_assets.kernel.merge import MergeConstants, MergeResult, merge


class _MergeKernel(dg.ConfigurableResource):
    @cached_property
    def constants(self) -> MergeConstants:
        # Built once per resource instance: merge() runs once per symbol per day.
        return MergeConstants(
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(MergeConstants)}
        )

    def merge(self, quant: Lane, llm: Lane) -> MergeResult:
        return merge(quant, llm, self.constants)


MergeKernel = create_model(
    "MergeKernel",
    __base__=_MergeKernel,
    __doc__="Merges a quant and an LLM lane with the configured caps and solo penalties.",
    **{
        f.name: (float, Field(default=f.default, ge=0.0, le=1.0, description=f.metadata["doc"]))
        for f in dataclasses.fields(MergeConstants)
    },
)
