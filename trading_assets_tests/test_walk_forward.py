"""Walk-forward: folds laid out as documented, each pick made on in-sample days only,
and the stitched out-of-sample series is exactly the picks' own days."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from trading_assets.analytics.walk_forward import make_folds, walk_forward
from trading_assets.market.calendar import trading_days

DAYS = trading_days(dt.date(2012, 1, 3), dt.date(2012, 1, 17))  # 10 sessions (MLK Day shut)


def test_rolling_folds_slide_by_the_out_of_sample_length():
    folds = make_folds(DAYS, in_sample=4, out_of_sample=2)
    assert [(f.in_sample, f.out_of_sample) for f in folds] == [
        ((DAYS[0], DAYS[3]), (DAYS[4], DAYS[5])),
        ((DAYS[2], DAYS[5]), (DAYS[6], DAYS[7])),
        ((DAYS[4], DAYS[7]), (DAYS[8], DAYS[9])),
    ]


def test_anchored_folds_grow_from_the_first_day_and_the_last_may_be_short():
    folds = make_folds(DAYS, in_sample=4, out_of_sample=4, mode="anchored")
    assert [(f.in_sample, f.out_of_sample) for f in folds] == [
        ((DAYS[0], DAYS[3]), (DAYS[4], DAYS[7])),
        ((DAYS[0], DAYS[7]), (DAYS[8], DAYS[9])),
    ]


def test_too_few_days_for_one_fold_is_refused():
    with pytest.raises(ValueError, match="4 days cannot hold one fold of 4 in-sample days"):
        make_folds(DAYS[:4], in_sample=4, out_of_sample=1)


def returns() -> pd.DataFrame:
    # "early" earns steadily for 6 days then loses; "late" the reverse
    early = [0.01, 0.012, 0.011, 0.013, 0.01, 0.012, -0.02, -0.01, -0.03, -0.02]
    late = [-0.01, -0.02, -0.01, -0.015, -0.01, -0.02, 0.02, 0.01, 0.025, 0.015]
    return pd.DataFrame({"early": early, "late": late}, index=DAYS)


def test_each_fold_picks_on_in_sample_days_and_keeps_what_the_pick_did_next():
    frame = returns()
    out = walk_forward(frame, make_folds(DAYS, in_sample=4, out_of_sample=2))
    # folds 1 and 2 see only early's good days in sample; fold 3 (days 4..7) has early
    # at +1.0 %, +1.2 %, -2.0 %, -1.0 % and late at -1.0 %, -2.0 %, +2.0 %, +1.0 %:
    # means -0.2 % and 0.0 %, so late
    assert [r.pick for r in out.folds] == ["early", "early", "late"]
    assert out.folds[0].out_of_sample_return == pytest.approx(1.01 * 1.012 - 1)
    assert out.folds[1].out_of_sample_return == pytest.approx(0.98 * 0.99 - 1)
    assert out.folds[2].out_of_sample_return == pytest.approx(1.025 * 1.015 - 1)
    assert list(out.stitched.index) == DAYS[4:]
    assert list(out.stitched) == [0.01, 0.012, -0.02, -0.01, 0.025, 0.015]


def test_a_pick_never_depends_on_days_after_its_in_sample_window():
    frame = returns()
    folds = make_folds(DAYS, in_sample=4, out_of_sample=2)
    changed = frame.copy()
    changed.loc[DAYS[4] :, "late"] = 0.5  # a future where late is wonderful
    before, after = walk_forward(frame, folds), walk_forward(changed, folds)
    assert before.folds[0].pick == after.folds[0].pick == "early"
