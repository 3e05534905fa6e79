"""Corporate actions in market data: derived from the bundled adjusted closes, read from
a folder's columns or sidecar file, absent (None) where the source has none; listing
dates of every symbol."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from trading_assets.errors import MarketDataError
from trading_assets.market.actions import CorporateAction, derive_from_adjusted
from trading_assets.market.history import PriceHistory
from trading_assets.market.sources import BundledSource, FolderSource

D = dt.date


@pytest.fixture(scope="module")
def bundled() -> PriceHistory:
    return BundledSource().load()


# -- the bundled source ---------------------------------------------------------------


def test_bundled_source_with_adj_close_finds_exactly_the_three_two_for_one_splits(bundled):
    splits = [(a.symbol, a.ex_date, a.split_ratio, a.dividend) for a in bundled.actions.splits()]
    assert splits == [
        ("AAPL", D(2000, 6, 21), 2.0, 0.0),
        ("MSFT", D(2003, 2, 18), 2.0, 0.0),
        ("AAPL", D(2005, 2, 28), 2.0, 0.0),
    ]


def test_bundled_source_with_adj_close_finds_the_quarterly_and_special_dividends(bundled):
    dividends = bundled.actions.dividends()
    assert Counter(a.symbol for a in dividends) == {"IBM": 52, "MSFT": 37, "AAPL": 3}
    by_key = {(a.symbol, a.ex_date): a.dividend for a in dividends}
    # MSFT's $3.00 special dividend (ex 2004-11-15) and a plain $0.08 quarter
    assert by_key[("MSFT", D(2004, 11, 15))] == pytest.approx(3.0, rel=0.02)
    assert by_key[("MSFT", D(2005, 2, 15))] == 0.08
    assert by_key[("MSFT", D(2011, 8, 16))] == 0.16
    # AAPL's first dividend in 17 years: 2012-08-09 ($2.65 declared)
    assert min(a.ex_date for a in dividends if a.symbol == "AAPL") == D(2012, 8, 9)
    assert all(0 < a.dividend < 0.05 * 200 for a in dividends)


def test_bundled_history_with_late_listing_reports_first_and_last_bar(bundled):
    assert bundled.listing_dates() == {
        "AAPL": (D(2000, 3, 1), D(2013, 3, 1)),
        "GOOG": (D(2004, 8, 19), D(2013, 3, 1)),
        "IBM": (D(2000, 3, 1), D(2013, 3, 1)),
        "MSFT": (D(2000, 3, 1), D(2013, 3, 1)),
    }
    assert bundled.select(["GOOG", "MSFT"]).actions.splits()[0].symbol == "MSFT"


# -- the derivation rule on synthetic series ------------------------------------------

DAYS = [D(2020, 1, 1) + dt.timedelta(days=i) for i in range(6)]


def test_derive_with_split_dividend_and_rounding_noise_finds_two_actions():
    close = np.array([90.0, 100.0, 66.0, 67.0, 50.0, 51.0])
    # factor before each ex-date: 3:2 split on day 2 (x 2/3), $2 dividend on day 4
    # (x (1 - 2/67)); 1e-9 relative noise on day 5 must be ignored
    factor = np.array([2 / 3 * (1 - 2 / 67)] * 2 + [1 - 2 / 67] * 2 + [1.0, 1.0 + 1e-9])
    actions = derive_from_adjusted("X", DAYS, close, close * factor)
    assert actions == [
        CorporateAction(symbol="X", ex_date=DAYS[2], split_ratio=1.5),
        CorporateAction(symbol="X", ex_date=DAYS[4], dividend=2.0),
    ]


def test_derive_with_adjustment_factor_falling_raises_with_symbol_and_date():
    close = np.full(6, 10.0)
    adj = close * np.array([1.01, 1.01, 1.01, 1.0, 1.0, 1.0])
    with pytest.raises(MarketDataError, match=r"X .*2020-01-04"):
        derive_from_adjusted("X", DAYS, close, adj)


# -- the folder source -----------------------------------------------------------------

HEADER = "date,open,high,low,close,volume"
BARS = [
    "2012-01-03,10.0,11.0,9.5,10.5,1000",
    "2012-01-04,10.5,12.0,10.0,11.5,2000",
    "2012-01-05,5.75,6.0,5.5,5.6,1500",
    "2012-01-06,5.6,5.7,5.0,5.2,900",
]


def write(folder: Path, name: str, lines: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("\n".join(lines) + "\n")


def test_folder_source_with_action_columns_reads_split_and_dividend(tmp_path):
    rows = [b + extra for b, extra in zip(BARS, [",,", ",,0.25", ",2,", ",,"], strict=True)]
    write(tmp_path, "AAA.csv", [HEADER + ",split_ratio,dividend", *rows])
    write(tmp_path, "BBB.csv", [HEADER, *BARS])
    history = FolderSource(tmp_path).load()
    assert list(history.actions) == [
        CorporateAction(symbol="AAA", ex_date=D(2012, 1, 4), dividend=0.25),
        CorporateAction(symbol="AAA", ex_date=D(2012, 1, 5), split_ratio=2.0),
    ]
    assert history.symbols == ("AAA", "BBB")


def test_folder_source_with_sidecar_file_reads_it_and_not_as_a_symbol(tmp_path):
    write(tmp_path, "AAA.csv", [HEADER, *BARS])
    write(
        tmp_path,
        "corporate_actions.csv",
        ["symbol,ex_date,split_ratio,dividend", "aaa,2012-01-05,2,", "AAA,2012-01-06,,0.1"],
    )
    history = FolderSource(tmp_path).load()
    assert history.symbols == ("AAA",)
    assert [(a.ex_date, a.split_ratio, a.dividend) for a in history.actions] == [
        (D(2012, 1, 5), 2.0, 0.0),
        (D(2012, 1, 6), 1.0, 0.1),
    ]


def test_folder_source_with_no_actions_has_an_empty_collection_not_none(tmp_path):
    write(tmp_path, "AAA.csv", [HEADER, *BARS])
    history = FolderSource(tmp_path).load()
    assert history.actions is not None and len(history.actions) == 0


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("AAA,2012-01-05,-2,", "split_ratio"),
        ("AAA,2012-13-05,2,", "month must be in 1..12"),
        ("AAA,2012-01-05,1,0", "split_ratio != 1 or a dividend > 0"),
    ],
)
def test_folder_source_with_bad_sidecar_row_names_file_and_line(tmp_path, line, expected):
    write(tmp_path, "AAA.csv", [HEADER, *BARS])
    write(tmp_path, "corporate_actions.csv", ["symbol,ex_date,split_ratio,dividend", line])
    with pytest.raises(MarketDataError) as info:
        FolderSource(tmp_path).load()
    assert info.value.where == f"{tmp_path / 'corporate_actions.csv'}:2"
    assert expected in info.value.message and info.value.fix


def test_folder_source_with_same_action_in_column_and_sidecar_raises(tmp_path):
    rows = [b + extra for b, extra in zip(BARS, [",", ",", ",2", ","], strict=True)]
    write(tmp_path, "AAA.csv", [HEADER + ",split_ratio", *rows])
    write(tmp_path, "corporate_actions.csv", ["symbol,ex_date,dividend", "AAA,2012-01-05,0.1"])
    with pytest.raises(MarketDataError, match="two corporate actions for AAA on 2012-01-05"):
        FolderSource(tmp_path).load()
