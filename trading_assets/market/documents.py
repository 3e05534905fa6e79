"""Point-in-time documents: what `get_information` may show an agent on day D.

A source is a folder of `*.jsonl` (one JSON object a line) or `*.parquet` files with
the fields `published_at` (ISO 8601 with a time zone), `symbols` (a list, or a
comma-separated string), `title`, `body`, `source` and `url` (optional). Loading
rejects a bad row naming file:line: above all a document without a date or without a
time zone, since the legacy search let undated results through and an undated item is
exactly the one that may come from the future.

`DocumentIndex.search(query, before=)` ranks by BM25 (bm25s) over title and body, and
returns only documents published strictly before `before` (D's open in exchange time,
`market.calendar.session_open`): the k most relevant, newest first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from pathlib import Path

import bm25s
import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from trading_assets.errors import MarketDataError
from trading_assets.market.parquet import read_parquet_records

SUFFIXES = (".jsonl", ".parquet")
FIX = (
    "give every row published_at with a time zone (2025-10-01T13:30:00Z), a title and a "
    "body; symbols is a list or a comma-separated string"
)


class Document(BaseModel):
    """One dated item, with where it was read (provenance)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    doc_id: str
    published_at: dt.datetime
    symbols: tuple[str, ...]
    title: str
    body: str
    source: str
    url: str | None = None
    file: str
    line: int

    @field_validator("published_at")
    @classmethod
    def _zoned(cls, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("published_at has no time zone (it could be any hour of the day)")
        return value.astimezone(dt.UTC)


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    published_at: dt.datetime
    symbols: tuple[str, ...] = ()
    title: str
    body: str
    source: str = ""
    url: str | None = None

    @field_validator("symbols", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if value is None:
            return ()
        if isinstance(value, str):
            return tuple(s.strip().upper() for s in value.split(",") if s.strip())
        return tuple(str(s).strip().upper() for s in value)  # type: ignore[union-attr]


def document_id(row: _Row) -> str:
    """Stable identity of an item: the same item read twice is a duplicate, not two."""
    key = "\x1f".join([row.source, row.url or "", row.title, row.published_at.isoformat()])
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def load_documents(folder: str | Path) -> list[Document]:
    """Every document of a folder source, in file and line order; MarketDataError naming
    file:line for the first bad row."""
    root = Path(folder)
    if not root.is_dir():
        raise MarketDataError(
            "documents folder not found",
            where=str(root),
            fix="set documents to a folder of .jsonl or .parquet files",
        )
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in SUFFIXES)
    if not files:
        raise MarketDataError(
            "no .jsonl or .parquet document files found",
            where=str(root),
            fix="put one or more .jsonl or .parquet files of documents there",
        )
    docs: list[Document] = []
    for path in files:
        docs += [_document(path, line, raw) for line, raw in _records(path)]
    return docs


def _records(path: Path) -> Iterable[tuple[int, object]]:
    if path.suffix.lower() == ".parquet":
        yield from enumerate(read_parquet_records(path), start=1)
        return
    with path.open(encoding="utf-8") as lines:
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                yield number, json.loads(text)
            except json.JSONDecodeError as exc:
                raise MarketDataError(
                    f"not a JSON object ({exc.msg})", where=f"{path}:{number}", fix=FIX
                ) from None


def _document(path: Path, line: int, raw: object) -> Document:
    where = f"{path}:{line}"
    if not isinstance(raw, dict):
        raise MarketDataError("not a JSON object", where=where, fix=FIX)
    try:
        row = _Row.model_validate(raw)
        return Document(doc_id=document_id(row), **row.model_dump(), file=str(path), line=line)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "row"
        message = err["msg"].removeprefix("Value error, ")
        raise MarketDataError(f"{field}: {message}", where=where, fix=FIX) from None


class DocumentIndex:
    """BM25 over a source's documents; every search is cut at a point in time."""

    def __init__(self, documents: Sequence[Document]):
        self.documents = tuple(documents)
        self._published = np.array(
            [d.published_at.timestamp() for d in self.documents], dtype=float
        )
        self._bm25 = bm25s.BM25()
        if self.documents:
            corpus = [f"{d.title}\n{d.body}" for d in self.documents]
            self._bm25.index(_tokens(corpus), show_progress=False)

    def search(self, query: str, *, before: dt.datetime, k: int = 5) -> list[Document]:
        """The k most relevant documents published strictly before `before` (which must
        carry a time zone), newest first; none for a query matching nothing."""
        if before.tzinfo is None:
            raise ValueError("search(before=) needs a time zone")
        words = _tokens([query], ids=False)[0]
        if not self.documents or not words:
            return []
        scores = np.asarray(self._bm25.get_scores(words), dtype=float)
        known = self._published < before.timestamp()
        ranked = [i for i in np.argsort(-scores, kind="stable") if known[i] and scores[i] > 0]
        chosen = [self.documents[i] for i in ranked[:k]]
        return sorted(chosen, key=lambda d: d.published_at, reverse=True)


def _tokens(texts: list[str], ids: bool = True):
    return bm25s.tokenize(texts, stopwords="en", show_progress=False, return_ids=ids)


def dated_after_ingestion(docs: Sequence[Document], ingested_at: dt.datetime) -> list[str]:
    """Documents published after the moment they were read: impossible for a real
    archive, and exactly what would leak the future into a backtest."""
    return [
        f"{d.file}:{d.line}: published {d.published_at.isoformat()}, after its ingestion "
        f"at {ingested_at.astimezone(dt.UTC).isoformat()}"
        for d in docs
        if d.published_at > ingested_at
    ]


def duplicates(docs: Sequence[Document]) -> list[str]:
    """Items read more than once (same source, url, title and time), naming each copy."""
    first: dict[str, Document] = {}
    found = []
    for d in docs:
        if d.doc_id in first:
            seen = first[d.doc_id]
            found.append(f"{d.file}:{d.line}: duplicates {seen.file}:{seen.line} ({d.title!r})")
        else:
            first[d.doc_id] = d
    return found
