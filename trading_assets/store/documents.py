"""Documents in the store: each source's items with their provenance (file, line, when
they were ingested), replaced whole per source in one transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import duckdb

from trading_assets.market.documents import Document
from trading_assets.store.results import ResultStore
from trading_assets.vocab import CONTRACT_VERSION

COLUMNS = "file, line, doc_id, published_at, symbols, title, body, doc_source, url, ingested_at"
_INSERT = f"""
INSERT INTO documents (source, {COLUMNS}, contract_version)
SELECT ?, unnest(?::VARCHAR[]), unnest(?::INTEGER[]), unnest(?::VARCHAR[]),
       unnest(?::TIMESTAMPTZ[]), unnest(?::VARCHAR[][]), unnest(?::VARCHAR[]),
       unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), ?, ?
"""


def write_documents(
    store: ResultStore, source: str, docs: Sequence[Document], ingested_at: dt.datetime
) -> int:
    """Replace `source`'s documents; return how many were stored."""
    columns = [
        [d.file for d in docs],
        [d.line for d in docs],
        [d.doc_id for d in docs],
        [d.published_at for d in docs],
        [list(d.symbols) for d in docs],
        [d.title for d in docs],
        [d.body for d in docs],
        [d.source for d in docs],
        [d.url for d in docs],
    ]
    with store.connect() as con:
        con.execute("BEGIN")
        con.execute("DELETE FROM documents WHERE source = ?", [source])
        if docs:
            con.execute(_INSERT, [source, *columns, ingested_at, CONTRACT_VERSION])
        con.execute("COMMIT")
    return len(docs)


def load_documents(store: ResultStore, source: str) -> tuple[list[Document], dt.datetime | None]:
    """A source's stored documents in file and line order, and when they were ingested
    (None: never)."""
    with store.connect() as con:
        return stored_documents(con, source)


def stored_documents(
    con: duckdb.DuckDBPyConnection, source: str
) -> tuple[list[Document], dt.datetime | None]:
    """load_documents on an open connection (a run's one read of the store)."""
    rows = con.execute(
        f"SELECT {COLUMNS} FROM documents WHERE source = ? ORDER BY file, line", [source]
    ).fetchall()
    docs = [
        Document(
            file=file,
            line=line,
            doc_id=doc_id,
            published_at=published_at,
            symbols=tuple(symbols),
            title=title,
            body=body,
            source=doc_source,
            url=url,
        )
        for file, line, doc_id, published_at, symbols, title, body, doc_source, url, _ in rows
    ]
    return docs, (rows[0][-1] if rows else None)
