"""Tearsheet tables of one model: returns by month and year, rolling Sharpe and
volatility at each year's end, the largest drawdown periods (of its daily values) and
its round trips (of its fills). Pure functions, no I/O.

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


ROUND_TRIP_COLUMNS = (
    "symbol", "entry", "exit", "shares", "entry_price", "exit_price", "pnl", "days_held",
)  # fmt: skip
ROUND_TRIPS_SHOWN = 10


def round_trips(fills: pd.DataFrame, splits: pd.DataFrame | None = None) -> pd.DataFrame:
    """Closed trades, first in first out per symbol: each sale closes the oldest open
    buys first, and each (buy, sell) pair is one round trip with its entry and exit
    dates, shares (in the exit day's shares), entry and exit prices, P&L after both
    commissions (the buy's pro rata) and calendar days held. A split before the open
    multiplies the open lots' shares by its ratio and divides their price (dividends are
    cash, not trade P&L). `fills`: date, symbol, side, quantity, price, commission in
    fill order; `splits`: date, symbol, split_ratio. Open positions are not listed."""
    events = [(pd.Timestamp(f.date).date(), 1, f) for f in fills.itertuples()]
    if splits is not None:
        events += [(pd.Timestamp(s.date).date(), 0, s) for s in splits.itertuples()]
    lots: dict[str, list[list]] = {}  # symbol -> [shares, price, fee per share, entry date]
    rows = []
    for day, kind, event in sorted(events, key=lambda e: (e[0], e[1])):  # splits first
        open_lots = lots.setdefault(event.symbol, [])
        if kind == 0:
            for lot in open_lots:
                lot[0], lot[1], lot[2] = (
                    lot[0] * event.split_ratio,
                    lot[1] / event.split_ratio,
                    lot[2] / event.split_ratio,
                )
        elif event.side == "buy":
            fee = event.commission / event.quantity
            open_lots.append([float(event.quantity), float(event.price), fee, day])
        else:
            left, exit_fee = float(event.quantity), event.commission / event.quantity
            while left > 1e-9 and open_lots:
                lot = open_lots[0]
                shares = min(lot[0], left)
                pnl = shares * (event.price - lot[1]) - shares * (lot[2] + exit_fee)
                rows.append(
                    (
                        event.symbol,
                        lot[3],
                        day,
                        shares,
                        lot[1],
                        event.price,
                        pnl,
                        (day - lot[3]).days,
                    )
                )
                lot[0] -= shares
                left -= shares
                if lot[0] <= 1e-9:
                    open_lots.pop(0)
    return pd.DataFrame(rows, columns=list(ROUND_TRIP_COLUMNS))


def round_trips_md(trips: pd.DataFrame) -> str:
    """Markdown: how many round trips, their win rate and P&L, then the latest ones."""
    if trips.empty:
        return "(no closed round trip)"
    wins = int((trips["pnl"] > 0).sum())
    head = (
        f"{len(trips)} closed, {wins} won ({wins / len(trips):.0%}), total P&L "
        f"{trips['pnl'].sum():,.2f}, median {trips['days_held'].median():.0f} days held"
    )
    latest = trips.tail(ROUND_TRIPS_SHOWN).assign(
        shares=lambda t: t["shares"].round(4),
        entry_price=lambda t: t["entry_price"].map("{:,.2f}".format),
        exit_price=lambda t: t["exit_price"].map("{:,.2f}".format),
        pnl=lambda t: t["pnl"].map("{:,.2f}".format),
    )
    return f"{head}; the latest {len(latest)}:\n\n" + latest.to_markdown(
        index=False, disable_numparse=True
    )


def _date_text(day: dt.date | None) -> str:
    return day.isoformat() if day is not None else "not recovered"


def tearsheet_md(
    values: pd.Series, starting_value: float, trips: pd.DataFrame | None = None
) -> str:
    """Markdown: returns by month and year (%), the rolling Sharpe and volatility at
    each year's end, the deepest drawdown periods, then the round trips if given."""
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
    if trips is not None:
        lines += ["", "**Round trips**", "", round_trips_md(trips)]
    return "\n".join(lines)
