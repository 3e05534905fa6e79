"""The tearsheet tables on a hand-made value curve: returns by month and year,
compounded from the starting capital, and the drawdown periods with their dates."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from trading_assets.analytics.tearsheet import (
    daily_returns,
    drawdown_periods,
    returns_by_month,
    rolling_at_year_ends,
    round_trips,
    round_trips_md,
    tearsheet_md,
)

D = dt.date
# Mon 2012-01-30 .. Tue 2012-02-07, from 100 of capital
VALUES = pd.Series(
    [100.0, 110.0, 99.0, 105.0, 111.0, 90.0, 95.0],
    index=[D(2012, 1, d) for d in (30, 31)] + [D(2012, 2, d) for d in (1, 2, 3, 6, 7)],
)


def test_returns_by_month_compound_each_month_from_the_starting_capital():
    table = returns_by_month(daily_returns(VALUES, 100.0))
    assert table.loc[2012, "Jan"] == pytest.approx(110 / 100 - 1)  # 100 -> 110
    assert table.loc[2012, "Feb"] == pytest.approx(95 / 110 - 1)  # 110 -> 95
    assert table.loc[2012, "Year"] == pytest.approx(95 / 100 - 1)
    assert table.loc[2012, ["Mar", "Dec"]].isna().all()  # no day there: blank, not 0


def test_drawdown_periods_give_peak_trough_recovery_depth_and_days_deepest_first():
    periods = drawdown_periods(VALUES)
    assert periods.to_dict("records") == [
        # 111 on 02-03 down to 90 on 02-06, not back above 111 by the last day
        {
            "peak": D(2012, 2, 3),
            "trough": D(2012, 2, 6),
            "recovery": None,
            "drawdown": pytest.approx(1 - 90 / 111),
            "days": 2,
        },
        # 110 on 01-31 down to 99, back above 110 (111) on 02-03
        {
            "peak": D(2012, 1, 31),
            "trough": D(2012, 2, 1),
            "recovery": D(2012, 2, 3),
            "drawdown": pytest.approx(1 - 99 / 110),
            "days": 3,
        },
    ]


def test_tearsheet_markdown_shows_percentages_and_an_unrecovered_drawdown():
    text = tearsheet_md(VALUES, 100.0)
    assert "| 10.00 | -13.64 |" in text and "-5.00 |" in text
    assert "| 2012-02-03 | 2012-02-06 | not recovered | 18.92%" in text
    assert "nan" not in text


def test_rolling_sharpe_and_volatility_at_year_end_use_the_last_126_days():
    days = pd.bdate_range("2011-06-01", "2012-12-31")
    returns = pd.Series(np.where(np.arange(len(days)) % 2 == 0, 0.02, -0.01), index=days.date)
    table = rolling_at_year_ends(returns)
    assert list(table.index) == [D(2011, 12, 30), D(2012, 12, 31)]
    last = returns.to_numpy()[-126:]  # the window ending on 2012-12-31
    std = last.std(ddof=1)
    assert table.loc[D(2012, 12, 31), "sharpe"] == pytest.approx(last.mean() / std * 252**0.5)
    assert table.loc[D(2012, 12, 31), "volatility"] == pytest.approx(std * 252**0.5)
    assert table.loc[D(2011, 12, 30)].notna().all()  # 2011-06-01..12-30: 153 days behind it


def test_rolling_figures_are_blank_before_a_full_window():
    text = tearsheet_md(VALUES, 100.0)  # 7 days: no 126-day window yet
    assert "| 2012-02-07 |          |              |" in text


def test_round_trips_close_the_oldest_buys_first_through_a_split_after_commissions():
    fills = pd.DataFrame(
        [
            (D(2012, 1, 3), "AAA", "buy", 10, 100.0, 1.0),
            (D(2012, 1, 5), "AAA", "buy", 10, 110.0, 1.0),
            (D(2012, 1, 10), "AAA", "sell", 30, 60.0, 3.0),  # in post-split shares
        ],
        columns=["date", "symbol", "side", "quantity", "price", "commission"],
    )
    splits = pd.DataFrame([(D(2012, 1, 9), "AAA", 2.0)], columns=["date", "symbol", "split_ratio"])
    trips = round_trips(fills, splits).to_dict("records")
    # the first buy: 10 @ 100 + 1.00 became 20 @ 50; sold at 60 less 0.10 a share
    assert trips[0] == {
        "symbol": "AAA",
        "entry": D(2012, 1, 3),
        "exit": D(2012, 1, 10),
        "shares": 20.0,
        "entry_price": 50.0,
        "exit_price": 60.0,
        "pnl": pytest.approx(20 * 60 - 20 * 0.10 - (10 * 100 + 1.0)),
        "days_held": 7,
    }
    # half of the second buy (10 @ 110 + 1.00, now 20 @ 55); the other half stays open
    assert trips[1]["shares"] == 10.0 and trips[1]["entry"] == D(2012, 1, 5)
    assert trips[1]["pnl"] == pytest.approx(10 * 60 - 10 * 0.10 - (10 * 110 + 1.0) / 2)
    assert len(trips) == 2
    assert round_trips_md(round_trips(fills, splits)).startswith(
        "2 closed, 2 won (100%), total P&L 245.50, median 6 days held"
    )
