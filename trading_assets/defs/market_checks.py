"""Data-quality asset checks on market_prices (rules: market/quality.py).

Declared as check specs of the asset: every materialization evaluates all five on the
histories it just stored, one result each over all sources. A failing result names the
source, symbol and date(s) in its description and metadata. None blocks: a gap or a
jump is for a person to judge; the unexplained jump is only a warning (it may be news).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import dagster as dg

from trading_assets.defs.findings import findings_result
from trading_assets.market import quality
from trading_assets.market.actions import MAX_SPLIT_RATIO, MIN_SPLIT_RATIO
from trading_assets.market.bars import MAX_PRICE, MIN_PRICE
from trading_assets.market.history import PriceHistory

MARKET_PRICES = dg.AssetKey("market_prices")
Rule = Callable[[PriceHistory], list[quality.Finding]]
# name -> (rule, severity, description)
RULES: dict[str, tuple[Rule, dg.AssetCheckSeverity, str]] = {
    "missing_days": (
        quality.missing_days,
        dg.AssetCheckSeverity.ERROR,
        "Every XNYS session between a symbol's first and last bar has a bar.",
    ),
    "positive_finite_prices": (
        quality.bad_prices,
        dg.AssetCheckSeverity.ERROR,
        f"Every open, high, low and close is a number in [{MIN_PRICE:g}, {MAX_PRICE:g}].",
    ),
    "possible_corporate_actions": (
        quality.impossible_actions,
        dg.AssetCheckSeverity.ERROR,
        "Every corporate action is for a symbol with bars, splits by a ratio in "
        f"[{MIN_SPLIT_RATIO:g}, {MAX_SPLIT_RATIO:g}] and pays a dividend below the "
        "previous close.",
    ),
    "unexplained_jumps": (
        quality.unexplained_jumps,
        dg.AssetCheckSeverity.WARN,
        f"No open moves more than {quality.JUMP_THRESHOLD:.0%} from the previous close "
        "without a corporate action (split or dividend) recorded in between.",
    ),
    "stale_last_date": (
        quality.stale_symbols,
        dg.AssetCheckSeverity.ERROR,
        "Every symbol's last bar is the source's last date.",
    ),
}
MARKET_CHECK_SPECS = [
    dg.AssetCheckSpec(name, asset=MARKET_PRICES, description=description)
    for name, (_, _, description) in RULES.items()
]


def market_check_results(histories: Mapping[str, PriceHistory]) -> list[dg.AssetCheckResult]:
    """One result per rule over every source's history (source id -> history)."""
    results = []
    for name, (rule, severity, _) in RULES.items():
        found = [(source, f) for source, h in sorted(histories.items()) for f in rule(h)]
        lines = [f"{source}: {finding}" for source, finding in found]
        counts = {"sources": len(histories), "symbols_at_fault": len(found)}
        results.append(findings_result(MARKET_PRICES, name, severity, lines, counts))
    return results
