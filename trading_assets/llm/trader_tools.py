"""The llm_trader's tools, with AI-Trader's names and arguments, point in time.

- `get_price_local(symbol, date)`: a day's OHLCV only as far as it is known at D's open.
  An earlier trading day: its full bar. D itself: its open only; high, low, close and
  volume are refused. A later date: refused. Each refusal is recorded (`refusal`).
- `buy(symbol, amount)` / `sell(symbol, amount)`: whole shares at D's open, answered by
  the engine's own fill rule (`portfolio.fills.fill_at_open`, i.e. `portfolio.step`):
  the day's confirmed orders so far plus the new one are filled from the morning's
  state, and the new order is confirmed only if that rule fills it (or it is a 0-share
  no-op). So the engine, filling the confirmed orders at D's open, fills exactly what
  the tools told the model. Fees, slippage, listings and rejection reasons apply.

Bad arguments (not JSON, missing, of the wrong type), an unknown tool or symbol, a
negative or fractional amount: the answer is a JSON `{"error": ...}` the model can act
on, and the day goes on.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trading_assets.errors import TradingAssetsError
from trading_assets.market.history import FIELDS
from trading_assets.market.view import PointInTimeView
from trading_assets.portfolio.fills import fill_at_open
from trading_assets.portfolio.orders import (
    DELISTED,
    INSUFFICIENT_CASH,
    INSUFFICIENT_SHARES,
    INVALID_QUANTITY,
    NO_PRICE,
    NOT_LISTED,
    UNKNOWN_SYMBOL,
    Order,
)
from trading_assets.portfolio.step import NO_FEES, Fees, PortfolioState

# refusal kinds (tool_usage.refusal): what the model asked for that is not known at D's open
AFTER_OPEN = "after_open"  # D's high, low, close or volume
FUTURE_DATE = "future_date"  # a date after D

_SYMBOL = {"type": "string", "description": "stock symbol, e.g. AAPL"}
_AMOUNT = {"type": "integer", "description": "number of whole shares (0 or more)"}
TOOL_SCHEMAS: tuple[dict[str, Any], ...] = (
    {
        "type": "function",
        "function": {
            "name": "get_price_local",
            "description": "Daily open, high, low, close and volume of a symbol on a date "
            "(YYYY-MM-DD), as far as it is known at today's open: earlier trading days in "
            "full, today's open only.",
            "parameters": {
                "type": "object",
                "properties": {
                    "symbol": _SYMBOL,
                    "date": {"type": "string", "description": "YYYY-MM-DD"},
                },
                "required": ["symbol", "date"],
            },
        },
    },
    *(
        {
            "type": "function",
            "function": {
                "name": side,
                "description": f"{side.capitalize()} whole shares of a symbol at today's "
                "open. Returns the new positions (shares per symbol and CASH) or an error.",
                "parameters": {
                    "type": "object",
                    "properties": {"symbol": _SYMBOL, "amount": _AMOUNT},
                    "required": ["symbol", "amount"],
                },
            },
        }
        for side in ("buy", "sell")
    ),
)
TOOL_NAMES: tuple[str, ...] = tuple(t["function"]["name"] for t in TOOL_SCHEMAS)

_REJECTED = {
    INSUFFICIENT_CASH: "insufficient cash for this order at today's open (fees included)",
    INSUFFICIENT_SHARES: "you hold fewer shares than you want to sell (no shorting)",
    INVALID_QUANTITY: "amount must be a whole number of shares, 0 or more",
    NO_PRICE: "the symbol has no open price today",
    UNKNOWN_SYMBOL: "the symbol is not in this model's universe",
    NOT_LISTED: "the symbol is not listed yet today",
    DELISTED: "the symbol is delisted",
}


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    content: str  # the JSON text the model gets as the `role: tool` message
    error: str | None = None
    refusal: str | None = None  # AFTER_OPEN / FUTURE_DATE: a look-ahead attempt


class BadArguments(Exception):
    pass


class TradingDesk:
    """One model-day's tools: the view of D's open and the orders confirmed so far."""

    def __init__(self, view: PointInTimeView, portfolio: PortfolioState, fees: Fees = NO_FEES):
        self.view, self.start, self.fees = view, portfolio, fees
        self.orders: list[Order] = []  # confirmed, in order: what the engine fills
        self.state = portfolio
        self._tools: dict[str, Callable[[dict[str, Any]], ToolOutcome]] = {
            "get_price_local": self._get_price_local,
            "buy": lambda args: self._trade("buy", args),
            "sell": lambda args: self._trade("sell", args),
        }

    def positions(self, state: PortfolioState | None = None) -> dict[str, float]:
        """AI-Trader's position dict: shares of every symbol of the universe, and CASH."""
        state = state or self.state
        return {**{s: state.shares(s) for s in self.view.symbols}, "CASH": state.cash}

    def call(self, name: str, arguments: Any) -> ToolOutcome:
        tool = self._tools.get(name)
        if tool is None:
            return _error(f"unknown tool {name!r}; the tools are {', '.join(TOOL_NAMES)}")
        try:
            args = _arguments(arguments)
            return tool(args)
        except BadArguments as exc:
            return _error(f"{name}: {exc}")

    def _get_price_local(self, args: dict[str, Any]) -> ToolOutcome:
        symbol = _symbol(args)
        raw = _text(args, "date")
        try:
            date = dt.date.fromisoformat(raw)
        except ValueError:
            raise BadArguments(f"date {raw!r} is not a date as YYYY-MM-DD") from None
        today = self.view.date
        if symbol not in self.view.symbols:
            return _error(_unknown(symbol, self.view.symbols))
        if date > today:
            return _error(
                f"{date} is after today ({today}): its prices are not known at today's open "
                "(look-ahead refused)",
                refusal=FUTURE_DATE,
            )
        if date == today:
            message = (
                f"high, low, close and volume of {symbol} on {today} are not known at "
                "today's open (look-ahead refused); the open is today's buying price"
            )
            payload = {
                "symbol": symbol,
                "date": today.isoformat(),
                "ohlcv": {"open": _number(self.view.open(symbol))},
                "error": message,
            }
            return ToolOutcome(_json(payload), error=message, refusal=AFTER_OPEN)
        try:
            ohlcv = {f: _number(self.view.price(f, symbol, date)) for f in FIELDS}
        except TradingAssetsError:
            previous = self.view.previous_date
            hint = f"; the last trading day before today is {previous}" if previous else ""
            return _error(
                f"no prices for {symbol} on {date} (not a trading day in the data)" + hint
            )
        return ToolOutcome(_json({"symbol": symbol, "date": date.isoformat(), "ohlcv": ohlcv}))

    def _trade(self, side: str, args: dict[str, Any]) -> ToolOutcome:
        symbol = _symbol(args)
        amount = args.get("amount")
        if "amount" not in args:
            raise BadArguments("missing argument 'amount'")
        if isinstance(amount, bool) or not isinstance(amount, int | float):
            raise BadArguments(f"amount must be a number of shares, got {amount!r}")
        if isinstance(amount, float) and amount.is_integer():
            amount = int(amount)
        order = Order(symbol, side, amount)  # type: ignore[arg-type]
        # the engine's rule over the day's confirmed orders and this one, from the morning
        state, results = fill_at_open(self.view, self.start, [*self.orders, order], self.fees)
        result = results[-1]
        if result.status == "rejected":
            reason = result.reason or "rejected"
            text = _REJECTED.get(reason, reason)
            if reason == UNKNOWN_SYMBOL:
                text = _unknown(symbol, self.view.symbols)
            message = f"{side} {amount} {symbol} rejected ({reason}): {text}"
            return ToolOutcome(_json({"error": message, "reason": reason}), error=message)
        self.orders.append(order)
        self.state = state
        return ToolOutcome(_json(self.positions(state)))


def _arguments(arguments: Any) -> dict[str, Any]:
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments) if arguments.strip() else {}
        except ValueError as exc:
            shown = arguments[:200]
            raise BadArguments(f"arguments are not valid JSON ({exc}): {shown!r}") from None
    if not isinstance(arguments, dict):
        raise BadArguments(f"arguments must be a JSON object, got {type(arguments).__name__}")
    return arguments


def _text(args: dict[str, Any], key: str) -> str:
    if key not in args:
        raise BadArguments(f"missing argument {key!r}")
    value = args[key]
    if not isinstance(value, str):
        raise BadArguments(f"{key} must be a string, got {value!r}")
    return value.strip()


def _symbol(args: dict[str, Any]) -> str:
    return _text(args, "symbol").upper()


def _unknown(symbol: str, universe: tuple[str, ...]) -> str:
    shown = ", ".join(universe[:20]) + (", ..." if len(universe) > 20 else "")
    return f"unknown symbol {symbol!r}: not in this model's universe ({shown})"


def _number(value: float) -> float | None:
    return None if math.isnan(value) else float(value)


def _json(payload: Any) -> str:
    return json.dumps(payload, separators=(", ", ": "), allow_nan=False)


def _error(message: str, refusal: str | None = None) -> ToolOutcome:
    return ToolOutcome(_json({"error": message}), error=message, refusal=refusal)
