"""Legacy position.jsonl and log.jsonl parsing, against the real October 2025 fixture.

The golden test replays every recorded buy/sell at the day's open from the legacy
prices and reproduces every line's CASH exactly: parser and price loader agree with
the legacy engine. Corruptions are rejected with file:line, or flagged.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path

import pytest

from trading_assets.errors import LegacyFormatError
from trading_assets.legacy.layout import LegacyLayout, resolve_root
from trading_assets.legacy.logs import parse_log, read_log, reasoning_for_day
from trading_assets.legacy.positions import (
    PositionsResult,
    actions_by_date,
    final_state_by_date,
    parse_positions,
    read_positions,
)
from trading_assets.legacy.prices import LegacyPriceSource
from trading_assets.market.history import PriceHistory

try:
    from trading_assets_tests.legacy_fixture import FIXTURE_ROOT, SIGNATURES, corrupted_copy
except ImportError:  # pytest's default "prepend" import of this folder
    from legacy_fixture import FIXTURE_ROOT, SIGNATURES, corrupted_copy

FILE = "position.jsonl"


@cache
def _layout() -> LegacyLayout:
    return resolve_root(FIXTURE_ROOT)


@cache
def _prices() -> PriceHistory:
    return LegacyPriceSource(_layout()).load()


@cache
def _read(signature: str) -> PositionsResult:
    return read_positions(_layout().position_file(signature), set(_prices().symbols))


def _fixture_lines(signature: str = "gpt-5") -> list[str]:
    return _layout().position_file(signature).read_text(encoding="utf-8").splitlines()


def _edited(line_index: int, edit) -> str:
    """gpt-5's file with one line's record edited (index 0 = first line, -1 = last)."""
    lines = _fixture_lines()
    record = json.loads(lines[line_index])
    edit(record)
    lines[line_index] = json.dumps(record)
    return "\n".join(lines) + "\n"


def test_fixture_positions_with_all_models_match_the_documented_facts() -> None:
    all_lines = [line for s in SIGNATURES for line in _read(s).lines]
    assert _layout().list_signatures() == list(SIGNATURES)
    assert len(all_lines) == 358
    weekdays = {dt.date(2025, 10, 2) + dt.timedelta(n) for n in range(28)}
    weekdays = {d for d in weekdays if d.weekday() < 5}
    for signature in SIGNATURES:
        result = _read(signature)
        lines = result.lines
        assert result.issues == []
        assert [x.id for x in lines] == list(range(len(lines)))
        first = lines[0]
        assert (first.date, first.action, first.cash) == (dt.date(2025, 10, 1), None, 10000.0)
        assert len(first.positions) == 101 and set(first.positions.values()) == {0}
        assert all(x.positions.keys() == first.positions.keys() for x in lines)
        assert {x.date for x in lines[1:]} == weekdays
        assert all(x.action is not None for x in lines[1:])


def test_fixture_replay_with_legacy_open_prices_reproduces_every_cash_exactly() -> None:
    prices = _prices()
    for signature in SIGNATURES:
        lines = _read(signature).lines
        cash, shares = lines[0].cash, dict(lines[0].positions)
        for line in lines[1:]:
            if line.action in ("buy", "sell"):
                price = prices.open[prices.index_of(line.date), prices.symbol_index(line.symbol)]
                # The legacy engine's arithmetic, in its order, without rounding.
                if line.action == "buy":
                    cash = cash - price * line.amount
                    shares[line.symbol] += line.amount
                else:
                    cash = cash + price * line.amount
                    shares[line.symbol] -= line.amount
            assert cash == line.cash, f"{signature} line {line.line_no}"
            assert shares == line.positions, f"{signature} line {line.line_no}"


def test_final_state_by_date_with_fixture_takes_the_highest_id_of_each_day() -> None:
    lines = _read("gpt-5").lines
    states = final_state_by_date(lines)
    assert list(states) == sorted({x.date for x in lines})
    last = lines[-1]
    assert states[last.date] == (last.id, last.positions, last.cash)
    for date, state in states.items():
        assert state.id == max(x.id for x in lines if x.date == date)


def test_actions_by_date_with_zero_amounts_and_no_trade_days_keeps_order_and_noops() -> None:
    gemini = actions_by_date(_read("gemini-2.5-flash").lines)
    assert dt.date(2025, 10, 1) not in gemini  # registration only
    assert gemini[dt.date(2025, 10, 15)].count(("META", "sell", 0)) == 2
    qwen = _read("qwen3-max").lines
    no_trade_days = {x.date for x in qwen if x.action == "no_trade"}
    assert all(actions_by_date(qwen)[d] == [] for d in no_trade_days)
    gpt = actions_by_date(_read("gpt-5").lines)
    assert gpt[dt.date(2025, 10, 2)][:3] == [
        ("NVDA", "buy", 10),
        ("GOOGL", "buy", 6),
        ("AMD", "buy", 6),
    ]


@pytest.mark.parametrize(
    ("line_index", "edit", "message"),
    [
        (1, lambda r: r["this_action"].update(amount=-3), "amount -3"),
        (1, lambda r: r["this_action"].update(amount=2.5), "amount 2.5"),
        (1, lambda r: r["this_action"].update(action="short"), "unknown action 'short'"),
        (1, lambda r: r["this_action"].update(symbol="ZZZZ"), "'ZZZZ', which is not in positions"),
        (1, lambda r: r["positions"].update(NVDA=-1), "NVDA: -1"),
        (1, lambda r: r["positions"].update(NVDA=1.5), "NVDA: 1.5"),
        (1, lambda r: r["positions"].pop("CASH"), "CASH None"),
        (1, lambda r: r["positions"].update(CASH="9000"), "CASH '9000'"),
        (1, lambda r: r.pop("positions"), "missing key(s) positions"),
        (1, lambda r: r["this_action"].pop("amount"), "needs action, symbol and amount"),
        (1, lambda r: r.update(date="2025-13-01"), "invalid date '2025-13-01'"),
        (2, lambda r: r.update(id=1), "duplicated id 1 (also on line 2)"),
        (2, lambda r: r.update(id=0), "id 0 after id 1"),
        (2, lambda r: r.update(date="2025-09-30"), "dates must not go back"),
    ],
)
def test_parse_positions_with_bad_line_rejects_naming_file_and_line(
    line_index: int, edit, message: str
) -> None:
    with pytest.raises(LegacyFormatError) as caught:
        parse_positions(_edited(line_index, edit), file=FILE)
    assert caught.value.where == f"{FILE}:{line_index + 1}"
    assert message in caught.value.message
    assert caught.value.fix


def test_parse_positions_with_unknown_held_symbol_rejects_and_unheld_one_flags() -> None:
    known = set(_prices().symbols) - {"NVDA"}
    with pytest.raises(LegacyFormatError, match=r"position.jsonl:2: .*unknown symbol 'NVDA'"):
        parse_positions("\n".join(_fixture_lines()), file=FILE, known_symbols=known)
    never_held = set(_prices().symbols) - {"PEP"}  # gpt-5 never holds PEP
    result = parse_positions("\n".join(_fixture_lines()), file=FILE, known_symbols=never_held)
    assert [i.code for i in result.issues] == ["unknown_symbol_unheld"]


@pytest.mark.parametrize(
    ("text_of", "codes"),
    [
        (
            lambda: _edited(1, lambda r: r["this_action"].update(action="sell")),
            {"sell_not_held", "positions_mismatch"},
        ),
        (lambda: _edited(-1, lambda r: r.update(id=99)), {"id_gap"}),
        (lambda: _edited(2, lambda r: r["positions"].update(CASH=-1.5)), {"negative_cash"}),
        (lambda: _edited(2, lambda r: r["positions"].pop("GFS")), {"symbols_changed"}),
        (lambda: _edited(2, lambda r: r.pop("this_action")), {"registration_not_first"}),
        (lambda: _edited(-1, lambda r: r.update(date="2025-11-01")), {"weekend_date"}),
        (lambda: "\n".join(_fixture_lines()[1:]), {"no_registration"}),
        (lambda: _fixture_lines()[0] + "\n\n" + _fixture_lines()[1] + "\n", {"blank_line"}),
        (lambda: "", {"empty_file"}),
    ],
)
def test_parse_positions_with_inconsistent_history_flags_and_keeps_lines(text_of, codes) -> None:
    text = text_of()
    result = parse_positions(text, file=FILE)
    assert {i.code for i in result.issues} == codes
    assert all(i.file == FILE and i.message for i in result.issues)
    assert len(result.lines) == sum(1 for line in text.split("\n") if line.strip())


def test_read_positions_with_parser_corruptions_rejects_naming_file_and_line(
    tmp_path: Path,
) -> None:
    for kind in ("truncated_line", "negative_amount", "unknown_symbol", "duplicated_id"):
        corruption = corrupted_copy(tmp_path / kind, kind)
        assert corruption.detected_by == "parser"
        with pytest.raises(LegacyFormatError) as caught:
            read_positions(corruption.file, set(_prices().symbols))
        assert caught.value.where == f"{corruption.file}:{corruption.line}", kind
        if kind == "truncated_line":
            assert "interrupted write" in caught.value.message


def test_read_positions_with_sell_not_held_corruption_flags_the_line(tmp_path: Path) -> None:
    corruption = corrupted_copy(tmp_path, "sell_not_held")
    result = read_positions(corruption.file, set(_prices().symbols))
    flagged = {(i.line, i.code) for i in result.issues}
    assert (corruption.line, "sell_not_held") in flagged
    assert len(result.lines) == len(_read("gpt-5").lines)


def test_read_log_with_fixture_reads_list_and_bare_object_messages() -> None:
    layout = _layout()
    total = 0
    for signature in SIGNATURES:
        dates = layout.log_dates(signature)
        assert dates[-1] == dt.date(2025, 10, 29)
        for date in dates:
            records = read_log(layout.log_file(signature, date))
            assert all(r.date == date and r.role in ("user", "assistant") for r in records)
            total += len(records)
    assert total == 437
    records = read_log(layout.log_file("gpt-5", "2025-10-02"))
    reasoning = reasoning_for_day(records)
    assert reasoning is not None and reasoning.startswith("Key intermediate steps")
    assert "Please analyze" not in reasoning  # the user prompt is not reasoning


def test_parse_log_with_bad_lines_rejects_naming_file_and_line() -> None:
    good = '{"signature": "s", "new_messages": [{"role": "user", "content": "hi"}]}'
    date = dt.date(2025, 10, 2)
    for bad, message in [
        ('{"signature": "s", "new_mess', "truncated"),
        ('{"signature": "s"}', "new_messages"),
        ('{"new_messages": [{"content": "x"}]}', "without a role"),
        ('{"new_messages": {"role": "user", "content": 3}}', "content of type"),
    ]:
        with pytest.raises(LegacyFormatError, match=message) as caught:
            parse_log(f"{good}\n{bad}\n", date=date, file="log.jsonl")
        assert caught.value.where == "log.jsonl:2"
    assert reasoning_for_day(parse_log(good, date=date, file="log.jsonl")) is None
