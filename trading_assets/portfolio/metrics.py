"""Performance metrics over a model's daily values (the legacy tools' definitions)."""

from __future__ import annotations

import math

import numpy as np

TRADING_DAYS_PER_YEAR = 252
RISK_FREE = 0.02


def max_drawdown(values: np.ndarray) -> float:
    """Largest peak-to-trough fall, as a positive fraction (0.25 = a 25% drawdown)."""
    if len(values) == 0:
        return 0.0
    peaks = np.maximum.accumulate(values)
    return float(np.max(1.0 - values / peaks))


def sharpe(daily_returns: np.ndarray) -> float | None:
    """Annualised Sharpe ratio (252 periods, 2% risk-free), None when undefined."""
    if len(daily_returns) < 2:
        return None
    excess = daily_returns - RISK_FREE / TRADING_DAYS_PER_YEAR
    std = float(np.std(excess, ddof=1))
    return None if std == 0 else float(np.mean(excess) / std * math.sqrt(TRADING_DAYS_PER_YEAR))


def annualized_return(total_return: float, calendar_days: int) -> float | None:
    if calendar_days <= 0 or total_return <= -1:
        return None
    return (1.0 + total_return) ** (365.0 / calendar_days) - 1.0
