"""Dual write: the legacy layout, written so the legacy tools and our reader accept it.

Lines are `json.dumps` with default separators, keys in the legacy order (date, id,
this_action, positions), every symbol in the legacy order, CASH last as a float and
shares as ints; Python's float repr is what the legacy writer produced, so the output
is byte-identical to the legacy files (tested against every fixture line).

Writes rewrite the whole file: read, replace the day's lines, renumber ids from 0,
check the result with the reader, write a temp file in the same folder, fsync, and
os.replace it. A crash leaves the old file or the new one, never half a line, and
re-writing a day is idempotent. A file lock (POSIX) serializes writers of one model.
Files are small (a line per action, ~100 KB a month), so the rewrite costs little.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import operator
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from trading_assets.errors import LegacyFormatError
from trading_assets.legacy.layout import LegacyLayout, check_date
from trading_assets.legacy.positions import ACTIONS, CASH, parse_positions

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: callers must not write one model twice
    fcntl = None  # type: ignore[assignment]


def format_position_line(
    date: dt.date | str,
    id: int,
    action: str | None,
    symbol: str | None,
    amount: int | None,
    positions: Mapping[str, int],
    cash: float,
    symbol_order: Sequence[str],
) -> str:
    """One position.jsonl line (without the newline); action None = registration line."""
    fix = "pass the state after the action, with every symbol from symbol_order"
    extra = [s for s in positions if s not in symbol_order and s != CASH]
    if extra or CASH in symbol_order:
        raise LegacyFormatError(f"symbols outside symbol_order: {extra or [CASH]}", fix=fix)
    record: dict[str, Any] = {"date": check_date(date), "id": _count(id, "id")}
    if action is not None:
        if action not in ACTIONS:
            raise LegacyFormatError(f"unknown action {action!r}", fix=f"use one of {ACTIONS}")
        record["this_action"] = {
            "action": action,
            "symbol": symbol if symbol is not None else "",
            "amount": _count(amount if amount is not None else 0, "amount"),
        }
    shares = {s: _count(positions.get(s, 0), s) for s in symbol_order}
    cash = float(cash)
    if not math.isfinite(cash):
        raise LegacyFormatError(f"CASH {cash!r} is not finite", fix=fix)
    record["positions"] = {**shares, CASH: cash}
    return json.dumps(record)


def _count(value: Any, what: str) -> int:
    # numpy integers pass (they have __index__); floats such as 10.0 are not truncated
    if isinstance(value, bool) or not hasattr(value, "__index__") or operator.index(value) < 0:
        raise LegacyFormatError(
            f"{what}: {value!r} is not a whole number >= 0",
            fix="legacy files hold whole shares and non-negative ids",
        )
    return operator.index(value)


def append_model_day(layout: LegacyLayout, signature: str, lines: Sequence[str]) -> Path:
    """Write one model-day's lines (all of one date), replacing that date's old lines.

    Ids in `lines` are ignored: the file's ids are renumbered 0, 1, 2, ... in file order,
    so they stay consecutive when a day is replaced or inserted between others. An
    existing file the reader rejects is never overwritten (the error names its line).
    """
    path = layout.position_file(signature)
    new_text = "\n".join(lines)
    new = parse_positions(new_text, file=f"<lines for {path}>").lines
    raw_new = new_text.split("\n")
    dates = sorted({line.date for line in new})
    if len(dates) != 1:
        raise LegacyFormatError(
            f"lines of {len(dates)} dates given",
            where=str(path),
            fix="pass the lines of exactly one date",
        )
    date = dates[0]
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        old_lines = parse_positions(old, file=str(path)).lines
        raw_old = old.split("\n")
        before = [raw_old[x.line_no - 1] for x in old_lines if x.date < date]
        after = [raw_old[x.line_no - 1] for x in old_lines if x.date > date]
        fresh = [raw_new[x.line_no - 1] for x in new]  # blank lines dropped
        records = [json.loads(raw) for raw in [*before, *fresh, *after]]
        for new_id, record in enumerate(records):
            record["id"] = new_id  # keeps the key order: "id" already follows "date"
        # Old and new lines passed the reader, dates stay ordered and ids are renumbered,
        # so the reader accepts the result: no need to parse it again.
        text = "".join(json.dumps(r) + "\n" for r in records)
        _atomic_write(path, text)
    return path


def write_status(
    layout: LegacyLayout, signature: str, date: dt.date | str, status_payload: Mapping[str, Any]
) -> Path:
    """`agent_data/{signature}/status/{date}.json`, replaced atomically."""
    path = layout.status_file(signature, date)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(dict(status_payload), indent=2, default=_json_default) + "\n"
    _atomic_write(path, text)
    return path


def _json_default(value: Any) -> Any:
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    raise TypeError(
        f"status field of type {type(value).__name__} is not JSON-serializable; "
        "pass model_dump(mode='json')"
    )


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):  # make the rename durable where the OS allows it
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    with open(path.with_name(f".{path.name}.lock"), "a") as lock:
        fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
