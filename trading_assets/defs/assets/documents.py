"""documents: every registered llm_trader model's documents source, in the store with its
provenance, for `get_information` (the run reads them from the store, never the folder),
with its data-quality checks (defs/document_checks.py)."""

import dagster as dg

from trading_assets.defs.document_checks import DOCUMENT_CHECK_SPECS, document_check_results
from trading_assets.defs.metadata import labels, table_metadata
from trading_assets.defs.resources.clock import ClockResource
from trading_assets.defs.resources.store import StoreResource
from trading_assets.runs.documents import ingest_documents


@dg.asset(
    **labels("market_data"),
    kinds={"duckdb"},
    check_specs=DOCUMENT_CHECK_SPECS,
)
def documents(
    context: dg.AssetExecutionContext, store: StoreResource, clock: ClockResource
) -> dg.MaterializeResult:
    """Dated documents (news, filings) of each documents source the registered models use,
    stored whole per source with the moment they were ingested."""
    result_store = store.store()
    ingest = ingest_documents(result_store, clock.clock())
    for folder, why in ingest.failed.items():
        context.log.warning(f"{folder}: not reloaded (its stored documents stay): {why}")
    lines = [f"| {folder} | {n} |" for folder, n in ingest.stored.items()]
    table = "| source | documents |\n|---|---|\n" + "\n".join(lines)
    return dg.MaterializeResult(
        metadata={
            "sources": len(ingest.stored) + len(ingest.failed),
            "ingested_at": ingest.ingested_at.isoformat(),
            "failed_sources": dg.MetadataValue.json(ingest.failed),
            "summary": dg.MetadataValue.md(table),
            **table_metadata(result_store, "documents"),
        },
        check_results=document_check_results(ingest),
    )
