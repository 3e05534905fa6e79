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
