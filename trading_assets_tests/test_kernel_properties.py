"""Property tests of the merge kernel: bounds, sign, symmetry, caps, degradation, and
agreement with a naive reference written straight from the contract's math."""

from __future__ import annotations

import pickle

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trading_assets.kernel.lanes import LaneFailure, LaneSignal
from trading_assets.kernel.merge import BothSignalsUnavailable, MergeConstants, merge

DIRECTIONS = st.sampled_from([-1, 0, 1])
UNIT = st.floats(min_value=0.0, max_value=1.0)
STATES = st.sampled_from(
    [
        None,
        "ok",
        "partial_data",
        "stale_data",
        "non_trading_day",
        "provider_mismatch",
        "provider_auth_failed",
        "research_degraded",
        "unknown",
    ]
)
CONSTANTS = st.builds(MergeConstants, UNIT, UNIT, UNIT, UNIT)
FAIL_CODES = st.sampled_from(["llm_signal_failed", "llm_timeout", "quant_no_data", "weird_new"])


def clean_signal(source: str) -> st.SearchStrategy[LaneSignal]:
    return st.builds(LaneSignal, st.just(source), DIRECTIONS, UNIT)


def any_signal(source: str) -> st.SearchStrategy[LaneSignal]:
    return st.builds(
        LaneSignal,
        st.just(source),
        DIRECTIONS,
        UNIT,
        reason_code=st.sampled_from([None, None, "llm_unknown_rating"]),
        data_quality=STATES,
    )


def failure(source: str) -> st.SearchStrategy[LaneFailure]:
    return st.builds(
        LaneFailure,
        st.just(source),
        FAIL_CODES,
        data_quality=STATES,
        error=st.sampled_from([None, "HTTP 503"]),
    )


def lane(source: str) -> st.SearchStrategy:
    return st.one_of(st.none(), any_signal(source), failure(source))


def sign(x: float) -> int:
    return 1 if x > 0 else -1 if x < 0 else 0


def mirror(lane_in):
    if isinstance(lane_in, LaneSignal):
        flipped = {"BUY": "SELL", "OVERWEIGHT": "UNDERWEIGHT", "HOLD": "HOLD"}
        flipped |= {v: k for k, v in flipped.items()}
        return LaneSignal(
            lane_in.source,
            -lane_in.direction,
            lane_in.confidence,
            flipped.get(lane_in.rating),
            lane_in.reason_code,
            lane_in.data_quality,
        )
    return lane_in


def reference(quant, llm, c: MergeConstants):
    """The contract's math spelled out: (direction, confidence, rating, degraded) or None."""
    q = quant if isinstance(quant, LaneSignal) else None
    l_ = llm if isinstance(llm, LaneSignal) else None
    if q is not None and l_ is not None:
        qc = min(q.confidence, c.quant_weight_cap)
        lc = min(l_.confidence, c.llm_weight_cap)
        s = q.direction * qc + l_.direction * lc
        direction, confidence = sign(s), (abs(s) / (qc + lc) if qc + lc != 0 else 0.0)
    elif q is not None:
        direction = q.direction
        confidence = min(q.confidence * c.quant_solo_penalty, c.quant_weight_cap)
    elif l_ is not None:
        direction = l_.direction
        confidence = min(l_.confidence * c.llm_solo_penalty, c.llm_weight_cap)
    else:
        return None
    if direction == 0:
        rating = "HOLD"
    elif direction > 0:
        rating = "BUY" if confidence >= 0.7 else "OVERWEIGHT"
    else:
        rating = "SELL" if confidence >= 0.7 else "UNDERWEIGHT"
    degraded = any(isinstance(x, LaneFailure) for x in (quant, llm)) or any(
        x.reason_code is not None or x.data_quality not in (None, "ok") for x in (q, l_) if x
    )
    return direction, confidence, rating, degraded


@given(lane("quant"), lane("llm"), CONSTANTS)
def test_merge_with_random_lanes_agrees_with_naive_reference(quant, llm, constants):
    expected = reference(quant, llm, constants)
    if expected is None:
        with pytest.raises(BothSignalsUnavailable):
            merge(quant, llm, constants)
        return
    result = merge(quant, llm, constants)
    assert (result.direction, result.confidence, result.rating, result.degraded) == expected


@given(lane("quant"), lane("llm"), CONSTANTS)
def test_merge_with_any_lanes_confidence_stays_in_unit_interval(quant, llm, constants):
    try:
        result = merge(quant, llm, constants)
    except BothSignalsUnavailable:
        return
    assert 0.0 <= result.confidence <= 1.0


@given(any_signal("quant"), any_signal("llm"), CONSTANTS)
def test_merge_with_two_signals_direction_is_sign_of_weighted_sum(quant, llm, constants):
    weighted = quant.direction * min(
        quant.confidence, constants.quant_weight_cap
    ) + llm.direction * min(llm.confidence, constants.llm_weight_cap)
    assert merge(quant, llm, constants).direction == sign(weighted)


@given(lane("quant"), lane("llm"), CONSTANTS)
def test_merge_with_both_directions_flipped_mirrors_the_result(quant, llm, constants):
    try:
        result = merge(quant, llm, constants)
    except BothSignalsUnavailable:
        return
    flipped = merge(mirror(quant), mirror(llm), constants)
    mirrored = {
        "BUY": "SELL",
        "OVERWEIGHT": "UNDERWEIGHT",
        "HOLD": "HOLD",
        "UNDERWEIGHT": "OVERWEIGHT",
        "SELL": "BUY",
    }
    assert flipped.direction == -result.direction
    assert flipped.confidence == result.confidence
    assert flipped.rating == mirrored[result.rating]
    assert flipped.reason_codes == result.reason_codes


@given(any_signal("quant"), st.one_of(st.none(), failure("llm")), CONSTANTS)
def test_merge_with_quant_alone_never_exceeds_quant_cap(quant, llm, constants):
    assert merge(quant, llm, constants).confidence <= constants.quant_weight_cap


@given(st.one_of(st.none(), failure("quant")), any_signal("llm"), CONSTANTS)
def test_merge_with_llm_alone_never_exceeds_llm_cap(quant, llm, constants):
    assert merge(quant, llm, constants).confidence <= constants.llm_weight_cap


@given(st.one_of(st.none(), failure("quant")), st.one_of(st.none(), failure("llm")))
def test_merge_with_no_signal_raises_with_both_signals_unavailable_last(quant, llm):
    with pytest.raises(BothSignalsUnavailable, match="both quant and llm signals are None") as info:
        merge(quant, llm)
    codes = info.value.reason_codes
    assert codes[-1] == "both_signals_unavailable"
    failed = [x.reason_code for x in (quant, llm) if x is not None]
    assert [c for c in codes if c in failed] == list(dict.fromkeys(failed))
    assert set(info.value.source_diagnostics) == {x.source for x in (quant, llm) if x is not None}
    again = pickle.loads(pickle.dumps(info.value))  # crosses Dagster's process boundary intact
    assert again.reason_codes == codes


@given(STATES, STATES)
def test_data_quality_with_two_lane_states_picks_documented_priority(q_state, l_state):
    result = merge(
        LaneSignal("quant", 1, 0.5, data_quality=q_state),
        LaneSignal("llm", 1, 0.5, data_quality=l_state),
    )
    present = [
        (s, src) for s, src in ((q_state, "quant"), (l_state, "llm")) if s not in (None, "ok")
    ]
    if not present:
        assert result.data_quality is None and not result.degraded
        return
    order = ["provider_mismatch", "non_trading_day", "stale_data", "partial_data"]
    ranked = sorted(present, key=lambda p: order.index(p[0]) if p[0] in order else len(order))
    assert (result.data_quality.state, result.data_quality.source) == ranked[0]
    assert [(i.state, i.source) for i in result.data_quality.issues] == present
    assert result.degraded


@given(clean_signal("quant"), clean_signal("llm"))
def test_merge_with_other_lane_absent_by_design_is_not_degraded(quant, llm):
    for result, absent in ((merge(quant, None), "llm"), (merge(None, llm), "quant")):
        assert not result.degraded and result.reason_codes == ()
        assert result.data_quality.state == "ok"
        assert result.data_quality.not_configured == (absent,)
        assert result.source_diagnostics == {}


@given(clean_signal("quant"), failure("llm"))
def test_merge_with_configured_lane_failed_is_degraded_with_its_reason(quant, llm):
    result = merge(quant, llm)
    assert result.degraded
    assert result.reason_codes[0] == llm.reason_code
    assert result.source_diagnostics["llm"]["reason_code"] == llm.reason_code
    assert result.source_diagnostics["llm"]["error"] == llm.error


@given(lane("quant"), lane("llm"))
def test_merge_with_any_lanes_degraded_exactly_when_reason_codes_exist(quant, llm):
    try:
        result = merge(quant, llm)
    except BothSignalsUnavailable:
        return
    assert result.degraded == bool(result.reason_codes)
    assert result.quant is quant and result.llm is llm
