"""Analytics downstream of the model-days: daily_portfolio, metrics and the leaderboard."""

import dagster as dg

from trading_assets.analytics.metrics import DEFAULT_RISK_FREE
from trading_assets.analytics.plots import comparison_png, drawdown_png, equity_png
from trading_assets.analytics.tearsheet import round_trips, tearsheet_md
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.assets.model_day import model_day
from trading_assets.defs.automation_conditions import AFTER_PASSING_CHECKS
from trading_assets.defs.metadata import labels, percent_md, png_md, table_metadata
from trading_assets.defs.resources.store import StoreResource
from trading_assets.runs.metrics import MetricsReport, compute_metrics, ranked_leaderboard
from trading_assets.store.analytics import rebuild_daily_portfolio, replace_leaderboard
from trading_assets.store.metrics import param_columns, replace_metrics, stored_metrics
from trading_assets.store.results import ResultStore
from trading_assets.store.trades import stored_fills, stored_splits

# What the metrics table in the UI shows (every column is in the `metrics` store table).
SHOWN_METRICS = [
    "model", "cumulative_return", "benchmark_return", "excess_return", "annual_return",
    "annual_volatility", "sharpe", "sortino", "max_drawdown", "calmar", "exposure",
    "active_return", "tracking_error", "information_ratio", "days", "config_hash",
]  # fmt: skip
SHOWN_LEADERBOARD = [
    "model", "beats_benchmark", "total_return", "benchmark_return", "excess_return",
    "annualized_return", "sharpe", "max_drawdown", "final_value", "trading_days",
    "information_ratio", "config_hash",
]  # fmt: skip


class MetricsConfig(dg.Config):
    risk_free_rate: float = DEFAULT_RISK_FREE  # annual; Sharpe and Sortino use rf / 252 a day


@dg.asset(
    deps=[model_day],
    **labels("analytics"),
    kinds={"duckdb"},
    automation_condition=AFTER_PASSING_CHECKS,
)
def daily_portfolio(store: StoreResource) -> dg.MaterializeResult:
    """Per model-day value, running peak, drawdown and exposure (a full refresh over every
    model-day, cheaper than tracking per-partition changes)."""
    _, models = rebuild_daily_portfolio(store.store())
    return dg.MaterializeResult(
        metadata={"models": models, **table_metadata(store.store(), "daily_portfolio")}
    )


@dg.asset(
    # reads the model-days (through daily_portfolio) and the prices (the benchmark)
    deps=[daily_portfolio, market_prices],
    **labels("analytics"),
    kinds={"duckdb", "python"},
    # new prices alone change no figure until the model-days that use them are stored
    automation_condition=dg.AutomationCondition.eager().ignore(
        dg.AssetSelection.assets(market_prices)
    ),
)
def metrics(config: MetricsConfig, store: StoreResource) -> dg.MaterializeResult:
    """Each model's return, risk and trading figures against an equal-weight buy-and-hold
    of its universe (total return), with its equity and drawdown plots."""
    report = compute_metrics(store.store(), config.risk_free_rate)
    replace_metrics(store.store(), report.frame)
    return dg.MaterializeResult(
        metadata={
            "risk_free_rate": config.risk_free_rate,
            # then the flattened parameters (the columns after `params`)
            "metrics": percent_md(report.frame[[*SHOWN_METRICS, *param_columns(report.frame)]]),
            **plots(report),
            **tearsheets(report, store.store()),
            **table_metadata(store.store(), "metrics"),
        }
    )


@dg.asset(
    # reads every figure from metrics, and the final value and day counts from model_days
    deps=[metrics, model_day],
    **labels("analytics"),
    kinds={"duckdb"},
    # waits for metrics: a new model-day alone must not rank figures metrics lacks
    automation_condition=dg.AutomationCondition.eager().ignore(dg.AssetSelection.assets(model_day)),
)
def leaderboard(store: StoreResource) -> dg.MaterializeResult:
    """Every model ranked by its excess return over its benchmark (best first), from the
    metrics table (so with the same risk-free rate)."""
    board = ranked_leaderboard(store.store(), stored_metrics(store.store()))
    replace_leaderboard(store.store(), board)
    beat = board.loc[board["beats_benchmark"], "model"].tolist()
    return dg.MaterializeResult(
        metadata={
            "models": len(board),
            "beat_the_benchmark": ", ".join(beat) or "none",
            "leaderboard": percent_md(board[[*SHOWN_LEADERBOARD, *param_columns(board)]]),
            **table_metadata(store.store(), "leaderboard"),
        }
    )


def tearsheets(report: MetricsReport, store: ResultStore) -> dict[str, dg.MetadataValue]:
    """Each model's returns by month and year, rolling Sharpe and volatility, deepest
    drawdown periods and round trips (analytics/tearsheet.py)."""
    cash = {s.signature: s.initial_cash for s in store.model_specs()}
    out = {}
    for model, values in report.values.items():
        trips = round_trips(stored_fills(store, model), stored_splits(store, model))
        out[f"tearsheet_{model}"] = dg.MetadataValue.md(tearsheet_md(values, cash[model], trips))
    return out


def plots(report: MetricsReport) -> dict[str, dg.MetadataValue]:
    """The comparison of every model, then each model's equity vs benchmark and drawdown."""
    if not report.values:
        return {}
    out = {
        "plot_all_models": dg.MetadataValue.md(
            png_md(comparison_png(report.values, title="Cumulative return of every model"), "all")
        )
    }
    for model, values in report.values.items():
        equity = equity_png(values, report.benchmarks[model], title=f"{model} vs its benchmark")
        down = drawdown_png(
            values,
            title=f"{model} drawdown vs its benchmark's",
            start=report.initial_cash[model],
            benchmark=report.benchmarks[model],
        )
        out[f"plot_{model}"] = dg.MetadataValue.md(
            f"{png_md(equity, f'{model} equity')}\n\n{png_md(down, f'{model} drawdown')}"
        )
    return out
