"""Price files a user brings (FolderSource) and missing prices during a simulation.

A bad file fails loading with an error naming the file (and line) and the fix; a gap
in the prices during a run is handled the documented way: a held symbol without a
close is valued at its last close and the day is marked stale, an order without an
open is rejected (no_price), and a day missing from the market data fails with the
date named while the days before it are kept.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trading_assets.agents.base import NO_DECISION, Decision
from trading_assets.engine.simulate import StartState, simulate
from trading_assets.errors import MarketDataError
from trading_assets.market.history import FIELDS, PriceHistory
from trading_assets.market.sources import FolderSource
from trading_assets.portfolio.orders import NO_PRICE, Order
from trading_assets.portfolio.step import PortfolioState

HEADER = "date,open,high,low,close,volume\n"
GOOD_ROWS = [
    "2012-01-03,10.0,11.0,9.5,10.5,1000\n",
    "2012-01-04,10.5,12.0,10.0,11.5,2000\n",
    "2012-01-05,11.5,11.8,10.9,11.0,1500\n",
    "2012-01-06,11.0,11.2,10.1,10.2,900\n",
]


def write_csv(folder: Path, symbol: str, rows: list[str], header: str = HEADER) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{symbol}.csv"
    path.write_text(header + "".join(rows))
    return path


def load_error(folder: Path) -> MarketDataError:
    with pytest.raises(MarketDataError) as info:
        FolderSource(folder).load()
    assert "Fix:" in str(info.value) and info.value.fix
    return info.value


def with_bad_row(row: str, at: int = 2) -> list[str]:
    rows = list(GOOD_ROWS)
    rows[at] = row
    return rows


# -- loading errors ------------------------------------------------------------------


def test_folder_source_with_missing_folder_names_it(tmp_path):
    error = load_error(tmp_path / "absent")
    assert error.where == str(tmp_path / "absent")
    assert "does not exist" in str(error)


def test_folder_source_with_empty_folder_says_add_files(tmp_path):
    (tmp_path / "readme.txt").write_text("not prices")
    error = load_error(tmp_path)
    assert error.where == str(tmp_path)
    assert "no .csv or .parquet" in str(error)


def test_folder_source_with_missing_column_names_file_and_column(tmp_path):
    path = write_csv(
        tmp_path, "AAPL", [r.rsplit(",", 1)[0] + "\n" for r in GOOD_ROWS], HEADER[:-8] + "\n"
    )
    error = load_error(tmp_path)
    assert error.where == str(path)
    assert "missing column(s) volume" in str(error)


def test_folder_source_with_non_numeric_price_names_file_and_line(tmp_path):
    path = write_csv(tmp_path, "AAPL", with_bad_row("2012-01-05,11.5,11.8,10.9,1O.5,1500\n"))
    error = load_error(tmp_path)
    assert error.where == f"{path}:4"  # header is line 1, third bar line 4
    assert "1O.5" in str(error)


@pytest.mark.parametrize(
    "row",
    [
        "2012-01-05,11.5,11.8,10.9,-11.0,1500\n",  # negative close
        "2012-01-05,-11.5,11.8,10.9,11.0,1500\n",  # negative open
        "2012-01-05,11.5,11.8,10.9,11.0,-5\n",  # negative volume
        "2012-01-05,0,11.8,0,11.0,1500\n",  # zero open
    ],
)
def test_folder_source_with_negative_price_names_the_line(tmp_path, row):
    path = write_csv(tmp_path, "AAPL", with_bad_row(row))
    assert load_error(tmp_path).where == f"{path}:4"


def test_folder_source_with_negative_low_names_the_line(tmp_path):
    path = write_csv(tmp_path, "AAPL", with_bad_row("2012-01-05,11.5,11.8,-10.9,11.0,1500\n"))
    assert load_error(tmp_path).where == f"{path}:4"


@pytest.mark.parametrize(
    "row",
    [
        "2012-01-05,11.5,10.0,11.0,11.0,1500\n",  # high < low
        "2012-01-05,11.5,11.2,10.9,11.0,1500\n",  # high < open
        "2012-01-05,11.5,11.8,11.2,11.0,1500\n",  # low > close
    ],
)
def test_folder_source_with_high_below_low_names_the_line(tmp_path, row):
    path = write_csv(tmp_path, "AAPL", with_bad_row(row))
    error = load_error(tmp_path)
    assert error.where == f"{path}:4"
    assert "low <= open, close <= high" in str(error)


def test_folder_source_with_duplicate_date_names_second_line(tmp_path):
    path = write_csv(tmp_path, "AAPL", with_bad_row(GOOD_ROWS[1], at=3))
    error = load_error(tmp_path)
    assert error.where == f"{path}:5"
    assert "duplicate date 2012-01-04" in str(error)


@pytest.mark.parametrize("date", ["2012/01/05", "05-01-2012", "tomorrow", "2012-02-30", ""])
def test_folder_source_with_unparseable_date_names_the_line(tmp_path, date):
    path = write_csv(tmp_path, "AAPL", with_bad_row(f"{date},11.5,11.8,10.9,11.0,1500\n"))
    error = load_error(tmp_path)
    assert error.where == f"{path}:4"
    assert "YYYY-MM-DD" in str(error)


def test_folder_source_with_blank_line_before_bad_row_names_the_real_line(tmp_path):
    rows = [GOOD_ROWS[0], "\n", GOOD_ROWS[1], "2012-01-05,11.5,11.8,10.9,n/a,1500\n"]
    path = write_csv(tmp_path, "AAPL", rows)
    assert load_error(tmp_path).where == f"{path}:5"


def test_folder_source_with_malformed_parquet_names_the_file(tmp_path):
    write_csv(tmp_path, "AAPL", GOOD_ROWS)
    bad = tmp_path / "MSFT.parquet"
    bad.write_bytes(b"PAR1 this is not really parquet")
    error = load_error(tmp_path)
    assert error.where == str(bad)
    assert "cannot read price file" in str(error)


def test_folder_source_with_empty_csv_names_the_file(tmp_path):
    (tmp_path / "AAPL.csv").write_text("")
    assert load_error(tmp_path).where == str(tmp_path / "AAPL.csv")


def test_folder_source_with_two_files_for_one_symbol_raises_market_data_error(tmp_path):
    write_csv(tmp_path, "AAPL", GOOD_ROWS)
    write_csv(tmp_path, "aapl", GOOD_ROWS)
    error = load_error(tmp_path)
    assert "AAPL" in str(error)


# -- valid folders -------------------------------------------------------------------


def test_folder_source_with_valid_csv_loads_every_bar(tmp_path):
    write_csv(tmp_path, "aapl", GOOD_ROWS)
    write_csv(tmp_path, "MSFT", GOOD_ROWS[1:])
    history = FolderSource(tmp_path).load()
    assert history.symbols == ("AAPL", "MSFT")
    assert history.dates == tuple(dt.date(2012, 1, d) for d in (3, 4, 5, 6))
    assert history.close[:, 0].tolist() == [10.5, 11.5, 11.0, 10.2]
    assert np.isnan(history.close[0, 1])  # MSFT has no bar on the first day
    assert history.volume[1, 1] == 2000.0
    assert history.source == f"folder:{tmp_path}"


def test_folder_source_with_csv_and_parquet_loads_both_the_same(tmp_path):
    import duckdb

    write_csv(tmp_path, "AAPL", GOOD_ROWS)
    frame = pd.read_csv(tmp_path / "AAPL.csv")  # noqa: F841 - read by duckdb below
    target = tmp_path / "MSFT.parquet"
    duckdb.sql(
        f"COPY (SELECT CAST(date AS DATE) AS date, open, high, low, close, volume FROM frame) "
        f"TO '{target}' (FORMAT parquet)"
    )
    history = FolderSource(tmp_path).load()
    assert history.symbols == ("AAPL", "MSFT")
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(history, field)[:, 0], getattr(history, field)[:, 1])


# -- missing prices during a simulation ------------------------------------------------

SIM_DATES = tuple(dt.date(2012, 1, d) for d in (3, 4, 5, 6, 9))


def sim_history(close_gap: tuple[int, int] | None = None, open_gap=None) -> PriceHistory:
    """Two symbols; optionally NaN the close or open of (day, symbol)."""
    shape = (len(SIM_DATES), 2)
    close = np.array([[10.0, 20.0], [11.0, 21.0], [12.0, 22.0], [13.0, 23.0], [14.0, 24.0]])
    open_ = close - 0.5
    arrays = {
        "open": open_,
        "high": close + 1,
        "low": open_ - 1,
        "close": close.copy(),
        "volume": np.full(shape, 100.0),
    }
    if close_gap:
        arrays["close"][close_gap] = np.nan
    if open_gap:
        arrays["open"][open_gap] = np.nan
    return PriceHistory(dates=SIM_DATES, symbols=("A", "B"), source="test", **arrays)


class Scripted:
    """Places the given orders on the given dates, nothing otherwise."""

    name = "scripted"

    def __init__(self, orders_by_date: dict[dt.date, list[Order]] | None = None):
        self.orders_by_date = orders_by_date or {}

    def decide(self, view, portfolio) -> Decision:
        orders = self.orders_by_date.get(view.date)
        return Decision(tuple(orders)) if orders else NO_DECISION


def start(cash: float = 1000.0, positions=None) -> StartState:
    state = PortfolioState(cash, positions or {})
    return StartState(state, cash + sum(q * 10.0 for q in (positions or {}).values()))


def test_simulate_with_held_symbol_without_close_values_at_last_close_and_marks_stale():
    history = sim_history(close_gap=(2, 0))  # A has no close on 2012-01-05
    results = list(simulate(Scripted(), history, SIM_DATES[1:4], start(100.0, {"A": 10})))
    assert [r.failed for r in results] == [False, False, False]
    gap = results[1]
    assert gap.date == dt.date(2012, 1, 5)
    assert gap.stale_symbols == ("A",)
    assert gap.closes == {"A": 11.0}  # the close of 2012-01-04
    assert gap.value == 100.0 + 10 * 11.0
    assert gap.degraded
    assert results[0].stale_symbols == () and results[2].stale_symbols == ()
    assert results[2].value == 100.0 + 10 * 13.0


def test_simulate_with_unheld_symbol_without_close_is_not_stale_but_partial_data():
    history = sim_history(close_gap=(2, 1))  # B missing, only A held
    (result,) = simulate(Scripted(), history, [SIM_DATES[2]], start(100.0, {"A": 10}))
    assert result.stale_symbols == ()
    # issue 11: a price day missing for one symbol is partial data, never silent
    assert result.missing_symbols == ("B",)
    assert result.degraded


def test_simulate_with_order_on_symbol_without_open_rejects_no_price():
    history = sim_history(open_gap=(1, 1))  # B has no open on 2012-01-04
    agent = Scripted({SIM_DATES[1]: [Order("B", "buy", 5), Order("A", "buy", 5)]})
    (result,) = simulate(agent, history, [SIM_DATES[1]], start(1000.0))
    assert [(o.order.symbol, o.status, o.reason) for o in result.orders] == [
        ("B", "rejected", NO_PRICE),
        ("A", "filled", None),
    ]
    assert result.state == PortfolioState(1000.0 - 5 * 10.5, {"A": 5})
    assert not result.failed


def test_simulate_with_date_missing_from_market_data_fails_that_day_and_keeps_earlier():
    history = sim_history()
    missing = dt.date(2012, 1, 7)
    dates = [SIM_DATES[0], SIM_DATES[1], missing, SIM_DATES[3]]
    agent = Scripted({SIM_DATES[0]: [Order("A", "buy", 10)]})
    results = list(simulate(agent, history, dates, start(1000.0)))
    assert [r.date for r in results] == dates[:3]  # the walk stops at the failed day
    assert [r.failed for r in results] == [False, False, True]
    error = results[2].error
    assert isinstance(error, MarketDataError)
    assert "2012-01-07" in str(error)
    assert results[1].state == PortfolioState(1000.0 - 10 * 9.5, {"A": 10})
    assert results[2].state == results[1].state  # the failed day trades nothing
    assert results[2].value == results[1].value
