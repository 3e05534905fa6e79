"""Schedules and sensors: what runs without anyone pressing a button.

All start STOPPED (turn them on in the UI, Automation, or `dagster sensor start`). Each is
idempotent: schedules and sensors name every run with a run key, so a re-evaluated tick
never launches a model-day twice, and the sensors keep a cursor of what they handled.

- `market_prices_daily`: refresh every source's bars after the US close (17:30 New York).
- `trading_day_close`: at 18:00 New York, one run per enabled model for that day's
  partition; a day that is not an XNYS session (weekend, holiday) launches nothing.
- `models_config_sensor`: watches the models YAML named by $TRADING_ASSETS_CONFIG; models
  added or enabled there are validated (config and market data), registered, and their
  prices loaded; `new_models_sensor` then launches their catch-up.
- `new_models_sensor`: a model registered in the store (config or legacy import) becomes
  a partition of the model dimension and gets its full priced history in one run.
- `new_prices_sensor`: a model whose stored prices reach past its last materialized day
  gets one run over the new days (prices loaded late, a model re-enabled, a gap).
- `trading_day_automation`: declarative automation (automation_conditions.NEW_TRADING_DAY)
  launching each model's newest day as a backfill, and keeping the analytics fresh.
  It is the declarative alternative to `trading_day_close`: turn on one of the two.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg

from trading_assets.defs.assets.analytics import daily_portfolio, leaderboard, metrics
from trading_assets.defs.assets.documents import documents
from trading_assets.defs.assets.market import market_prices
from trading_assets.defs.assets.model_day import model_day
from trading_assets.defs.partitions import (
    DATE_FORMAT,
    MODELS_PARTITION,
    date_partitions,
    model_partitions,
    partition_key,
    range_tags,
    split_keys,
)
from trading_assets.defs.resources.store import StoreResource
from trading_assets.market.calendar import is_trading_day
from trading_assets.store.models import enabled_signatures
from trading_assets.store.results import model_dates

CONFIG_ENV = "TRADING_ASSETS_CONFIG"
# When trading_day_close ticks; an operator may move it (a later data vendor), and the
# end-to-end test makes it tick every minute to see a real daemon evaluate it.
CLOSE_CRON = os.environ.get("TA_TRADING_DAY_CLOSE_CRON", "0 18 * * *")
NEW_YORK = "America/New_York"

market_prices_daily = dg.ScheduleDefinition(
    name="market_prices_daily",
    target=[market_prices, documents],  # the day's news with the day's bars
    cron_schedule="30 17 * * 1-5",  # before trading_day_close's 18:00 tick
    execution_timezone=NEW_YORK,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)


def enabled_models(instance: dg.DagsterInstance, store: StoreResource) -> list[str]:
    """Models registered (and not disabled: `trading-assets models disable`) in the store
    and in the model dimension, minus any the watched models config lists with
    `enabled: false`."""
    known = set(instance.get_dynamic_partitions(MODELS_PARTITION))
    models = [m for m in enabled_signatures(store.store()) if m in known]
    path = os.environ.get(CONFIG_ENV)
    if path and Path(path).is_file():
        from trading_assets.config import load_config

        disabled = {m.signature for m in load_config(path).models if not m.enabled}
        models = [m for m in models if m not in disabled]
    return models


@dg.schedule(
    target=[model_day],
    cron_schedule=CLOSE_CRON,  # every day: the XNYS calendar, not cron, decides
    execution_timezone=NEW_YORK,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def trading_day_close(context: dg.ScheduleEvaluationContext, store: StoreResource):
    """After the close, the day's partition of every enabled model priced for that day."""
    return close_requests(context.instance, store, context.scheduled_execution_time)


def close_requests(
    instance: dg.DagsterInstance, store: StoreResource, tick: dt.datetime
) -> dg.SkipReason | list[dg.RunRequest]:
    """What the close tick at `tick` launches: a run per enabled model whose market data
    has a bar on that New York date and whose day is not materialized yet; otherwise one
    reason naming what is missing (a day without bars must not become a run: its
    partition may not exist yet, and the run could only fail)."""
    day = tick.astimezone(ZoneInfo(NEW_YORK)).date()
    if not is_trading_day(day):
        return dg.SkipReason(f"{day} ({day:%A}) is not an XNYS session: nothing to simulate")
    models = enabled_models(instance, store)
    if not models:
        return dg.SkipReason(f"{day}: no enabled model is registered (nothing to simulate)")
    done = instance.get_materialized_partitions(model_day.key)
    todo = [m for m in models if partition_key(day, m) not in done]
    if not todo:
        return dg.SkipReason(f"{day}: every enabled model's day is already materialized")
    unpriced = [m for m in todo if not model_dates(store.store(), m, start=day, end=day)]
    if unpriced == todo:
        return dg.SkipReason(
            f"{day}: no bars for {day} yet for {', '.join(unpriced)}; "
            "market_prices_daily loads them at 17:30 New York (or materialize market_prices)"
        )
    priced = [m for m in todo if m not in unpriced]
    if not date_partitions.has_partition_key(day.strftime(DATE_FORMAT)):
        return dg.SkipReason(
            f"{day}: bars are stored but the loaded date partitions end before it; "
            "reload the code location (the UI's Reload definitions, or restart the daemon)"
        )
    return [
        dg.RunRequest(run_key=f"close-{day}-{m}", partition_key=partition_key(day, m))
        for m in priced
    ]


def history_range_tags(store: StoreResource, model: str) -> dict[str, str]:
    """One run over the model's whole market-data history."""
    dates = model_dates(store.store(), model)
    return range_tags(model, dates[0], dates[-1])


@dg.sensor(
    target=[model_day],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def new_models_sensor(context: dg.SensorEvaluationContext, store: StoreResource):
    """Add newly registered models to the model dimension and backfill their history."""
    known = set(context.instance.get_dynamic_partitions(MODELS_PARTITION))
    result_store = store.store()
    new = [m for m in enabled_signatures(result_store) if m not in known]
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


@dg.sensor(
    target=[market_prices, documents],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def models_config_sensor(context: dg.SensorEvaluationContext, store: StoreResource):
    """Register the models added or enabled in $TRADING_ASSETS_CONFIG and load their prices."""
    from trading_assets.defs.config_watch import register_enabled

    path = os.environ.get(CONFIG_ENV)
    if not path:
        return dg.SkipReason(f"${CONFIG_ENV} is not set: no models config to watch")
    try:
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]
    except OSError as exc:
        return dg.SkipReason(f"{path}: cannot read the models config ({exc.strerror})")
    if digest == context.cursor:
        return dg.SkipReason(f"{path} unchanged")
    outcome = register_enabled(path, store.store())
    if not outcome.registered:
        return dg.SensorResult(skip_reason=outcome.summary(path), cursor=digest)
    context.log.info(outcome.summary(path))
    return dg.SensorResult(
        run_requests=[dg.RunRequest(run_key=f"models-config-{digest}")], cursor=digest
    )


@dg.sensor(
    target=[model_day],
    minimum_interval_seconds=30,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def new_prices_sensor(context: dg.SensorEvaluationContext, store: StoreResource):
    """One run per model over priced trading days after its last materialized day."""
    handled: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    latest = split_keys(sorted(context.instance.get_materialized_partitions(model_day.key)))
    requests = []
    for model in enabled_models(context.instance, store):
        if model not in latest:
            continue  # nothing materialized yet: new_models_sensor launches its history
        last_done = latest[model][-1]
        new = [d for d in model_dates(store.store(), model) if d > last_done]
        if not new or handled.get(model, "") >= new[-1].isoformat():
            continue
        handled[model] = new[-1].isoformat()
        key = f"prices-{model}-{new[0]}-{new[-1]}"
        requests.append(dg.RunRequest(run_key=key, tags=range_tags(model, new[0], new[-1])))
    if not requests:
        return dg.SkipReason("no model has priced days after its last materialized day")
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(handled, sort_keys=True))


trading_day_automation = dg.AutomationConditionSensorDefinition(
    name="trading_day_automation",
    target=[model_day, daily_portfolio, metrics, leaderboard],
    emit_backfills=True,
    default_status=dg.DefaultSensorStatus.STOPPED,
)
