"""The MergeKernel resource: constants validated as run config, merge identical to the kernel's."""

from __future__ import annotations

import dagster as dg
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from trading_assets.defs.resources.merge_kernel import MergeKernel
from trading_assets.kernel.lanes import LaneFailure, LaneSignal
from trading_assets.kernel.merge import (
    BothSignalsUnavailable,
    MergeConstants,
    merge,
)

UNIT = st.floats(min_value=0.0, max_value=1.0)
FIELDS = ("quant_weight_cap", "llm_weight_cap", "quant_solo_penalty", "llm_solo_penalty")


def lane(source: str) -> st.SearchStrategy:
    signal = st.builds(LaneSignal, st.just(source), st.sampled_from([-1, 0, 1]), UNIT)
    return st.one_of(st.none(), signal, st.just(LaneFailure(source, f"{source}_signal_failed")))


def test_merge_kernel_with_defaults_uses_the_reference_constants():
    # shared/reference/result-contract-and-merge.md: 0.8, 0.9, 0.8, 0.7
    assert MergeKernel().constants == MergeConstants(0.8, 0.9, 0.8, 0.7)


@pytest.mark.parametrize("name", FIELDS)
@pytest.mark.parametrize("value", [1.5, -0.1])
def test_merge_kernel_with_out_of_range_constant_is_rejected_naming_it(name, value):
    with pytest.raises(ValidationError) as info:
        MergeKernel(**{name: value})
    message = str(info.value)
    assert name in message
    assert "less than or equal to 1" in message or "greater than or equal to 0" in message


def test_merge_kernel_with_bad_run_config_fails_the_run_naming_the_field():
    @dg.asset
    def merged(merge_kernel: MergeKernel) -> float:
        return merge_kernel.merge(LaneSignal("quant", 1, 0.9), None).confidence

    resources = {"merge_kernel": MergeKernel.configure_at_launch()}
    ok = dg.materialize(
        [merged],
        resources=resources,
        run_config={"resources": {"merge_kernel": {"config": {"quant_solo_penalty": 0.5}}}},
    )
    assert ok.output_for_node("merged") == 0.45
    with pytest.raises(dg.DagsterResourceFunctionError) as info:
        dg.materialize(
            [merged],
            resources=resources,
            run_config={"resources": {"merge_kernel": {"config": {"llm_solo_penalty": 1.5}}}},
        )
    assert "llm_solo_penalty" in str(info.value.__cause__)


@settings(max_examples=60)
@given(UNIT, UNIT, UNIT, UNIT, lane("quant"), lane("llm"))
def test_merge_kernel_merge_equals_pure_merge(qw, lw, qs, ls, quant, llm):
    kernel = MergeKernel(
        quant_weight_cap=qw, llm_weight_cap=lw, quant_solo_penalty=qs, llm_solo_penalty=ls
    )
    constants = MergeConstants(qw, lw, qs, ls)
    if not isinstance(quant, LaneSignal) and not isinstance(llm, LaneSignal):
        with pytest.raises(BothSignalsUnavailable) as info:
            kernel.merge(quant, llm)
        assert info.value.reason_codes[-1] == "both_signals_unavailable"
        return
    assert kernel.merge(quant, llm) == merge(quant, llm, constants)
