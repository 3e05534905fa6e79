"""The clock as a resource: the system's, or a fixed instant (tests, replays)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg

from trading_assets.vocab import SYSTEM_CLOCK, Clock


@dataclass(frozen=True)
class FixedClock:
    at: dt.datetime

    def now(self) -> dt.datetime:
        return self.at


class ClockResource(dg.ConfigurableResource):
    """`fixed`: an ISO 8601 instant with a time zone to read instead of the system time."""

    fixed: str | None = None

    def clock(self) -> Clock:
        if self.fixed is None:
            return SYSTEM_CLOCK
        at = dt.datetime.fromisoformat(self.fixed)
        return FixedClock(at.astimezone(dt.UTC).replace(tzinfo=None))
