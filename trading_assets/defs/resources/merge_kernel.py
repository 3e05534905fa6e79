"""The merge kernel as a Dagster resource: its four constants become run config."""

from __future__ import annotations

from functools import cached_property

import dagster as dg
from pydantic import Field

from trading_assets.kernel.lanes import Lane
from trading_assets.kernel.merge import DEFAULT_CONSTANTS, MergeConstants, MergeResult, merge

_D = DEFAULT_CONSTANTS


class MergeKernel(dg.ConfigurableResource):
    """Merges a quant and an LLM lane with the configured caps and solo penalties."""

    quant_weight_cap: float = Field(
        default=_D.quant_weight_cap,
        ge=0.0,
        le=1.0,
        description="Cap on the quant lane's confidence (also caps a quant-only signal).",
    )
    llm_weight_cap: float = Field(
        default=_D.llm_weight_cap,
        ge=0.0,
        le=1.0,
        description="Cap on the LLM lane's confidence (also caps an LLM-only signal).",
    )
    quant_solo_penalty: float = Field(
        default=_D.quant_solo_penalty,
        ge=0.0,
        le=1.0,
        description="Multiplier on the quant confidence when only the quant lane signals.",
    )
    llm_solo_penalty: float = Field(
        default=_D.llm_solo_penalty,
        ge=0.0,
        le=1.0,
        description="Multiplier on the LLM confidence when only the LLM lane signals.",
    )

    @cached_property
    def constants(self) -> MergeConstants:
        # Built once per resource instance: merge() runs once per symbol per day.
        return MergeConstants(
            quant_weight_cap=self.quant_weight_cap,
            llm_weight_cap=self.llm_weight_cap,
            quant_solo_penalty=self.quant_solo_penalty,
            llm_solo_penalty=self.llm_solo_penalty,
        )

    def merge(self, quant: Lane, llm: Lane) -> MergeResult:
        return merge(quant, llm, self.constants)
