"""market_prices: every registered model's market data, validated and kept in the store."""

import dagster as dg

from trading_assets.config import source_id
from trading_assets.defs.resources.store import StoreResource
from trading_assets.errors import TradingAssetsError
from trading_assets.runs.market_data import source_for
from trading_assets.store.models import enabled_signatures


@dg.asset(group_name="market_data", kinds={"duckdb"})
def market_prices(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Daily OHLCV bars of each market-data source the registered models use."""
    result_store = store.store()
    configs = {}
    enabled = set(enabled_signatures(result_store))
    for spec in result_store.model_specs():
        if spec.signature in enabled:  # a disabled model's source is not reloaded
            configs[source_id(spec.market_data)] = spec.market_data
    summary, failed = [], {}
    for key, config in sorted(configs.items()):
        try:
            history = source_for(config).load()
        except TradingAssetsError as exc:
            # one source that no longer loads never blocks the others: its stored bars
            # stay, and a model that needs the source itself fails its own day
            context.log.warning(f"{key}: not reloaded: {exc}")
            failed[key] = str(exc)
            continue
        rows = result_store.write_prices(key, history)
        context.log.info(f"{key}: {len(history.symbols)} symbols, {rows} bars")
        summary.append(
            f"| {key} | {len(history.symbols)} | {history.dates[0]} | "
            f"{history.dates[-1]} | {rows} |"
        )
    table = "| source | symbols | first day | last day | bars |\n|---|---|---|---|---|\n"
    return dg.MaterializeResult(
        metadata={
            "sources": len(configs),
            "failed_sources": dg.MetadataValue.json(failed),
            "summary": dg.MetadataValue.md(table + "\n".join(summary)),
        }
    )
