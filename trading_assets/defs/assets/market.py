"""market_prices: every registered model's market data, validated and kept in the store
(bars, corporate actions), with its data-quality checks (defs/market_checks.py)."""

import dagster as dg

from trading_assets.config import source_id
from trading_assets.defs.market_checks import MARKET_CHECK_SPECS, market_check_results
from trading_assets.defs.metadata import labels, table_metadata
from trading_assets.defs.resources.store import StoreResource
from trading_assets.errors import TradingAssetsError
from trading_assets.runs.market_data import source_for
from trading_assets.store.coverage import Coverage, write_coverage
from trading_assets.store.models import enabled_signatures
from trading_assets.store.studies import study_market_data


@dg.asset(
    **labels("market_data"),
    kinds={"duckdb"},
    check_specs=MARKET_CHECK_SPECS,
)
def market_prices(context: dg.AssetExecutionContext, store: StoreResource) -> dg.MaterializeResult:
    """Daily OHLCV bars and corporate actions of each market-data source the registered
    models and studies use."""
    result_store = store.store()
    configs = {}
    enabled = set(enabled_signatures(result_store))
    for spec in result_store.model_specs():
        if spec.signature in enabled:  # a disabled model's source is not reloaded
            configs[source_id(spec.market_data)] = spec.market_data
    for config in study_market_data(result_store):
        configs[source_id(config)] = config
    summary, failed, histories, spans = [], {}, {}, []
    for key, config in sorted(configs.items()):
        source = source_for(config)
        try:
            history = histories[key] = source.load()
        except TradingAssetsError as exc:
            # one source that no longer loads never blocks the others: its stored bars
            # stay, marked, and each model that uses it fails its own day with the reason
            context.log.warning(f"{key}: not reloaded: {exc}")
            failed[key] = str(exc)
            result_store.mark_source_failed(key, str(exc))
            continue
        rows = result_store.write_prices(key, history)
        spans.append((history.dates[0], history.dates[-1]))
        actions = (
            f"{len(history.actions)}" if source.has_corporate_actions else "none (source has none)"
        )
        context.log.info(f"{key}: {len(history.symbols)} symbols, {rows} bars, actions {actions}")
        summary.append(
            f"| {key} | {len(history.symbols)} | {history.dates[0]} | "
            f"{history.dates[-1]} | {rows} | {actions} |"
        )
    if spans:  # the date partitions' span, read when the definitions load
        first, last = min(s[0] for s in spans), max(s[1] for s in spans)
        write_coverage(result_store.path, Coverage(first=first, last=last))
    table = (
        "| source | symbols | first day | last day | bars | corporate actions |\n"
        "|---|---|---|---|---|---|\n"
    )
    return dg.MaterializeResult(
        metadata={
            "sources": len(configs),
            "failed_sources": dg.MetadataValue.json(failed),
            "summary": dg.MetadataValue.md(table + "\n".join(summary)),
            **table_metadata(result_store, "prices"),
        },
        check_results=market_check_results(histories),
    )
