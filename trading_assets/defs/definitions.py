"""The code location: every asset, check, job, resource, schedule and sensor, in one place."""

from __future__ import annotations

import dagster as dg

from trading_assets.defs.assets.analytics import daily_portfolio, leaderboard, metrics
from trading_assets.defs.assets.documents import documents
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.assets.model_day import model_day
from trading_assets.defs.assets.study import STUDY_IO, study
from trading_assets.defs.automation import (
    market_prices_daily,
    models_config_sensor,
    new_models_sensor,
    new_prices_sensor,
    trading_day_automation,
    trading_day_close,
)
from trading_assets.defs.register_job import register_models_job
from trading_assets.defs.resources.clock import ClockResource
from trading_assets.defs.resources.llm import LLMResource
from trading_assets.defs.resources.merge_kernel import MergeKernel
from trading_assets.defs.resources.migration import MigrationResource
from trading_assets.defs.resources.store import StoreResource
from trading_assets.defs.study_job import STUDY_JOB, study_io_manager, study_job

ASSETS = [market_prices, documents, model_day, daily_portfolio, metrics, leaderboard, study]


def resources() -> dict:
    return {
        "store": StoreResource(path=dg.EnvVar("TRADING_ASSETS_STORE")),
        "merge_kernel": MergeKernel(),
        "llm": LLMResource(),
        "migration": MigrationResource(),
        "clock": ClockResource(),
        STUDY_IO: study_io_manager(),
    }


defs = dg.Definitions(
    assets=dg.with_source_code_references(ASSETS),
    asset_checks=[],
    jobs=[register_models_job, study_job],
    schedules=[market_prices_daily, trading_day_close],
    sensors=[models_config_sensor, new_models_sensor, new_prices_sensor, trading_day_automation],
    resources=resources(),
    executor=dg.in_process_executor,
)


def study_job_def() -> dg.JobDefinition:
    """study_job resolved, for `dg.reconstructable`: a multiprocess or Celery run reloads
    it in each step's process (`trading-assets study run --workers N`)."""
    return defs.resolve_job_def(STUDY_JOB)
