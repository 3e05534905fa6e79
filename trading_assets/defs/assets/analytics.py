"""Analytics downstream of the model-days: daily_portfolio and the leaderboard."""

import dagster as dg

from trading_assets.defs.assets.model_day import model_day
from trading_assets.defs.partitions import model_day_partitions, split_keys
from trading_assets.defs.resources.store import StoreResource
from trading_assets.store import CONTRACT_VERSION
from trading_assets.store.leaderboard import leaderboard as compute_leaderboard

# Running peak and drawdown need the model's whole history up to the range's end.
DAILY_PORTFOLIO_SQL = """
INSERT INTO daily_portfolio
SELECT * FROM (
    SELECT d.model, d.date, d.portfolio_value, d.cumulative_return,
           max(d.portfolio_value) OVER w AS running_peak,
           1 - d.portfolio_value / max(d.portfolio_value) OVER w AS drawdown,
           coalesce(d.positions_value / nullif(d.portfolio_value, 0), 0) AS exposure,
           (SELECT count(*) FROM holdings h WHERE h.model = d.model AND h.date = d.date)
               AS n_positions,
           ? AS contract_version
    FROM model_days d
    WHERE d.model = ? AND d.date <= ? AND d.status <> 'failed'
    WINDOW w AS (ORDER BY d.date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
) WHERE date >= ?
"""


@dg.asset(
    partitions_def=model_day_partitions,
    deps=[model_day],
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="analytics",
    kinds={"duckdb"},
)
def daily_portfolio(
    context: dg.AssetExecutionContext, store: StoreResource
) -> dg.MaterializeResult:
    """Per model-day value, running peak, drawdown and exposure."""
    rows = 0
    with store.store().connect() as con:
        for model, dates in split_keys(context.partition_keys).items():
            lo, hi = dates[0], dates[-1]
            con.execute("BEGIN")
            con.execute(
                "DELETE FROM daily_portfolio WHERE model = ? AND date BETWEEN ? AND ?",
                [model, lo, hi],
            )
            con.execute(DAILY_PORTFOLIO_SQL, [CONTRACT_VERSION, model, hi, lo])
            con.execute("COMMIT")
            rows += len(dates)
    return dg.MaterializeResult(metadata={"rows": rows})


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
