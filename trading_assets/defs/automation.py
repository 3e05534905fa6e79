"""Schedules and sensors: what runs without anyone pressing a button.

- `market_prices_daily`: refresh every source's bars after the US close.
- `new_models_sensor`: a model registered in the store (config or legacy import) becomes
  a partition of the model dimension and gets its full history backfilled.
- `trading_day_automation`: declarative automation that launches, as backfills, each
  model's newest trading day after the close once its previous day is in
  (automation_conditions.NEW_TRADING_DAY), and keeps the analytics fresh.
"""

import dagster as dg

from trading_assets.defs.assets.analytics import daily_portfolio, leaderboard
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.assets.model_day import model_day
from trading_assets.defs.partitions import MODELS_PARTITION, model_partitions
from trading_assets.defs.resources.store import StoreResource

market_prices_daily = dg.ScheduleDefinition(
    name="market_prices_daily",
    target=[market_prices],
    cron_schedule="30 17 * * 1-5",  # before trading_day_automation's 18:00 tick
    execution_timezone="America/New_York",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)


@dg.sensor(
    target=[model_day],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def new_models_sensor(context: dg.SensorEvaluationContext, store: StoreResource):
    """Add newly registered models to the model dimension and backfill their history."""
    known = set(context.instance.get_dynamic_partitions(MODELS_PARTITION))
    result_store = store.store()
    new = [m for m in result_store.model_signatures() if m not in known]
    from trading_assets.store.results import model_dates

    unpriced = [m for m in new if not model_dates(result_store, m)]
    new = [m for m in new if m not in unpriced]
    if not new:
        waiting = f" ({', '.join(unpriced)} wait for market_prices)" if unpriced else ""
        return dg.SkipReason(f"no newly registered models with prices{waiting}")
    return dg.SensorResult(
        dynamic_partitions_requests=[model_partitions.build_add_request(new)],
        run_requests=[
            dg.RunRequest(run_key=f"register-{m}", tags=history_range_tags(store, m)) for m in new
        ],
    )


def history_range_tags(store: StoreResource, model: str) -> dict[str, str]:
    """One run over the model's whole market-data history, walked in date order."""
    from trading_assets.store.results import model_dates

    dates = model_dates(store.store(), model)
    return {
        "dagster/asset_partition_range_start": f"{dates[0].isoformat()}|{model}",
        "dagster/asset_partition_range_end": f"{dates[-1].isoformat()}|{model}",
    }


trading_day_automation = dg.AutomationConditionSensorDefinition(
    name="trading_day_automation",
    target=[model_day, daily_portfolio, leaderboard],
    emit_backfills=True,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
