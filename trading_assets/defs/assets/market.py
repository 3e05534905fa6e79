"""market_prices: every registered model's market data, validated and kept in the store."""

import dagster as dg

from trading_assets.config import source_id
from trading_assets.defs.metadata import OWNERS, table_metadata, tags
from trading_assets.defs.resources.store import StoreResource
from trading_assets.runs.market_data import source_for
from trading_assets.store.coverage import Coverage, write_coverage


@dg.asset(group_name="market_data", kinds={"duckdb"}, owners=OWNERS, tags=tags("market_data"))
def market_prices(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Daily OHLCV bars of each market-data source the registered models use."""
    result_store = store.store()
    configs = {}
    for spec in result_store.model_specs():
        configs[source_id(spec.market_data)] = spec.market_data
    summary, spans = [], []
    for key, config in sorted(configs.items()):
        history = source_for(config).load()
        rows = result_store.write_prices(key, history)
        spans.append((history.dates[0], history.dates[-1]))
        context.log.info(f"{key}: {len(history.symbols)} symbols, {rows} bars")
        summary.append(
            f"| {key} | {len(history.symbols)} | {history.dates[0]} | "
            f"{history.dates[-1]} | {rows} |"
        )
    if spans:  # the date partitions' span, read when the definitions load
        first, last = min(s[0] for s in spans), max(s[1] for s in spans)
        write_coverage(result_store.path, Coverage(first=first, last=last))
    table = "| source | symbols | first day | last day | bars |\n|---|---|---|---|---|\n"
    return dg.MaterializeResult(
        metadata={
            "sources": len(configs),
            "summary": dg.MetadataValue.md(table + "\n".join(summary)),
            **table_metadata(result_store, "prices"),
        }
    )
