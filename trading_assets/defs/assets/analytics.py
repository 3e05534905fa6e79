"""Analytics downstream of the model-days: daily_portfolio and the leaderboard."""

import dagster as dg

from trading_assets.defs.assets.model_day import model_day
from trading_assets.defs.automation_conditions import AFTER_PASSING_CHECKS
from trading_assets.defs.resources.store import StoreResource
from trading_assets.store.leaderboard import leaderboard as compute_leaderboard

# Running peak and drawdown per model over its whole history, in one statement.
DAILY_PORTFOLIO_SQL = """
CREATE OR REPLACE TABLE daily_portfolio AS
SELECT d.model, d.date, d.portfolio_value, d.cumulative_return,
       max(d.portfolio_value) OVER w AS running_peak,
       1 - d.portfolio_value / max(d.portfolio_value) OVER w AS drawdown,
       coalesce(d.positions_value / nullif(d.portfolio_value, 0), 0) AS exposure,
       coalesce(h.n_positions, 0) AS n_positions,
       d.contract_version
FROM model_days d
LEFT JOIN (SELECT model, date, count(*) AS n_positions FROM holdings GROUP BY ALL) h
    USING (model, date)
WHERE d.status <> 'failed'
WINDOW w AS (PARTITION BY d.model ORDER BY d.date
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
ORDER BY d.model, d.date
"""


@dg.asset(
    deps=[model_day],
    group_name="analytics",
    kinds={"duckdb"},
    automation_condition=AFTER_PASSING_CHECKS,
)
def daily_portfolio(store: StoreResource) -> dg.MaterializeResult:
    """Per model-day value, running peak, drawdown and exposure (a full refresh: one SQL
    statement over every model-day, cheaper than tracking per-partition changes)."""
    with store.store().connect() as con:
        con.execute(DAILY_PORTFOLIO_SQL)
        (rows, models) = con.execute(
            "SELECT count(*), count(DISTINCT model) FROM daily_portfolio"
        ).fetchone()
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
    with store.store().connect() as con:
        con.register("incoming", frame)
        con.execute("CREATE OR REPLACE TABLE leaderboard AS SELECT * FROM incoming")
    shown = frame[["model", "final_value", "total_return", "max_drawdown", "trading_days"]]
    return dg.MaterializeResult(
        metadata={
            "models": len(frame),
            "leaderboard": dg.MetadataValue.md(
                shown.to_markdown(index=False) if len(frame) else "-"
            ),
        }
    )
