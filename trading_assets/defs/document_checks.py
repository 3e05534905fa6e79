"""Data-quality asset checks on `documents` (rules: market/documents.py).

`no_future_documents` fails (ERROR) on a document published after the moment it was
ingested: a real archive cannot hold one, and it is exactly what would leak the future
into a backtest. `no_duplicate_documents` warns on an item read more than once.
"""

from __future__ import annotations

import dagster as dg

from trading_assets.defs.findings import findings_result
from trading_assets.runs.documents import DocumentsIngest

DOCUMENTS = dg.AssetKey("documents")
CHECKS = {
    "no_future_documents": (
        dg.AssetCheckSeverity.ERROR,
        "No document is published after its own ingestion.",
    ),
    "no_duplicate_documents": (
        dg.AssetCheckSeverity.WARN,
        "No item (same source, url, title and time) is read twice.",
    ),
}
DOCUMENT_CHECK_SPECS = [
    dg.AssetCheckSpec(name, asset=DOCUMENTS, description=description)
    for name, (_, description) in CHECKS.items()
]


def document_check_results(ingest: DocumentsIngest) -> list[dg.AssetCheckResult]:
    found = {"no_future_documents": ingest.future, "no_duplicate_documents": ingest.duplicates}
    results = []
    for name, (severity, _) in CHECKS.items():
        lines = found[name]
        counts = {"documents_at_fault": len(lines)}
        results.append(findings_result(DOCUMENTS, name, severity, lines, counts, described=20))
    return results
