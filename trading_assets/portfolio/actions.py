"""The corporate-actions step: state at D-1's close -> state at D's open, before orders.

Contract, for each held symbol with an action whose ex-date is D:
- a cash dividend is credited for the shares held at the previous close:
  cash += shares x dividend (dividends are per old share, before any split that day);
- a split multiplies the holding by its ratio; whole shares stay, and the fractional
  share is paid out in cash at D's open (the first price quoted in new shares, the
  price orders fill at that day). When D has no open, the previous close divided by the
  ratio (the same price in new shares) is used instead;
- a symbol not held is untouched, and nothing is recorded for it.
Valued at prices adjusted for the action (previous close / ratio, minus the dividend),
the portfolio is worth what it was worth at the previous close. No I/O, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from trading_assets.market.actions import CorporateAction
from trading_assets.portfolio.step import PortfolioState

ActionKind = Literal["split", "dividend", "split+dividend"]
# q x ratio can land a hair below a whole number (3 x 0.1); this much is rounding, not a fraction
WHOLE_SHARE_EPS = 1e-9


@dataclass(frozen=True, slots=True)
class ActionEffect:
    """What one corporate action did to one holding (stored with the model-day)."""

    action: CorporateAction
    kind: ActionKind
    shares_before: int
    shares_after: int
    dividend_cash: float  # shares_before x dividend
    fraction_cash: float  # the fractional share paid out at `fraction_price`
    fraction_price: float | None = None

    @property
    def cash_change(self) -> float:
        return self.dividend_cash + self.fraction_cash


def apply_corporate_actions(
    state: PortfolioState,
    actions: Mapping[str, CorporateAction],
    prev_closes: Mapping[str, float],
    opens: Mapping[str, float] | None = None,
) -> tuple[PortfolioState, tuple[ActionEffect, ...]]:
    """Apply today's actions (by symbol) to the holdings; return the state and effects."""
    cash = state.cash
    positions = dict(state.positions)
    effects = []
    for symbol in sorted(actions):
        held = positions.get(symbol, 0)
        if not held:
            continue
        effect = _effect(actions[symbol], held, prev_closes, opens or {})
        cash += effect.dividend_cash + effect.fraction_cash
        if effect.shares_after:
            positions[symbol] = effect.shares_after
        else:
            del positions[symbol]
        effects.append(effect)
    if not effects:
        return state, ()
    return PortfolioState(cash=cash, positions=positions), tuple(effects)


def _effect(
    action: CorporateAction,
    held: int,
    prev_closes: Mapping[str, float],
    opens: Mapping[str, float],
) -> ActionEffect:
    dividend_cash = held * action.dividend
    if not action.is_split:
        return ActionEffect(action, "dividend", held, held, dividend_cash, 0.0)
    new_shares = held * action.split_ratio
    whole = math.floor(new_shares + WHOLE_SHARE_EPS)
    fraction = max(new_shares - whole, 0.0)
    price = None
    if fraction:
        price = opens.get(action.symbol, math.nan)
        if not price > 0:  # no open today: the previous close in new shares
            price = prev_closes[action.symbol] / action.split_ratio
    kind: ActionKind = "split+dividend" if action.dividend else "split"
    return ActionEffect(
        action, kind, held, whole, dividend_cash, fraction * price if fraction else 0.0, price
    )
