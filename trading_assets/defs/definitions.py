"""The code location: every asset, check, resource, schedule and sensor, in one place."""

from __future__ import annotations

import dagster as dg

from trading_assets.defs.assets.analytics import daily_portfolio, leaderboard, metrics
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.assets.model_day import model_day
from trading_assets.defs.assets.study import study
from trading_assets.defs.automation import (
    market_prices_daily,
    models_config_sensor,
    new_models_sensor,
    new_prices_sensor,
    trading_day_automation,
    trading_day_close,
)
from trading_assets.defs.resources.llm import LLMResource
from trading_assets.defs.resources.merge_kernel import MergeKernel
from trading_assets.defs.resources.migration import MigrationResource
from trading_assets.defs.resources.store import StoreResource

ASSETS = [market_prices, model_day, daily_portfolio, metrics, leaderboard, study]


def resources() -> dict:
    return {
        "store": StoreResource(path=dg.EnvVar("TRADING_ASSETS_STORE")),
        "merge_kernel": MergeKernel(),
        "llm": LLMResource(),
        "migration": MigrationResource(),
    }


defs = dg.Definitions(
    assets=dg.with_source_code_references(ASSETS),
    asset_checks=[],
    schedules=[market_prices_daily, trading_day_close],
    sensors=[models_config_sensor, new_models_sensor, new_prices_sensor, trading_day_automation],
    resources=resources(),
    executor=dg.in_process_executor,
)
