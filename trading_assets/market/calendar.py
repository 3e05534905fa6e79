"""Trading days from a real exchange calendar (XNYS by default)."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import exchange_calendars as xcals

# exchange_calendars defaults to the last 20 years; the bundled history starts in 2000.
CALENDAR_START = "1990-01-02"
DEFAULT_CALENDAR = "XNYS"


@lru_cache(maxsize=4)
def _calendar(name: str) -> xcals.ExchangeCalendar:
    return xcals.get_calendar(name, start=CALENDAR_START)


@lru_cache(maxsize=4)
def all_trading_days(name: str = DEFAULT_CALENDAR) -> tuple[dt.date, ...]:
    sessions = _calendar(name).sessions
    return tuple(d.date() for d in sessions)


def trading_days(start: dt.date, end: dt.date, name: str = DEFAULT_CALENDAR) -> list[dt.date]:
    """Sessions in [start, end]; empty when the range holds no trading day."""
    return [d for d in all_trading_days(name) if start <= d <= end]


def is_trading_day(day: dt.date, name: str = DEFAULT_CALENDAR) -> bool:
    return day in _session_set(name)


@lru_cache(maxsize=4)
def _session_set(name: str) -> frozenset[dt.date]:
    return frozenset(all_trading_days(name))


def session_open(day: dt.date, name: str = DEFAULT_CALENDAR) -> dt.datetime:
    """The session's opening time in UTC (09:30 New York on XNYS, DST included): the
    instant that separates what an agent may know on `day` from what it may not."""
    return _calendar(name).session_open(day.isoformat()).to_pydatetime()
