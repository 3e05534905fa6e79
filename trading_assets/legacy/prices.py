"""Legacy price files as a MarketDataSource.

Reads `data/daily_prices_{SYMBOL}.json` (Alpha Vantage TIME_SERIES_DAILY, values as
strings), or `data/merged.jsonl` when there are no such files. In merged.jsonl
`1. buy price` is the open and `4. sell price` the close; the newest date carries the
open only, so that day's high/low/close/volume are NaN (not valuable yet).

The benchmark (QQQ, also in `Adaily_prices_QQQ.json`) joins the universe only with
`include_benchmarks=True`. A stale file, whose newest bar is older than the newest
bar of the others (the October 2025 FB file), is left out unless
`include_stale=True`; either way it is reported in `issues`, like missing days.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from trading_assets.errors import MarketDataError
from trading_assets.legacy.layout import LegacyIssue, LegacyLayout
from trading_assets.market.bars import check_bars
from trading_assets.market.history import FIELDS, PriceHistory
from trading_assets.vocab import SIGNATURE_RE, SYSTEM_CLOCK, Clock

BENCHMARK_SYMBOLS = frozenset({"QQQ"})
SERIES_KEY = "Time Series (Daily)"
_JSON_KEYS = {
    "open": "1. open",
    "high": "2. high",
    "low": "3. low",
    "close": "4. close",
    "volume": "5. volume",
}
_MERGED_KEYS = {**_JSON_KEYS, "open": "1. buy price", "close": "4. sell price"}
_DATE_LINE = re.compile(r'^\s*"(\d{4}-\d{2}-\d{2})"\s*:', re.MULTILINE)
_FIX_FILE = "re-download the file or restore it from the legacy checkout"
# One row per bar: the file it came from, "file:line" for errors, then the bar.
_COLUMNS = ("file", "where", "date", "symbol", "open_only", *FIELDS)


class LegacyPriceSource:
    """`load()` -> PriceHistory; `issues` holds what the last load reported.

    Alpha Vantage's TIME_SERIES_DAILY is raw and carries no splits or dividends, so the
    history's `actions` is None (stored as `price_sources.has_corporate_actions = false`).
    """

    has_corporate_actions = False

    def __init__(
        self,
        data_dir: str | Path | LegacyLayout,
        *,
        include_benchmarks: bool = False,
        include_stale: bool = False,
        clock: Clock = SYSTEM_CLOCK,
    ):
        self.data_dir = data_dir.data_dir if isinstance(data_dir, LegacyLayout) else Path(data_dir)
        if (self.data_dir / "data").is_dir():  # a checkout root was given
            self.data_dir = self.data_dir / "data"
        self.include_benchmarks = include_benchmarks
        self.include_stale = include_stale
        self.name = f"legacy:{self.data_dir}"
        self.clock = clock  # no bar may be dated after its today
        self.issues: list[LegacyIssue] = []

    def load(self) -> PriceHistory:
        rows = self._json_rows() or self._merged_rows()
        if not rows:
            raise MarketDataError(
                "no daily_prices_*.json files and no merged.jsonl",
                where=str(self.data_dir),
                fix="point at the legacy data/ folder that holds the price files",
            )
        frame = _validated(rows, self.clock.now().date())
        self.issues = _coverage_issues(frame)
        if not self.include_stale:
            stale = {i.file for i in self.issues if i.code == "stale_price_file"}
            frame = frame[~frame["file"].isin(stale)]
        bars = frame.drop(columns=["file", "where", "open_only"])
        return PriceHistory.from_frame(bars, source=self.name)

    def _wanted(self, symbol: str) -> bool:
        return self.include_benchmarks or symbol not in BENCHMARK_SYMBOLS

    def _json_rows(self) -> list[tuple]:
        paths = {
            p.name[len("daily_prices_") : -len(".json")]: p
            for p in sorted(self.data_dir.glob("daily_prices_*.json"))
        }
        if not any(s not in BENCHMARK_SYMBOLS for s in paths):
            return []  # no universe in json files: it comes from merged.jsonl
        if self.include_benchmarks:
            for path in sorted(self.data_dir.glob("Adaily_prices_*.json")):
                paths.setdefault(path.name[len("Adaily_prices_") : -len(".json")], path)
        rows: list[tuple] = []
        for symbol, path in paths.items():
            if self._wanted(symbol):
                rows.extend(_json_file_rows(path, symbol))
        return rows

    def _merged_rows(self) -> list[tuple]:
        path = self.data_dir / "merged.jsonl"
        if not path.is_file():
            return []
        rows: list[tuple] = []
        for line_no, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not raw.strip():
                continue
            where = f"{path}:{line_no}"
            payload = _loads(raw, where)
            symbol = _meta_symbol(payload, where, expected=None)
            if not self._wanted(symbol):
                continue
            series = payload[SERIES_KEY]
            newest = max(series, default="")
            for key, bar in series.items():
                # Only the newest date may carry the open alone: the legacy look-ahead guard.
                if key == newest and isinstance(bar, dict) and list(bar) == ["1. buy price"]:
                    rows.append(_row(where, where, key, symbol, bar, {"open": "1. buy price"}))
                else:
                    rows.append(_row(where, where, key, symbol, bar, _MERGED_KEYS))
        return rows


def _loads(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        suffix = f":{exc.lineno}" if "\n" in text else ""
        raise MarketDataError(
            f"invalid JSON: {exc.msg}", where=where + suffix, fix=_FIX_FILE
        ) from None


def _meta_symbol(payload: Any, where: str, expected: str | None) -> str:
    if not isinstance(payload, dict) or not isinstance(payload.get(SERIES_KEY), dict):
        raise MarketDataError(
            f'no "{SERIES_KEY}" object (an API error or rate-limit reply?)',
            where=where,
            fix=_FIX_FILE,
        )
    meta = payload.get("Meta Data")
    symbol = meta.get("2. Symbol") if isinstance(meta, dict) else None
    if symbol is None and expected is not None:
        return expected
    if not isinstance(symbol, str) or (expected is not None and symbol.upper() != expected.upper()):
        raise MarketDataError(
            f"Meta Data symbol {symbol!r} does not match {expected!r}",
            where=where,
            fix="rename the file after the symbol it holds",
        )
    return symbol.upper()


def close_on(data_dir: Path, symbol: str, date: dt.date) -> float | None:
    """`symbol`'s close on `date` from its daily_prices_*.json; None when unavailable.

    For a quick valuation (the read path): the file is not validated as a whole.
    """
    if not SIGNATURE_RE.fullmatch(symbol):
        return None  # never build a path from an odd name
    path = data_dir / f"daily_prices_{symbol}.json"
    try:
        bars = json.loads(path.read_text(encoding="utf-8"))[SERIES_KEY]
        return float(bars[date.isoformat()][_JSON_KEYS["close"]])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _json_file_rows(path: Path, symbol: str) -> list[tuple]:
    text = path.read_text(encoding="utf-8")
    payload = _loads(text, str(path))
    _meta_symbol(payload, str(path), expected=symbol)
    # The files are pretty-printed: each date key sits on its own line, named in errors.
    line_of = {m.group(1): text.count("\n", 0, m.start()) + 1 for m in _DATE_LINE.finditer(text)}
    return [
        _row(str(path), f"{path}:{line_of.get(key, '?')}", key, symbol, bar, _JSON_KEYS)
        for key, bar in payload[SERIES_KEY].items()
    ]


def _row(file: str, where: str, key: Any, symbol: str, bar: Any, keys: dict[str, str]) -> tuple:
    try:
        date = dt.date.fromisoformat(key)
    except (TypeError, ValueError):
        raise MarketDataError(
            f"date key {key!r} is not YYYY-MM-DD", where=where, fix=_FIX_FILE
        ) from None
    if not isinstance(bar, dict) or any(k not in bar for k in keys.values()):
        raise MarketDataError(
            f"bar lacks {', '.join(k for k in keys.values() if k not in bar)}"
            if isinstance(bar, dict)
            else "bar is not an object",
            where=f"{where} (date {key})",
            fix=_FIX_FILE,
        )
    open_only = len(keys) == 1
    return (file, where, date, symbol, open_only, *(bar.get(keys.get(f, "")) for f in FIELDS))


def _validated(rows: list[tuple], today: dt.date) -> pd.DataFrame:
    """Parse and check every bar by the core's rule (market.bars); errors name the first
    bad bar's file:line and its date key, which is how a JSON file is navigated."""
    frame = pd.DataFrame(rows, columns=list(_COLUMNS))
    where = [f"{w} (date {d})" for w, d in zip(frame["where"], frame["date"], strict=True)]
    only = frame["open_only"].to_numpy(dtype=bool)
    fix = "correct that date's bar or " + _FIX_FILE
    bars = check_bars(frame, where, fix=fix, today=today, open_only=only)
    for c in FIELDS:
        frame[c] = bars[c].to_numpy()
    return frame


def _coverage_issues(frame: pd.DataFrame) -> list[LegacyIssue]:
    """Stale files (newest bar older than the others') and days missing inside a file."""
    all_dates = sorted(frame["date"].unique())
    newest = all_dates[-1]
    issues: list[LegacyIssue] = []
    for file, group in frame.groupby("file", sort=True):
        dates = set(group["date"])
        symbol, first, last = group["symbol"].iloc[0], min(dates), max(dates)
        if last < newest:
            issues.append(
                LegacyIssue(
                    str(file),
                    None,
                    "stale_price_file",
                    f"{symbol}: newest bar {last}, others reach {newest}; "
                    "left out of the universe unless include_stale=True",
                )
            )
        gaps = [d for d in all_dates if first <= d <= last and d not in dates]
        if gaps:
            issues.append(
                LegacyIssue(
                    str(file),
                    None,
                    "missing_price_day",
                    f"{symbol}: no bar on " + ", ".join(str(d) for d in gaps[:10]),
                )
            )
    return issues
