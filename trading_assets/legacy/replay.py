"""replay: re-issue a legacy AI-Trader agent's recorded actions at their recorded dates.

Params name the legacy position.jsonl. Each buy/sell becomes an order at that day's open
through the new engine (amount 0 is recorded as a no-op); a day without actions trades
nothing and carries the portfolio. Each traded symbol gets an LLM-lane signal (the
legacy agents were LLMs) with the day's reasoning from the legacy log when present.

It lives with the legacy file formats it reads and is registered with the agents by
name (agents/registry.py), as a plugin would be: agents never import legacy.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

from trading_assets.agents.base import NO_DECISION, AgentContext, AgentParams, Decision, Signal
from trading_assets.kernel.merge import action_signal
from trading_assets.legacy.layout import resolve_root
from trading_assets.legacy.logs import read_log, reasoning_for_day
from trading_assets.legacy.positions import actions_by_date, read_positions
from trading_assets.market.view import PointInTimeView
from trading_assets.portfolio.orders import Order
from trading_assets.portfolio.step import PortfolioState


class Replay:
    name: ClassVar[str] = "replay"

    class Params(AgentParams):
        root: str  # the AI-Trader checkout or data/ folder
        signature: str  # the legacy signature (folder name)

    def __init__(self, params: Params, context: AgentContext):
        layout = resolve_root(params.root)
        lines, _issues = read_positions(layout.position_file(params.signature), None)
        self.actions: dict[dt.date, list] = actions_by_date(lines)
        self._reasoning = {}
        for day in self.actions:
            path = layout.log_file(params.signature, day)
            if path.exists():
                self._reasoning[day] = reasoning_for_day(read_log(path))

    def decide(self, view: PointInTimeView, portfolio: PortfolioState) -> Decision:
        actions = self.actions.get(view.date)
        if not actions:
            return NO_DECISION
        orders, signals = [], {}
        for symbol, side, amount in actions:
            orders.append(Order(symbol, side, amount))
            signals[symbol] = Signal(symbol, action_signal(side), self._reasoning.get(view.date))
        return Decision(tuple(orders), tuple(signals.values()))
