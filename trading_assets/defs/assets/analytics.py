"""Analytics downstream of the model-days: daily_portfolio and the leaderboard."""

import dagster as dg

from trading_assets.defs.assets.model_day import model_day
from trading_assets.defs.automation_conditions import AFTER_PASSING_CHECKS
from trading_assets.defs.resources.store import StoreResource
from trading_assets.store.analytics import rebuild_daily_portfolio, replace_leaderboard
from trading_assets.store.leaderboard import leaderboard as compute_leaderboard


@dg.asset(
    deps=[model_day],
    group_name="analytics",
    kinds={"duckdb"},
    automation_condition=AFTER_PASSING_CHECKS,
)
def daily_portfolio(store: StoreResource) -> dg.MaterializeResult:
    """Per model-day value, running peak, drawdown and exposure (a full refresh: one SQL
    statement over every model-day, cheaper than tracking per-partition changes)."""
    rows, models = rebuild_daily_portfolio(store.store())
    return dg.MaterializeResult(metadata={"rows": rows, "models": models})


@dg.asset(
    deps=[daily_portfolio],
    group_name="analytics",
    kinds={"duckdb"},
    automation_condition=dg.AutomationCondition.eager(),
)
def leaderboard(store: StoreResource) -> dg.MaterializeResult:
    """Every model ranked by total return, with drawdown, Sharpe and day counts."""
    frame = compute_leaderboard(store.store())
    replace_leaderboard(store.store(), frame)
    shown = frame[["model", "final_value", "total_return", "max_drawdown", "trading_days"]]
    return dg.MaterializeResult(
        metadata={
            "models": len(frame),
            "leaderboard": dg.MetadataValue.md(
                shown.to_markdown(index=False) if len(frame) else "-"
            ),
        }
    )
