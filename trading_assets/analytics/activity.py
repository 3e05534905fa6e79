"""What a model did with its money, from its stored days and orders: turnover, fees paid
and exposure (the trading side of the metrics; the return side is in metrics.py).

- `days`: one row per stored day with `portfolio_value` and `exposure`, the day's share
  of value in positions (failed days left out). The exposure of a day is defined once,
  in SQL (`store/analytics.py: EXPOSURE_SQL`, the `daily_portfolio.exposure` column);
  this module only averages it.
- `orders`: one row per order with `status`, `quantity`, `price` and `commission`
  (`orders`); only filled orders count.
"""

from __future__ import annotations

import pandas as pd
from pydantic import BaseModel, ConfigDict


class Activity(BaseModel):
    model_config = ConfigDict(frozen=True, strict=True)

    traded_value: float  # sum of |quantity| x fill price over filled orders
    turnover: float | None  # traded value / mean portfolio value (times the book turned over)
    fees_paid: float  # sum of commissions of filled orders (slippage is in the fill price)
    exposure: float | None  # mean of positions value / portfolio value over the days
    filled_orders: int


def activity(days: pd.DataFrame, orders: pd.DataFrame) -> Activity:
    filled = orders[orders["status"] == "filled"]
    traded = float((filled["quantity"].abs() * filled["price"]).sum())
    values = days["portfolio_value"].astype(float)
    mean_value = float(values.mean()) if len(values) else 0.0
    exposure = days["exposure"].astype(float)
    return Activity(
        traded_value=traded,
        turnover=traded / mean_value if mean_value > 0 else None,
        fees_paid=float(filled["commission"].fillna(0.0).sum()),
        exposure=float(exposure.mean()) if len(exposure) else None,
        filled_orders=len(filled),
    )
