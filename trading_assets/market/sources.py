"""Market-data sources: where a PriceHistory comes from.

One small interface; getting data is kept apart from simulating it. Every source
validates bars and names the file and line of a bad one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import duckdb
import pandas as pd

from trading_assets.errors import MarketDataError
from trading_assets.market.bars import check_bars
from trading_assets.market.history import FIELDS, PriceHistory

BUNDLED_SYMBOLS = ("AAPL", "GOOG", "IBM", "MSFT")


class MarketDataSource(Protocol):
    """Loads daily OHLCV bars. `name` identifies the source in errors and metadata."""

    name: str

    def load(self) -> PriceHistory: ...


class BundledSource:
    """AAPL, GOOG, IBM, MSFT daily OHLCV 2000-03-01..2013-03-01 (bokeh-sampledata,
    public domain)."""

    name = "bundled:bokeh-sampledata/stocks"

    def load(self) -> PriceHistory:
        from bokeh_sampledata import stocks

        frames = []
        for symbol in BUNDLED_SYMBOLS:
            data = getattr(stocks, symbol)
            frame = pd.DataFrame({k: data[k] for k in ("date", *FIELDS)})
            frame["symbol"] = symbol
            frames.append(frame)
        return PriceHistory.from_frame(pd.concat(frames, ignore_index=True), source=self.name)


class FolderSource:
    """A folder of `{SYMBOL}.csv` or `{SYMBOL}.parquet` files with date and OHLCV columns."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.name = f"folder:{self.path}"

    def load(self) -> PriceHistory:
        if not self.path.is_dir():
            raise MarketDataError(
                "market data folder does not exist",
                where=str(self.path),
                fix="set market_data.path to a folder of SYMBOL.csv or SYMBOL.parquet files",
            )
        files = sorted(p for p in self.path.iterdir() if p.suffix.lower() in (".csv", ".parquet"))
        if not files:
            raise MarketDataError(
                "no .csv or .parquet price files found",
                where=str(self.path),
                fix="add one file per symbol, SYMBOL.csv with date,open,high,low,close,volume",
            )
        by_symbol: dict[str, list[Path]] = {}
        for path in files:
            by_symbol.setdefault(path.stem.upper(), []).append(path)
        for symbol, paths in by_symbol.items():
            if len(paths) > 1:
                raise MarketDataError(
                    f"{len(paths)} files for symbol {symbol}: {', '.join(p.name for p in paths)}",
                    where=str(self.path),
                    fix="keep one price file per symbol",
                )
        frames = [_read_symbol_file(p) for p in files]
        return PriceHistory.from_frame(pd.concat(frames, ignore_index=True), source=self.name)


def _read_symbol_file(path: Path) -> pd.DataFrame:
    try:
        if path.suffix.lower() == ".csv":
            # keep blank lines so the index maps to the file's line numbers
            frame = pd.read_csv(path, dtype=str, skip_blank_lines=False).dropna(how="all")
            first_line = 2  # line 1 is the header
        else:
            frame = duckdb.execute("SELECT * FROM read_parquet(?)", [str(path)]).df().astype(str)
            first_line = 1
    except Exception as exc:  # pandas raises many types for unreadable files
        raise MarketDataError(
            f"cannot read price file: {exc}",
            where=str(path),
            fix="check the file is valid CSV or Parquet",
        ) from exc
    frame.columns = [c.strip().lower() for c in frame.columns]
    missing = [c for c in ("date", *FIELDS) if c not in frame.columns]
    if missing:
        raise MarketDataError(
            f"missing column(s) {', '.join(missing)}",
            where=str(path),
            fix="price files need columns date,open,high,low,close,volume",
        )
    if frame.empty:
        raise MarketDataError(
            "no bars in price file",
            where=str(path),
            fix="add at least one line of date,open,high,low,close,volume",
        )
    frame = frame[["date", *FIELDS]]
    frame.insert(1, "symbol", path.stem.upper())
    return validate_bars(frame, path=str(path), first_line=first_line)


def validate_bars(frame: pd.DataFrame, *, path: str, first_line: int) -> pd.DataFrame:
    """Parse and check each bar (market.bars' rule); raise with the file and line of the
    first bad one."""
    where = [f"{path}:{first_line + int(i)}" for i in frame.index]
    return check_bars(frame, where, fix="correct or delete that line")
