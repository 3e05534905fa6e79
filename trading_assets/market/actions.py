"""Corporate actions: splits and cash dividends by ex-date, per symbol.

A `CorporateAction` says that from the open of `ex_date` on, one old share of `symbol`
is `split_ratio` new shares (2.0 for a 2:1 split, 0.5 for a 1:2 reverse split, 1.0 for
none), and that a holder at the previous close receives `dividend` in cash per share
held then (0.0 for none). Prices before the ex-date are in old shares; prices from the
ex-date on are in new shares.

Derived from an adjusted close (`derive_from_adjusted`, the bundled source): a vendor's
adjusted close is the raw close times a factor f(t) that changes only on ex-dates. With
r(t) = f(t-1) / f(t):
- a split with ratio R on day t gives r(t) = 1 / R (exactly 0.5 for 2:1);
- a cash dividend D per share gives r(t) = 1 - D / close(t-1), so
  D = close(t-1) * (1 - r(t)).
A day is an ex-date when |r(t) - 1| > EVENT_TOLERANCE; it is a split when 1 / r(t) lies
within SPLIT_TOLERANCE (relative) of a fraction with numerator and denominator <= 10,
otherwise a dividend. On bokeh-sampledata's four stocks the factor is constant to
|r - 1| < 1e-13 on every other day and the smallest dividend moves it by 1.1e-3, so
1e-6 separates noise from events by seven orders of magnitude on one side and three on
the other; the three splits' 1 / r are within 2e-14 of 2. A day that holds both a split
and a dividend cannot be told apart from the factor alone; it is read as whichever the
ratio looks like (none occurs in the bundled data).
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from trading_assets.errors import MarketDataError

EVENT_TOLERANCE = 1e-6  # |r - 1| above this is an ex-date (noise in the package: < 1e-13)
SPLIT_TOLERANCE = 1e-6  # relative distance of 1/r from a clean fraction
MAX_SPLIT_TERM = 10  # clean split fractions: p/q with p, q <= 10 (2, 3, 3/2, 1/10, ...)
DIVIDEND_DECIMALS = 6  # derived dividends are rounded here (below any declared precision)
# Declared split ratios are bounded: the largest splits on record are 1:250 reverse and
# 100:1 forward; a ratio past these bounds is a typo (1e30 overflows share counts).
MIN_SPLIT_RATIO = 1e-3
MAX_SPLIT_RATIO = 1e3


class CorporateAction(BaseModel):
    """One ex-date of one symbol: a split, a cash dividend, or both."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    symbol: str
    ex_date: dt.date
    split_ratio: float = Field(1.0, ge=MIN_SPLIT_RATIO, le=MAX_SPLIT_RATIO, allow_inf_nan=False)
    dividend: float = Field(0.0, ge=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _does_something(self) -> CorporateAction:
        if self.split_ratio == 1.0 and self.dividend == 0.0:
            raise ValueError("a corporate action needs a split_ratio != 1 or a dividend > 0")
        return self

    @property
    def is_split(self) -> bool:
        return self.split_ratio != 1.0


class CorporateActions:
    """An immutable, sorted (ex_date, symbol) collection with one action per symbol-day."""

    __slots__ = ("_actions", "_by_date", "_dates")

    def __init__(self, actions: Iterable[CorporateAction] = ()):
        ordered = tuple(sorted(actions, key=lambda a: (a.ex_date, a.symbol)))
        by_date: dict[dt.date, dict[str, CorporateAction]] = {}
        for action in ordered:
            day = by_date.setdefault(action.ex_date, {})
            if action.symbol in day:
                raise MarketDataError(
                    f"two corporate actions for {action.symbol} on {action.ex_date}",
                    fix="merge them into one row (split_ratio and dividend together)",
                )
            day[action.symbol] = action
        self._actions = ordered
        self._by_date = by_date
        self._dates = sorted(by_date)

    def __iter__(self) -> Iterator[CorporateAction]:
        return iter(self._actions)

    def __len__(self) -> int:
        return len(self._actions)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CorporateActions) and self._actions == other._actions

    def __hash__(self) -> int:
        return hash(self._actions)

    def __repr__(self) -> str:
        return f"CorporateActions({len(self._actions)} actions)"

    def on(self, date: dt.date) -> dict[str, CorporateAction]:
        """The actions whose ex-date is `date`, by symbol."""
        return dict(self._by_date.get(date, {}))

    def between(self, after: dt.date | None, upto: dt.date) -> list[dict[str, CorporateAction]]:
        """The actions of each ex-date in (after, upto], in date order (an ex-date that is
        no trading day takes effect on the next bar)."""
        lo = 0 if after is None else bisect.bisect_right(self._dates, after)
        hi = bisect.bisect_right(self._dates, upto)
        return [dict(self._by_date[d]) for d in self._dates[lo:hi]]

    def splits(self) -> tuple[CorporateAction, ...]:
        return tuple(a for a in self._actions if a.is_split)

    def dividends(self) -> tuple[CorporateAction, ...]:
        return tuple(a for a in self._actions if a.dividend > 0)

    def for_symbols(self, symbols: Sequence[str]) -> CorporateActions:
        keep = set(symbols)
        return CorporateActions(a for a in self._actions if a.symbol in keep)


NO_ACTIONS = CorporateActions()


def derive_from_adjusted(
    symbol: str, dates: Sequence[dt.date], close: np.ndarray, adj_close: np.ndarray
) -> list[CorporateAction]:
    """The splits and dividends implied by `adj_close` against `close` (see module doc)."""
    factor = np.asarray(adj_close, dtype=float) / np.asarray(close, dtype=float)
    ratio = factor[:-1] / factor[1:]  # ratio[k] = r(t) for t = k + 1
    actions = []
    for k in np.flatnonzero(np.abs(ratio - 1.0) > EVENT_TOLERANCE):
        r, day = float(ratio[k]), dates[k + 1]
        split = clean_split_ratio(1.0 / r)
        if split is not None:
            actions.append(CorporateAction(symbol=symbol, ex_date=day, split_ratio=split))
        elif r < 1.0:
            dividend = round(float(close[k]) * (1.0 - r), DIVIDEND_DECIMALS)
            actions.append(CorporateAction(symbol=symbol, ex_date=day, dividend=dividend))
        else:
            raise MarketDataError(
                f"adj_close/close of {symbol} falls on {day} (x {1 / r:.6f}): neither a "
                "split nor a dividend",
                fix="check the vendor's adjusted prices for that day",
            )
    return actions


def clean_split_ratio(value: float) -> float | None:
    """`value` as p/q (p, q <= 10, not 1) when it is within SPLIT_TOLERANCE of one."""
    if not value > 0:
        return None
    frac = Fraction(value).limit_denominator(MAX_SPLIT_TERM)
    if frac == 1 or frac.numerator > MAX_SPLIT_TERM:
        return None
    if abs(float(frac) - value) > SPLIT_TOLERANCE * value:
        return None
    return float(frac)
