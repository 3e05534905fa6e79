"""Read `agent_data/{signature}/position/position.jsonl` into typed, checked records.

Rule for what stops an import:
- Rejected (LegacyFormatError naming file:line and the fix) when the file cannot be
  read unambiguously: a line that is not complete JSON (truncated), a missing key or
  a value of the wrong type (date not YYYY-MM-DD, id/amount/shares not integers,
  CASH not a finite number), a negative amount or share count, an action other than
  buy/sell/no_trade, a duplicated id, ids not increasing, dates going backwards (the
  day's final state would be ambiguous), a buy/sell of a symbol missing from the
  line's positions or from `known_symbols` (it could not be priced), and a held
  (non-zero) position in an unknown symbol.
- Flagged (LegacyIssue, records kept) when every line is readable but the history
  disagrees with itself or with the legacy rules; the replay decides what it means:
  blank lines, a file without lines, no registration line first, a registration line
  later on, gaps in ids, weekend dates, a no_trade line with a symbol or amount, a sell
  of more shares than held, positions that do not follow from the previous line plus
  the action, a changed symbol set, negative CASH, unknown symbols held at zero.
Amount 0 on a buy or sell is real legacy data and is neither rejected nor flagged.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Iterable, Mapping
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict

from trading_assets.errors import LegacyFormatError
from trading_assets.legacy.layout import LegacyIssue, check_date, read_legacy_text
from trading_assets.portfolio.orders import Side
from trading_assets.portfolio.step import PortfolioState

Action = Literal["buy", "sell", "no_trade"]
ACTIONS: tuple[str, ...] = ("buy", "sell", "no_trade")
CASH = "CASH"


class PositionLine(BaseModel):
    """One line: the state AFTER `action` (None on the registration line)."""

    model_config = ConfigDict(frozen=True)

    date: dt.date
    id: int
    action: Action | None
    symbol: str | None  # "" on no_trade lines, None on the registration line
    amount: int | None
    positions: dict[str, int]  # every symbol of the line, in file order, without CASH
    cash: float
    line_no: int


class PositionsResult(NamedTuple):
    """The valid records, and the flags an importer records next to them."""

    lines: list[PositionLine]
    issues: list[LegacyIssue]


class DayState(NamedTuple):
    id: int
    positions: dict[str, int]
    cash: float

    @property
    def held(self) -> dict[str, int]:
        """The non-zero positions (a legacy line lists every symbol, most at 0)."""
        return {s: n for s, n in self.positions.items() if n}

    def value(self, closes: Mapping[str, float | None]) -> tuple[float | None, tuple[str, ...]]:
        """The legacy valuation, cash + sum(shares x close), by the portfolio's own rule;
        (None, the symbols without a close) when a held symbol has none."""
        held = self.held
        missing = tuple(s for s in held if closes.get(s) is None)
        if missing:
            return None, missing
        return PortfolioState(self.cash, held).value(closes), ()


def read_positions(
    path: str | Path, known_symbols: AbstractSet[str] | None = None
) -> PositionsResult:
    """Parse one position.jsonl; `known_symbols` (the symbols with prices) enables those checks."""
    path = Path(path)
    text = read_legacy_text(path, "positions file")
    return parse_positions(text, file=str(path), known_symbols=known_symbols)


def parse_positions(
    text: str, *, file: str, known_symbols: AbstractSet[str] | None = None
) -> PositionsResult:
    """Parse position.jsonl text; `file` names it in errors and issues."""
    lines: list[PositionLine] = []
    issues: list[LegacyIssue] = []
    raw_lines = text.split("\n")
    for line_no, raw in enumerate(raw_lines, start=1):
        if not raw.strip():
            if line_no < len(raw_lines):  # "" after the final newline is not a line
                issues.append(LegacyIssue(file, line_no, "blank_line", "blank line skipped"))
            continue
        last = line_no == len(raw_lines)
        record = _parse_line(raw, file, line_no, known_symbols, interrupted=last)
        _check_order(record, lines[-1] if lines else None, file)
        issues.extend(_flags(record, lines[-1] if lines else None, file))
        lines.append(record)
    if not lines:
        issues.append(LegacyIssue(file, None, "empty_file", "no position lines"))
    elif lines[0].action is not None:
        msg = "the first line records an action, not the registration"
        issues.append(LegacyIssue(file, lines[0].line_no, "no_registration", msg))
    if known_symbols is not None:  # listed at 0 shares only (held ones raised): noted
        unknown = sorted({s for x in lines for s in x.positions if s not in known_symbols})
        if unknown:
            msg = f"listed without prices: {', '.join(unknown)}"
            issues.append(LegacyIssue(file, None, "unknown_symbol_unheld", msg))
    return PositionsResult(lines, issues)


def _reject(where: str, message: str, fix: str = "") -> LegacyFormatError:
    fix = fix or "restore this line from a backup, or re-run the model from this day"
    return LegacyFormatError(message, where=where, fix=fix)


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _parse_line(
    raw: str, file: str, line_no: int, known: AbstractSet[str] | None, *, interrupted: bool
) -> PositionLine:
    where = f"{file}:{line_no}"
    try:
        obj = json.loads(raw)
    except json.JSONDecodeError as exc:
        hint = " (the last line has no newline: an interrupted write)" if interrupted else ""
        fix = "delete the partial line and re-run that model-day, or restore it from a backup"
        raise _reject(where, f"invalid or truncated JSON: {exc.msg}{hint}", fix) from None
    if not isinstance(obj, dict):
        raise _reject(where, "a position line must be a JSON object")
    missing = [k for k in ("date", "id", "positions") if k not in obj]
    if missing:
        raise _reject(where, f"missing key(s) {', '.join(missing)}")
    try:
        date = dt.date.fromisoformat(check_date(obj["date"]))
    except LegacyFormatError:
        raise _reject(where, f"invalid date {obj['date']!r}", "write YYYY-MM-DD") from None
    if not _int(obj["id"]) or obj["id"] < 0:
        raise _reject(where, f"id {obj['id']!r} is not a non-negative integer")
    positions, cash = _parse_positions(obj["positions"], where, known)
    action = symbol = amount = None
    if "this_action" in obj:
        action, symbol, amount = _parse_action(obj["this_action"], where)
        if action != "no_trade" and symbol not in positions:
            fix = "a traded symbol must be one of the line's positions"
            raise _reject(where, f"{action} of {symbol!r}, which is not in positions", fix)
        if action != "no_trade" and known is not None and symbol not in known:
            msg = f"{action} of unknown symbol {symbol!r} (no prices for it)"
            raise _reject(where, msg, "add its price file, or remove the line")
    return PositionLine.model_construct(  # every field was checked above
        date=date,
        id=obj["id"],
        action=action,
        symbol=symbol,
        amount=amount,
        positions=positions,
        cash=cash,
        line_no=line_no,
    )


def _parse_positions(
    value: Any, where: str, known: AbstractSet[str] | None
) -> tuple[dict[str, int], float]:
    if not isinstance(value, dict):
        raise _reject(where, "positions must be an object", "write {SYMBOL: shares, ..., CASH}")
    cash = value.get(CASH)
    if not isinstance(cash, int | float) or isinstance(cash, bool) or not math.isfinite(cash):
        raise _reject(where, f"CASH {cash!r} is missing or not a finite number")
    shares = {symbol: count for symbol, count in value.items() if symbol != CASH}
    for symbol, count in shares.items():  # type() is int: bools and floats are not shares
        if type(count) is not int or count < 0:
            raise _reject(where, f"{symbol}: {count!r} is not a whole number of shares >= 0")
    for symbol in sorted(s for s in shares if known is not None and s not in known):
        if shares[symbol] > 0:
            msg = f"holds {shares[symbol]} shares of unknown symbol {symbol!r} (no prices)"
            raise _reject(where, msg, "add its price file")
    return shares, float(cash)


def _parse_action(value: Any, where: str) -> tuple[Action, str, int]:
    fix = 'write {"action": "buy"|"sell"|"no_trade", "symbol": S, "amount": K}'
    if not isinstance(value, dict) or any(k not in value for k in ("action", "symbol", "amount")):
        raise _reject(where, "this_action needs action, symbol and amount", fix)
    action, symbol, amount = value["action"], value["symbol"], value["amount"]
    if action not in ACTIONS:
        raise _reject(where, f"unknown action {action!r}", fix)
    if not isinstance(symbol, str):
        raise _reject(where, f"symbol {symbol!r} is not a string", fix)
    if not _int(amount) or amount < 0:
        fix = "amounts are whole shares >= 0; the action says buy or sell"
        raise _reject(where, f"amount {amount!r} is not a whole number >= 0", fix)
    return action, symbol, amount


def _check_order(line: PositionLine, prev: PositionLine | None, file: str) -> None:
    if prev is None:
        return
    where = f"{file}:{line.line_no}"
    fix = "restore the file order (ids increase by one per line, dates never go back)"
    if line.id == prev.id:
        raise _reject(where, f"duplicated id {line.id} (also on line {prev.line_no})", fix)
    if line.id < prev.id:
        raise _reject(where, f"id {line.id} after id {prev.id}: ids must increase", fix)
    if line.date < prev.date:
        raise _reject(where, f"date {line.date} after {prev.date}: dates must not go back", fix)


def _flags(line: PositionLine, prev: PositionLine | None, file: str) -> Iterable[LegacyIssue]:
    def issue(code: str, message: str) -> LegacyIssue:
        return LegacyIssue(file, line.line_no, code, message)

    if line.date.weekday() >= 5:
        yield issue("weekend_date", f"{line.date} is a weekend; the legacy engine trades weekdays")
    if line.cash < 0:
        yield issue("negative_cash", f"CASH is {line.cash!r}")
    if line.action == "no_trade" and (line.symbol or line.amount):
        yield issue("odd_no_trade", f"no_trade with symbol {line.symbol!r} amount {line.amount}")
    if prev is None:
        return
    if line.action is None:
        yield issue("registration_not_first", "a registration line after the first line")
    if line.id != prev.id + 1:
        yield issue("id_gap", f"id {line.id} follows id {prev.id}")
    if line.positions.keys() != prev.positions.keys():
        yield issue("symbols_changed", "the set of symbols differs from the previous line")
    if line.action == "sell" and line.amount > prev.positions.get(line.symbol, 0):
        yield issue(
            "sell_not_held",
            f"sells {line.amount} {line.symbol} but {prev.positions.get(line.symbol, 0)} were held",
        )
    expected = dict(prev.positions)
    if line.action in ("buy", "sell") and line.symbol:
        delta = line.amount if line.action == "buy" else -line.amount
        expected[line.symbol] = expected.get(line.symbol, 0) + delta
    if line.action is not None and expected != line.positions:
        changed = sorted(
            s
            for s in expected.keys() | line.positions.keys()
            if expected.get(s, 0) != line.positions.get(s, 0)
        )
        if changed:
            yield issue(
                "positions_mismatch",
                "shares do not follow from the previous line "
                f"and the action: {', '.join(changed[:5])}",
            )


def final_state_by_date(
    lines: Iterable[PositionLine], *, acted_only: bool = False
) -> dict[dt.date, DayState]:
    """The state at the end of each date: the line with the highest id that day.

    acted_only: only dates with an action line (a registration-only date traded nothing
    and decided nothing, so parity and the read path have no day there).
    """
    if acted_only:
        lines = list(lines)
        acted = {x.date for x in lines if x.action is not None}
        lines = [x for x in lines if x.date in acted]
    out: dict[dt.date, DayState] = {}
    for line in lines:
        current = out.get(line.date)
        if current is None or line.id > current.id:
            out[line.date] = DayState(line.id, dict(line.positions), line.cash)
    return dict(sorted(out.items()))


def actions_by_date(lines: Iterable[PositionLine]) -> dict[dt.date, list[tuple[str, Side, int]]]:
    """Buys and sells per date in id order; no_trade-only days map to [].

    Amount-0 orders are kept so the replay records them as no-ops. Dates with only a
    registration line are left out: nothing was traded or decided on them.
    """
    out: dict[dt.date, list[tuple[str, Side, int]]] = {}
    for line in sorted(lines, key=lambda x: x.id):
        if line.action is None:
            continue
        day = out.setdefault(line.date, [])
        if line.action in ("buy", "sell"):
            day.append((line.symbol or "", line.action, line.amount or 0))
    return out
