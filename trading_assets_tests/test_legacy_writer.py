"""Dual write of the legacy layout: byte-identical lines, idempotent model-days, status files.

Every fixture line re-formatted from its parsed values equals the fixture line byte
for byte, and writing the fixture day by day rebuilds each position.jsonl exactly.
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from itertools import groupby
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_assets.errors import LegacyFormatError
from trading_assets.legacy.layout import LegacyLayout, resolve_root
from trading_assets.legacy.positions import PositionLine, parse_positions, read_positions
from trading_assets.legacy.writer import append_model_day, format_position_line, write_status

try:
    from trading_assets_tests.legacy_fixture import FIXTURE_ROOT, SIGNATURES
except ImportError:  # pytest's default "prepend" import of this folder
    from legacy_fixture import FIXTURE_ROOT, SIGNATURES


@cache
def _fixture(signature: str) -> tuple[list[str], list[PositionLine]]:
    path = resolve_root(FIXTURE_ROOT).position_file(signature)
    return path.read_text(encoding="utf-8").splitlines(), read_positions(path).lines


def _format(line: PositionLine, order: list[str], **changes) -> str:
    values = {**line.model_dump(exclude={"line_no"}), **changes}
    return format_position_line(
        values["date"],
        values["id"],
        values["action"],
        values["symbol"],
        values["amount"],
        values["positions"],
        values["cash"],
        order,
    )


def _days(signature: str) -> list[list[str]]:
    lines = _fixture(signature)[1]
    order = list(lines[0].positions)
    return [[_format(x, order) for x in day] for _, day in groupby(lines, key=lambda x: x.date)]


def test_format_position_line_with_fixture_values_is_byte_identical() -> None:
    for signature in SIGNATURES:
        raw, lines = _fixture(signature)
        order = list(lines[0].positions)
        assert [_format(x, order) for x in lines] == raw


def test_format_position_line_with_registration_and_no_trade_matches_legacy_style() -> None:
    order = ["NVDA", "MSFT"]
    assert format_position_line(dt.date(2025, 10, 1), 0, None, None, None, {}, 10000, order) == (
        '{"date": "2025-10-01", "id": 0, "positions": {"NVDA": 0, "MSFT": 0, "CASH": 10000.0}}'
    )
    line = format_position_line("2025-10-02", 3, "no_trade", "", 0, {"MSFT": 2}, 9.5, order)
    assert line == (
        '{"date": "2025-10-02", "id": 3, "this_action": {"action": "no_trade", "symbol": "", '
        '"amount": 0}, "positions": {"NVDA": 0, "MSFT": 2, "CASH": 9.5}}'
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"positions": {"TSLA": 1}},
        {"positions": {"NVDA": -1}},
        {"positions": {"NVDA": 1.5}},
        {"amount": -2},
        {"action": "short"},
        {"cash": float("nan")},
        {"date": "2025-10-32"},
    ],
)
def test_format_position_line_with_invalid_values_raises(kwargs: dict) -> None:
    values = {
        "date": "2025-10-02",
        "id": 1,
        "action": "buy",
        "symbol": "NVDA",
        "amount": 1,
        "positions": {"NVDA": 1},
        "cash": 1.0,
        **kwargs,
    }
    with pytest.raises(LegacyFormatError):
        format_position_line(**values, symbol_order=["NVDA"])


@settings(max_examples=60, deadline=None)
@given(
    shares=st.lists(st.integers(0, 10**9), min_size=3, max_size=3),
    cash=st.floats(-1e9, 1e12, allow_nan=False),
    action=st.sampled_from(["buy", "sell", "no_trade", None]),
    amount=st.integers(0, 10**6),
)
def test_format_position_line_with_any_state_round_trips_through_the_reader(
    shares: list[int], cash: float, action: str | None, amount: int
) -> None:
    order = ["AAPL", "MSFT", "NVDA"]
    symbol = {"buy": "MSFT", "sell": "NVDA", "no_trade": "", None: None}[action]
    amount_arg = None if action is None else (0 if action == "no_trade" else amount)
    text = format_position_line(
        "2025-10-02",
        7,
        action,
        symbol,
        amount_arg,
        dict(zip(order, shares, strict=True)),
        cash,
        order,
    )
    (line,) = parse_positions(text, file="x").lines
    assert (line.action, line.symbol, line.amount, line.id) == (action, symbol, amount_arg, 7)
    assert list(line.positions.items()) == list(zip(order, shares, strict=True))
    assert line.cash == cash  # repr round-trips floats exactly


def _target(tmp_path: Path) -> LegacyLayout:
    return resolve_root(tmp_path / "dual", create=True)


def test_append_model_day_with_fixture_days_rebuilds_each_file_byte_for_byte(
    tmp_path: Path,
) -> None:
    layout = _target(tmp_path)
    for signature in SIGNATURES:
        for day in _days(signature):
            append_model_day(layout, signature, day)
        text = layout.position_file(signature).read_text(encoding="utf-8")
        assert text.splitlines() == _fixture(signature)[0]
        assert text.endswith("}\n")
    assert not list(layout.agent_data_dir.rglob("*.tmp"))


def test_append_model_day_with_rewritten_day_replaces_it_and_keeps_ids_consecutive(
    tmp_path: Path,
) -> None:
    layout, days = _target(tmp_path), _days("gpt-5")
    for day in days:
        append_model_day(layout, "gpt-5", day)
    path = layout.position_file("gpt-5")
    before = path.read_bytes()
    append_model_day(layout, "gpt-5", days[3])  # a retry writes the same day again
    assert path.read_bytes() == before
    append_model_day(layout, "gpt-5", days[3][:1])  # the day now has one line
    lines = read_positions(path).lines
    assert [x.id for x in lines] == list(range(len(lines)))
    assert len(lines) == len(_fixture("gpt-5")[1]) - (len(days[3]) - 1)
    assert [x.date for x in lines] == sorted(x.date for x in lines)


def test_append_model_day_with_days_out_of_order_inserts_them_by_date(tmp_path: Path) -> None:
    layout, days = _target(tmp_path), _days("qwen3-max")
    for day in reversed(days):
        append_model_day(layout, "qwen3-max", day)
    assert layout.position_file("qwen3-max").read_text().splitlines() == _fixture("qwen3-max")[0]


def test_append_model_day_with_bad_input_or_corrupted_file_raises_and_writes_nothing(
    tmp_path: Path,
) -> None:
    layout, days = _target(tmp_path), _days("gpt-5")
    with pytest.raises(LegacyFormatError, match="2 dates"):
        append_model_day(layout, "gpt-5", days[1] + days[2])
    with pytest.raises(LegacyFormatError, match="unsafe"):
        append_model_day(layout, "../gpt-5", days[1])
    append_model_day(layout, "gpt-5", days[0])
    path = layout.position_file("gpt-5")
    path.write_text(path.read_text()[:-20])  # an interrupted legacy write
    with pytest.raises(LegacyFormatError, match=r"position.jsonl:1: invalid or truncated"):
        append_model_day(layout, "gpt-5", days[1])
    assert not (layout.data_dir / "gpt-5").exists()  # "../gpt-5" was not followed


def test_write_status_with_payload_writes_status_json_atomically(tmp_path: Path) -> None:
    layout = _target(tmp_path)
    payload = {
        "contract_version": "v1alpha1",
        "status": "completed",
        "progress": 100,
        "completed_at": dt.datetime(2025, 10, 2, 21, 0, tzinfo=dt.UTC),
    }
    path = write_status(layout, "gpt-5", dt.date(2025, 10, 2), payload)
    assert path == layout.agent_data_dir / "gpt-5" / "status" / "2025-10-02.json"
    assert json.loads(path.read_text())["completed_at"] == "2025-10-02T21:00:00+00:00"
    write_status(layout, "gpt-5", "2025-10-02", {**payload, "status": "failed"})
    assert json.loads(path.read_text())["status"] == "failed"
    assert [p.name for p in path.parent.iterdir()] == ["2025-10-02.json"]
    with pytest.raises(TypeError, match="model_dump"):
        write_status(layout, "gpt-5", "2025-10-03", {"x": object()})
    assert [p.name for p in path.parent.iterdir()] == ["2025-10-02.json"]
    with pytest.raises(LegacyFormatError):
        write_status(layout, "gpt-5", "../../x", payload)


def test_append_model_day_with_concurrent_writers_of_one_model_loses_no_day(
    tmp_path: Path,
) -> None:
    layout, days = _target(tmp_path), _days("qwen3-max")
    halves = (days[0::2], days[1::2])
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(
            pool.map(lambda half: [append_model_day(layout, "qwen3-max", d) for d in half], halves)
        )
    assert layout.position_file("qwen3-max").read_text().splitlines() == _fixture("qwen3-max")[0]
