"""Read `agent_data/{signature}/log/{date}/log.jsonl`: the agent's messages of one day.

Each line is `{"signature": S, "new_messages": ...}`. The legacy writer stored
`new_messages` either as a list of `{role, content}` or as one bare `{role, content}`
object (both occur in the October 2025 data); both are read. The line's `signature`
is not checked against the folder: the legacy system wrote e.g. "minimax-m2" into
the logs of "MiniMax-M2". Any other deviation raises LegacyFormatError with file:line.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from trading_assets.errors import LegacyFormatError
from trading_assets.legacy.layout import check_date, read_legacy_text


class LogRecord(NamedTuple):
    date: dt.date
    line_no: int
    role: str
    content: str


def read_log(path: str | Path, date: dt.date | None = None) -> list[LogRecord]:
    """Records of one log file; `date` defaults to the name of the file's folder."""
    path = Path(path)
    if date is None:
        try:
            date = dt.date.fromisoformat(check_date(path.parent.name))
        except LegacyFormatError:
            raise LegacyFormatError(
                "the log's folder is not named YYYY-MM-DD",
                where=str(path),
                fix="pass the date explicitly",
            ) from None
    text = read_legacy_text(path, "log file")
    return parse_log(text, date=date, file=str(path))


def parse_log(text: str, *, date: dt.date, file: str) -> list[LogRecord]:
    records: list[LogRecord] = []
    for line_no, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        where = f"{file}:{line_no}"
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise LegacyFormatError(
                f"invalid or truncated JSON: {exc.msg}",
                where=where,
                fix="delete or repair the partial line",
            ) from None
        if not isinstance(obj, dict) or "new_messages" not in obj:
            raise LegacyFormatError(
                "a log line must be an object with new_messages",
                where=where,
                fix='write {"signature", "new_messages"}',
            )
        messages = obj["new_messages"]
        for message in messages if isinstance(messages, list) else [messages]:
            role, content = _message(message, where)
            records.append(LogRecord(date, line_no, role, content))
    return records


def _message(message: Any, where: str) -> tuple[str, str]:
    fix = 'each message is {"role": "user"|"assistant"|..., "content": text}'
    if not isinstance(message, dict) or not isinstance(message.get("role"), str):
        raise LegacyFormatError("a message without a role", where=where, fix=fix)
    content = message.get("content")
    if content is None:
        content = ""
    elif isinstance(content, list):  # OpenAI content parts: keep the text ones
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise LegacyFormatError(f"content of type {type(content).__name__}", where=where, fix=fix)
    return message["role"], content


def reasoning_for_day(records: Iterable[LogRecord]) -> str | None:
    """The assistant's texts of the day joined by blank lines, or None when there are none."""
    texts = [r.content.strip() for r in records if r.role == "assistant" and r.content.strip()]
    return "\n\n".join(texts) if texts else None
