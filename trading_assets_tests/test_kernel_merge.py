"""Example-based tests of the merge kernel and the rating scale, with the reference numbers."""

from __future__ import annotations

import math
import pickle

import pytest

from trading_assets.kernel import reasons
from trading_assets.kernel.lanes import LaneFailure, LaneSignal
from trading_assets.kernel.merge import BothSignalsUnavailable, MergeConstants, merge
from trading_assets.kernel.ratings import RATINGS, lane_from_llm_rating, rating_for


def q(direction: int, confidence: float, **kw) -> LaneSignal:
    return LaneSignal("quant", direction, confidence, **kw)


def llm(direction: int, confidence: float, **kw) -> LaneSignal:
    return LaneSignal("llm", direction, confidence, **kw)


@pytest.mark.parametrize(
    ("quant", "llm_lane", "direction", "confidence", "rating"),
    [
        # qc = 0.8 (capped), lc = 0.6, S = 0.2 -> 0.2 / 1.4
        (q(1, 0.9), llm(-1, 0.6), 1, 0.2 / 1.4, "OVERWEIGHT"),
        (q(1, 0.9), llm(1, 0.9), 1, 1.0, "BUY"),
        (q(-1, 0.5), llm(-1, 0.9), -1, 1.0, "SELL"),
        (q(1, 0.8), llm(-1, 0.8), 0, 0.0, "HOLD"),  # equal weights cancel
        (q(1, 0.0), llm(-1, 0.0), 0, 0.0, "HOLD"),  # qc + lc == 0
        (q(0, 0.9), llm(1, 0.1), 1, 0.1 / 0.9, "OVERWEIGHT"),
    ],
)
def test_merge_with_two_lanes_gives_reference_numbers(
    quant, llm_lane, direction, confidence, rating
):
    result = merge(quant, llm_lane)
    assert (result.direction, result.rating) == (direction, rating)
    assert math.isclose(result.confidence, confidence, abs_tol=1e-12)
    assert not result.degraded and result.data_quality is None


def test_merge_with_llm_failed_gives_degraded_quant_solo():
    result = merge(q(1, 0.9), LaneFailure("llm", reasons.LLM_TIMEOUT, error="no answer in 30 s"))
    assert (result.direction, result.rating) == (1, "BUY")
    assert math.isclose(result.confidence, 0.72)  # min(0.9 * 0.8, 0.8)
    assert result.degraded and result.reason_codes == ("llm_timeout",)
    assert result.source_diagnostics == {
        "llm": {"reason_code": "llm_timeout", "data_quality": None, "error": "no answer in 30 s"}
    }
    assert result.data_quality is None


def test_merge_with_quant_no_data_gives_degraded_llm_solo():
    result = merge(
        LaneFailure("quant", reasons.QUANT_NO_DATA, data_quality="partial_data"), llm(-1, 0.9)
    )
    assert (result.direction, result.rating) == (-1, "UNDERWEIGHT")
    assert math.isclose(result.confidence, 0.63)  # min(0.9 * 0.7, 0.9)
    assert result.reason_codes == ("quant_no_data", "partial_data")
    assert result.data_quality.state == "partial_data"
    assert result.data_quality.source == "quant"


def test_merge_with_llm_not_configured_is_clean_and_says_so():
    result = merge(q(-1, 1.0), None)
    assert (result.direction, result.rating) == (-1, "SELL")
    assert math.isclose(result.confidence, 0.8)
    assert not result.degraded and result.reason_codes == ()
    assert result.data_quality.state == "ok" and result.data_quality.not_configured == ("llm",)
    assert result.source_diagnostics == {}


def test_merge_with_unknown_llm_rating_is_degraded_but_still_merged():
    result = merge(q(1, 0.9), lane_from_llm_rating("STRONG BUY!!"))
    # lc = 0.5 with direction 0: S = 0.8, confidence 0.8 / 1.3
    assert (result.direction, result.rating) == (1, "OVERWEIGHT")
    assert math.isclose(result.confidence, 0.8 / 1.3)
    assert result.degraded and result.reason_codes == ("llm_unknown_rating",)
    assert result.source_diagnostics["llm"]["reason_code"] == "llm_unknown_rating"


def test_merge_with_ok_data_quality_on_a_lane_is_not_degraded():
    result = merge(q(1, 0.9, data_quality="ok"), llm(1, 0.9, data_quality="ok"))
    assert not result.degraded and result.data_quality is None


def test_merge_with_both_lanes_none_raises_with_only_the_final_code():
    with pytest.raises(BothSignalsUnavailable) as info:
        merge(None, None)
    assert str(info.value) == "both quant and llm signals are None"
    assert info.value.reason_codes == ("both_signals_unavailable",)
    assert info.value.data_quality.not_configured == ("quant", "llm")


def test_merge_with_both_lanes_failed_carries_every_diagnostic():
    with pytest.raises(BothSignalsUnavailable) as info:
        merge(
            LaneFailure("quant", "quant_no_data", data_quality="stale_data"),
            LaneFailure("llm", "provider_auth_failed", error="HTTP 401"),
        )
    assert info.value.reason_codes == (
        "quant_no_data",
        "stale_data",
        "provider_auth_failed",
        "both_signals_unavailable",
    )
    assert info.value.source_diagnostics["llm"]["error"] == "HTTP 401"
    assert info.value.data_quality.state == "stale_data"


def test_merge_with_lanes_swapped_raises():
    with pytest.raises(ValueError, match="swapped"):
        merge(llm(1, 0.5), q(1, 0.5))


def test_merge_with_a_foreign_lane_object_raises_type_error():
    with pytest.raises(TypeError, match="LaneSignal, a LaneFailure or None"):
        merge(q(1, 0.5), (1, 0.5))


def test_merge_result_with_problems_pickles_for_dagster_io():
    result = merge(q(1, 0.9), LaneFailure("llm", "llm_timeout"))
    assert pickle.loads(pickle.dumps(result)) == result


@pytest.mark.parametrize(
    "kwargs",
    [
        {"direction": 2, "confidence": 0.5},
        {"direction": 1, "confidence": 1.5},
        {"direction": 1, "confidence": math.nan},
        {"direction": 1, "confidence": 0.5, "rating": "MEH"},
    ],
)
def test_lane_signal_with_invalid_values_is_rejected(kwargs):
    with pytest.raises(ValueError):
        LaneSignal("quant", **kwargs)


def test_lane_failure_without_reason_code_is_rejected():
    with pytest.raises(ValueError, match="reason_code"):
        LaneFailure("llm", "")


@pytest.mark.parametrize(
    "name", ["quant_weight_cap", "llm_weight_cap", "quant_solo_penalty", "llm_solo_penalty"]
)
@pytest.mark.parametrize("value", [-0.1, 1.5, math.nan])
def test_merge_constants_out_of_unit_interval_are_rejected(name, value):
    with pytest.raises(ValueError, match=name):
        MergeConstants(**{name: value})


def test_merge_with_custom_constants_uses_them():
    constants = MergeConstants(quant_weight_cap=0.5, quant_solo_penalty=1.0)
    assert merge(q(1, 0.9), None, constants).confidence == 0.5


@pytest.mark.parametrize(
    ("direction", "confidence", "rating"),
    [
        (1, 0.7, "BUY"),
        (1, 0.6999, "OVERWEIGHT"),
        (-1, 0.7, "SELL"),
        (-1, 0.1, "UNDERWEIGHT"),
        (0, 1.0, "HOLD"),
        (0, 0.0, "HOLD"),
    ],
)
def test_rating_for_with_threshold_cases_gives_rating(direction, confidence, rating):
    assert rating_for(direction, confidence) == rating


@pytest.mark.parametrize(
    ("text", "direction", "confidence"),
    [
        ("BUY", 1, 0.9),
        ("overweight", 1, 0.6),
        (" Hold\n", 0, 0.5),
        ("UNDERWEIGHT", -1, 0.6),
        ("sell ", -1, 0.9),
    ],
)
def test_lane_from_llm_rating_with_known_rating_maps_to_signal(text, direction, confidence):
    lane = lane_from_llm_rating(text)
    assert (lane.source, lane.direction, lane.confidence) == ("llm", direction, confidence)
    assert lane.rating == text.strip().upper() and lane.rating in RATINGS
    assert lane.reason_code is None


@pytest.mark.parametrize("text", ["", "STRONG BUY", "neutral", "BUY SELL"])
def test_lane_from_llm_rating_with_unknown_text_is_degraded_hold(text):
    lane = lane_from_llm_rating(text)
    assert (lane.direction, lane.confidence, lane.rating) == (0, 0.5, None)
    assert lane.reason_code == reasons.LLM_UNKNOWN_RATING


def test_reason_codes_include_the_reference_list():
    reference = """config_invalid quant_not_configured quant_init_failed quant_signal_failed
    quant_no_data non_trading_day partial_data stale_data llm_init_failed llm_signal_failed
    llm_unknown_rating provider_mismatch provider_auth_failed provider_api_key_missing
    both_signals_unavailable llm_timeout llm_rate_limited llm_server_error llm_unparseable"""
    assert set(reference.split()) <= set(reasons.REASON_CODES)
    assert len(set(reasons.REASON_CODES)) == len(reasons.REASON_CODES)
