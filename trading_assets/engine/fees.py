"""Build the cost models a config's `fees` section describes."""

from __future__ import annotations

from trading_assets.config import FeesConfig
from trading_assets.portfolio.costs import (
    FixedBpsSlippage,
    NoCommission,
    NoSlippage,
    PercentCommission,
    PerShareCommission,
)
from trading_assets.portfolio.step import NO_FEES, Fees


def fees_from_config(config: FeesConfig) -> Fees:
    c = config.commission
    if c.rate:
        commission = PercentCommission(c.rate)
    elif c.per_share or c.minimum:
        commission = PerShareCommission(c.per_share, c.minimum)
    else:
        commission = NoCommission()
    slippage = FixedBpsSlippage(config.slippage_bps) if config.slippage_bps else NoSlippage()
    if isinstance(commission, NoCommission) and isinstance(slippage, NoSlippage):
        return NO_FEES
    return Fees(commission=commission, slippage=slippage)
