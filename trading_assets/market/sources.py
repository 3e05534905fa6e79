"""Market-data sources: where a PriceHistory comes from.

One small interface; getting data is kept apart from simulating it. Every source
validates bars and names the file and line of a bad one. A source that knows corporate
actions attaches them to the history (`PriceHistory.actions`, empty when there are
none); one that cannot know them (the legacy Alpha Vantage files) leaves it None.

Folder format for corporate actions (both optional, merged; one row per symbol-day):
- columns `split_ratio` and `dividend` in a SYMBOL file, on the ex-date's bar (blank:
  none). `split_ratio` is new shares per old share (2 for 2:1); `dividend` is cash per
  share held at the previous close, in the prices' currency;
- a sidecar `corporate_actions.csv` with columns `symbol,ex_date,split_ratio,dividend`
  (ex_date YYYY-MM-DD; a blank split_ratio means 1, a blank dividend 0).
An action is refused, naming its file and line, when its symbol has no price file, its
split_ratio is outside [1e-3, 1e3] or its dividend is not below the previous close
(market/quality.py: action_problem).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Protocol

import pandas as pd

from trading_assets.errors import MarketDataError
from trading_assets.market.actions import CorporateAction, CorporateActions, derive_from_adjusted
from trading_assets.market.bars import check_bars
from trading_assets.market.history import FIELDS, PriceHistory
from trading_assets.market.parquet import read_parquet_frame
from trading_assets.market.quality import action_problem
from trading_assets.vocab import SYSTEM_CLOCK, Clock, iso_date

BUNDLED_SYMBOLS = ("AAPL", "GOOG", "IBM", "MSFT")
ACTIONS_FILE = "corporate_actions.csv"
ACTION_COLUMNS = ("split_ratio", "dividend")


class MarketDataSource(Protocol):
    """Loads daily OHLCV bars. `name` identifies the source in errors and metadata;
    `has_corporate_actions` says whether `load()` attaches splits and dividends."""

    name: str
    has_corporate_actions: bool

    def load(self) -> PriceHistory: ...


class BundledSource:
    """AAPL, GOOG, IBM, MSFT daily OHLCV 2000-03-01..2013-03-01 (bokeh-sampledata,
    public domain). Raw prices; the splits and dividends are derived from the package's
    `adj_close` against `close` (market/actions.py: derive_from_adjusted)."""

    name = "bundled:bokeh-sampledata/stocks"
    has_corporate_actions = True

    def load(self) -> PriceHistory:
        from bokeh_sampledata import stocks

        frames, actions = [], []
        for symbol in BUNDLED_SYMBOLS:
            data = getattr(stocks, symbol)
            frame = pd.DataFrame({k: data[k] for k in ("date", *FIELDS, "adj_close")})
            frame["symbol"] = symbol
            frames.append(frame.drop(columns="adj_close"))
            dates = [dt.date.fromisoformat(d) for d in frame["date"]]
            close, adj = frame["close"].to_numpy(float), frame["adj_close"].to_numpy(float)
            actions += derive_from_adjusted(symbol, dates, close, adj)
        return PriceHistory.from_frame(
            pd.concat(frames, ignore_index=True),
            source=self.name,
            actions=CorporateActions(actions),
        )


class FolderSource:
    """A folder of `{SYMBOL}.csv` or `{SYMBOL}.parquet` files with date and OHLCV columns."""

    has_corporate_actions = True

    def __init__(self, path: str | Path, clock: Clock = SYSTEM_CLOCK):
        self.path = Path(path)
        self.name = f"folder:{self.path}"
        self.clock = clock  # no bar may be dated after its today

    def load(self) -> PriceHistory:
        if not self.path.is_dir():
            raise MarketDataError(
                "market data folder does not exist",
                where=str(self.path),
                fix="set market_data.path to a folder of SYMBOL.csv or SYMBOL.parquet files",
            )
        files = sorted(
            p
            for p in self.path.iterdir()
            if p.suffix.lower() in (".csv", ".parquet") and p.name.lower() != ACTIONS_FILE
        )
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
        today = self.clock.now().date()
        frames, actions = [], []
        for path in files:
            bars, from_columns = _read_symbol_file(path, today)
            frames.append(bars)
            actions += from_columns
        sidecar = self.path / ACTIONS_FILE
        if sidecar.is_file():
            actions += _read_actions_file(sidecar)
        history = PriceHistory.from_frame(
            pd.concat(frames, ignore_index=True),
            source=self.name,
            actions=CorporateActions(action for action, _ in actions),
        )
        for action, where in actions:
            problem = action_problem(history, action)
            if problem:
                raise MarketDataError(
                    f"impossible corporate action for {action.symbol} on {action.ex_date}: "
                    f"{problem}",
                    where=where,
                    fix="correct or delete that line (split_ratio is new shares per old "
                    "share; dividend is cash per share)",
                )
        return history


Located = tuple[CorporateAction, str]  # an action and the file:line it was read from


def _read_symbol_file(path: Path, today: dt.date) -> tuple[pd.DataFrame, list[Located]]:
    try:
        if path.suffix.lower() == ".csv":
            # keep blank lines so the index maps to the file's line numbers
            frame = pd.read_csv(path, dtype=str, skip_blank_lines=False, index_col=False).dropna(
                how="all"
            )
            first_line = 2  # line 1 is the header
        else:
            frame = read_parquet_frame(path)
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
    symbol = path.stem.upper()
    actions = [
        _action(symbol, row, f"{path}:{first_line + int(i)}")
        for i, row in frame.iterrows()
        if any(_present(row.get(c)) for c in ACTION_COLUMNS)
    ]
    frame = frame[["date", *FIELDS]]
    frame.insert(1, "symbol", symbol)
    return validate_bars(frame, path=str(path), first_line=first_line, today=today), actions


def _read_actions_file(path: Path) -> list[Located]:
    try:
        frame = pd.read_csv(path, dtype=str, skip_blank_lines=False, index_col=False).dropna(
            how="all"
        )
    except Exception as exc:  # pandas raises many types for unreadable files
        raise MarketDataError(
            f"cannot read corporate actions: {exc}", where=str(path), fix="check the CSV"
        ) from exc
    frame.columns = [c.strip().lower() for c in frame.columns]
    if "symbol" not in frame.columns or "ex_date" not in frame.columns:
        raise MarketDataError(
            "missing column symbol or ex_date",
            where=str(path),
            fix=f"{ACTIONS_FILE} needs columns symbol,ex_date,split_ratio,dividend",
        )
    return [
        _action(str(row["symbol"]).strip().upper(), row, f"{path}:{2 + int(i)}", "ex_date")
        for i, row in frame.iterrows()
    ]


def _present(value: object) -> bool:
    return isinstance(value, str) and value.strip() not in ("", "nan", "None")


def _action(symbol: str, row: pd.Series, where: str, date_key: str = "date") -> Located:
    """One corporate action from a row and where it is; a bad value names the file and line."""
    try:
        split = row.get("split_ratio")
        dividend = row.get("dividend")
        action = CorporateAction(
            symbol=symbol,
            ex_date=iso_date(str(row[date_key]).strip()),
            split_ratio=float(split) if _present(split) else 1.0,
            dividend=float(dividend) if _present(dividend) else 0.0,
        )
        return action, where
    except (ValueError, TypeError) as exc:
        raise MarketDataError(
            f"bad corporate action {row.to_dict()}: {exc}".replace("\n", " "),
            where=where,
            fix="use YYYY-MM-DD dates, a split_ratio in [1e-3, 1e3] (new shares per old share) "
            "and a dividend >= 0 per share",
        ) from None


def validate_bars(
    frame: pd.DataFrame, *, path: str, first_line: int, today: dt.date
) -> pd.DataFrame:
    """Parse and check each bar (market.bars' rule); raise with the file and line of the
    first bad one."""
    where = [f"{path}:{first_line + int(i)}" for i in frame.index]
    return check_bars(frame, where, fix="correct or delete that line", today=today)
