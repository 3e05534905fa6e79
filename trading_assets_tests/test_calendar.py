"""The XNYS trading calendar: the days the engine simulates.

Unlike the legacy engine (every weekday), closures are skipped: holidays, the
2001-09-11 closure, Hurricane Sandy. The calendar must agree day for day with the
bundled price history, and `previous_trading_day` must step over holiday weekends.
"""

from __future__ import annotations

import datetime as dt

import pytest

from trading_assets.engine.run import previous_trading_day
from trading_assets.market.calendar import (
    all_trading_days,
    is_trading_day,
    trading_days,
)
from trading_assets.market.sources import BundledSource

D = dt.date


def test_trading_days_with_september_2001_closure_skips_11_to_14():
    days = trading_days(D(2001, 9, 7), D(2001, 9, 18))
    assert days == [D(2001, 9, 7), D(2001, 9, 10), D(2001, 9, 17), D(2001, 9, 18)]
    for day in (11, 12, 13, 14):
        assert not is_trading_day(D(2001, 9, day))


@pytest.mark.parametrize(
    "holiday",
    [
        D(2012, 7, 4),  # Independence Day
        D(2012, 12, 25),  # Christmas
        D(2012, 4, 6),  # Good Friday
        D(2012, 1, 16),  # Martin Luther King Jr. Day
        D(2012, 10, 29),  # Hurricane Sandy
        D(2012, 10, 30),  # Hurricane Sandy
    ],
)
def test_trading_days_with_holiday_excludes_it(holiday):
    assert not is_trading_day(holiday)
    around = trading_days(holiday - dt.timedelta(days=7), holiday + dt.timedelta(days=7))
    assert holiday not in around


def test_trading_days_with_ordinary_week_returns_the_five_weekdays():
    assert trading_days(D(2012, 3, 5), D(2012, 3, 11)) == [D(2012, 3, d) for d in range(5, 10)]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (D(2012, 12, 25), D(2012, 12, 25)),  # a holiday
        (D(2012, 3, 10), D(2012, 3, 11)),  # a weekend
        (D(2012, 7, 4), D(2012, 7, 4)),
        (D(2012, 3, 9), D(2012, 3, 5)),  # end before start
    ],
)
def test_trading_days_with_range_without_session_returns_empty(start, end):
    assert trading_days(start, end) == []


def test_trading_days_with_bundled_range_match_the_bundled_data():
    history = BundledSource().load()
    days = trading_days(D(2000, 3, 1), D(2013, 3, 1))
    assert len(days) == 3270
    assert days == list(history.dates)
    assert days[0] == D(2000, 3, 1) and days[-1] == D(2013, 3, 1)


def test_all_trading_days_with_full_calendar_is_sorted_and_weekdays_only():
    days = all_trading_days()
    assert list(days) == sorted(set(days))
    assert all(d.weekday() < 5 for d in days)
    assert days[0] <= D(2000, 1, 3)


@pytest.mark.parametrize(
    ("day", "previous"),
    [
        (D(2012, 1, 17), D(2012, 1, 13)),  # Tuesday after the MLK long weekend
        (D(2012, 4, 9), D(2012, 4, 5)),  # Monday after Good Friday
        (D(2012, 7, 5), D(2012, 7, 3)),  # the day after Independence Day
        (D(2012, 12, 26), D(2012, 12, 24)),
        (D(2001, 9, 17), D(2001, 9, 10)),  # reopening after 9/11
        (D(2012, 10, 31), D(2012, 10, 26)),  # after Hurricane Sandy
        (D(2012, 3, 6), D(2012, 3, 5)),  # an ordinary Tuesday
        (D(2012, 3, 10), D(2012, 3, 9)),  # from a Saturday: the last session before it
    ],
)
def test_previous_trading_day_with_closures_returns_last_session(day, previous):
    assert previous_trading_day(day) == previous


def test_previous_trading_day_with_first_calendar_day_returns_none():
    assert previous_trading_day(all_trading_days()[0]) is None
