"""Ingest the registered models' documents sources into the store (the `documents` asset,
without Dagster): each llm_trader model's `documents` folder is read once, written whole
with the moment it was read (`ingested_at`, from the injected clock), and judged by the
data-quality rules of market/documents.py."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from trading_assets.agents.llm_trader import LLMTrader
from trading_assets.errors import TradingAssetsError
from trading_assets.market.documents import (
    Document,
    dated_after_ingestion,
    duplicates,
    load_documents,
)
from trading_assets.store.documents import write_documents
from trading_assets.store.models import enabled_signatures
from trading_assets.store.results import ResultStore
from trading_assets.vocab import SYSTEM_CLOCK, Clock


@dataclass
class DocumentsIngest:
    ingested_at: dt.datetime  # UTC, with its zone
    stored: dict[str, int] = field(default_factory=dict)  # source -> documents stored
    failed: dict[str, str] = field(default_factory=dict)  # source -> why it did not load
    future: list[str] = field(default_factory=list)  # dated after their own ingestion
    duplicates: list[str] = field(default_factory=list)


def documents_sources(store: ResultStore) -> dict[str, list[str]]:
    """Each documents folder the enabled registered models use -> those models."""
    enabled = set(enabled_signatures(store))
    out: dict[str, list[str]] = {}
    for spec in store.model_specs():
        folder = LLMTrader.documents_source(spec.agent, spec.params)
        if folder is not None and spec.signature in enabled:
            out.setdefault(folder, []).append(spec.signature)
    return dict(sorted(out.items()))


def ingest_documents(store: ResultStore, clock: Clock = SYSTEM_CLOCK) -> DocumentsIngest:
    """Read and store every source; a source that does not load keeps its stored
    documents (named in `failed`) and never blocks the others."""
    now = clock.now()
    ingested_at = now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)
    out = DocumentsIngest(ingested_at)
    for folder in documents_sources(store):
        try:
            docs: list[Document] = load_documents(folder)
        except TradingAssetsError as exc:
            out.failed[folder] = str(exc)
            continue
        out.stored[folder] = write_documents(store, folder, docs, ingested_at)
        out.future += dated_after_ingestion(docs, ingested_at)
        out.duplicates += duplicates(docs)
    return out
