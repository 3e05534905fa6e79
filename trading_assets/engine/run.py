"""A model's run over a range of days, as the engine sees it: its start and its days.

The orchestration (load from the store, simulate, write) is `trading_assets.runs`,
a layer above the store; the engine below it never imports the store.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from trading_assets.config import ModelSpec
from trading_assets.engine.simulate import DayResult, StartState
from trading_assets.market.calendar import all_trading_days


@dataclass
class ModelRun:
    model: str
    start: StartState  # the state before the first day (for replays of the day's actions)
    results: list[DayResult] = field(default_factory=list)
    parity: tuple[Any, ...] | None = None  # legacy parity outcomes; None: not checked
    llm_note: str = "no LLM lane"  # the LLM lane's stats, for the run's summary
    spec: ModelSpec | None = None  # what produced the results (params, config_hash)
    stopped: Any = None  # errors.RunStopped: the run ended cleanly before its last date
    transcripts: dict[dt.date, str] = field(default_factory=dict)  # llm_trader: markdown

    @property
    def failure(self) -> DayResult | None:
        return next((r for r in self.results if r.failed), None)

    @property
    def completed_dates(self) -> list[dt.date]:
        return [r.date for r in self.results if not r.failed]


def previous_trading_day(day: dt.date) -> dt.date | None:
    days = all_trading_days()
    i = bisect.bisect_left(days, day)
    return days[i - 1] if i > 0 else None
