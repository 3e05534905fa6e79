"""Tearsheet tables of one model's daily values: returns by month and year, rolling
Sharpe and volatility at each year's end, and the largest drawdown periods. Pure
functions of a value series, no I/O.

Returns are compounded by empyrical-reloaded (`aggregate_returns`), as every other
figure here. The drawdown periods (peak, trough, recovery, depth, days) follow
pyfolio's `gen_drawdown_table`, which no kept library offers for pandas 3 (pyfolio
0.9.2 of 2019 is the only one packaged): each period runs from a peak of the value
curve to the first day back at or above it (its recovery; none while still under).
"""

from __future__ import annotations

import datetime as dt

import empyrical as ep
import pandas as pd

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
TOP_DRAWDOWNS = 5
ROLLING_DAYS = 126  # about six months of sessions


def daily_returns(values: pd.Series, starting_value: float) -> pd.Series:
    """Each day's return on a value series by date; the first day's is from
    `starting_value` (the capital the first day began with)."""
    previous = values.shift(1)
    previous.iloc[0] = starting_value
    return (values / previous - 1.0).rename("return")


def returns_by_month(returns: pd.Series) -> pd.DataFrame:
    """One row per year: the compounded return of each month (blank before the first
    or after the last day) and of the year (`Year`)."""
    returns = returns.copy()
    returns.index = pd.DatetimeIndex(returns.index)
    monthly = ep.aggregate_returns(returns, "monthly")
    yearly = ep.aggregate_returns(returns, "yearly")
    table = monthly.unstack(level=1).reindex(columns=range(1, 13))
    table.columns = list(MONTHS)
    table["Year"] = yearly
    table.index.name = "year"
    return table


def rolling_at_year_ends(returns: pd.Series, window: int = ROLLING_DAYS) -> pd.DataFrame:
    """The rolling `window`-day Sharpe ratio (no risk-free rate) and annualized
    volatility (empyrical's `roll_sharpe_ratio`, `roll_annual_volatility`) as of each
    year's last day; blank while fewer than `window` days are behind it."""
    returns = returns.copy()
    returns.index = pd.DatetimeIndex(returns.index)
    frame = pd.DataFrame(
        {
            "sharpe": ep.roll_sharpe_ratio(returns, window=window),
            "volatility": ep.roll_annual_volatility(returns, window=window),
        }
    ).reindex(returns.index)
    # empyrical computes over fewer days when the series is shorter than the window
    frame[pd.Series(range(1, len(returns) + 1), index=returns.index) < window] = float("nan")
    at_year_end = frame.groupby(returns.index.year).tail(1)
    at_year_end.index = [d.date() for d in at_year_end.index]
    at_year_end.index.name = "as of"
    return at_year_end


def drawdown_periods(values: pd.Series, top: int = TOP_DRAWDOWNS) -> pd.DataFrame:
    """The `top` deepest drawdowns of a value series by date, deepest first: peak date,
    trough date, recovery date (None while still under water), depth as a positive
    fraction of the peak, and trading days from peak to recovery (or to the last day)."""
    values = values.copy()
    values.index = [pd.Timestamp(d).date() for d in values.index]
    peaks = values.cummax()
    under = values < peaks
    rows, start = [], None
    for i, (day, is_under) in enumerate(under.items()):
        if is_under and start is None:
            start = i - 1  # the peak is the day before the first day under it
        if start is not None and (not is_under or i == len(values) - 1):
            end = i if not is_under else None
            window = values.iloc[start : (end if end is not None else i) + 1]
            trough = window.idxmin()
            rows.append(
                {
                    "peak": values.index[start],
                    "trough": trough,
                    "recovery": day if end is not None else None,
                    "drawdown": float(1.0 - window.min() / values.iloc[start]),
                    "days": (end if end is not None else i) - start,
                }
            )
            start = None
    frame = pd.DataFrame(rows, columns=["peak", "trough", "recovery", "drawdown", "days"])
    return frame.sort_values("drawdown", ascending=False, ignore_index=True).head(top)


def _date_text(day: dt.date | None) -> str:
    return day.isoformat() if day is not None else "not recovered"


def tearsheet_md(values: pd.Series, starting_value: float) -> str:
    """Markdown: returns by month and year (%), the rolling Sharpe and volatility at
    each year's end, then the deepest drawdown periods."""
    table = returns_by_month(daily_returns(values, starting_value)) * 100
    shown = table.map(lambda r: "" if pd.isna(r) else f"{r:.2f}")  # a month without days: blank
    lines = [
        "**Returns by month and year (%)**",
        "",
        shown.to_markdown(stralign="right", disable_numparse=True),
    ]
    rolling = rolling_at_year_ends(daily_returns(values, starting_value))
    lines += ["", f"**Rolling {ROLLING_DAYS}-day Sharpe and volatility at each year's end**", ""]
    rolling = pd.DataFrame(
        {
            "sharpe": rolling["sharpe"].map(lambda r: "" if pd.isna(r) else f"{r:.2f}"),
            "volatility": rolling["volatility"].map(lambda r: "" if pd.isna(r) else f"{r:.2%}"),
        }
    )
    lines.append(rolling.to_markdown(stralign="right", disable_numparse=True))
    periods = drawdown_periods(values)
    lines += ["", f"**Top {TOP_DRAWDOWNS} drawdown periods**", ""]
    if periods.empty:
        lines.append("(never below a previous peak)")
    else:
        periods = periods.assign(
            recovery=[_date_text(d) for d in periods["recovery"]],
            drawdown=[f"{100 * d:.2f}%" for d in periods["drawdown"]],
        )
        lines.append(periods.to_markdown(index=False))
    return "\n".join(lines)
