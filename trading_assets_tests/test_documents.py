"""Point-in-time documents: loading names the bad row, a search never returns what was
published at or after D's open, and the store keeps each item with its provenance."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pytest

from trading_assets.errors import MarketDataError
from trading_assets.market.calendar import session_open
from trading_assets.market.documents import (
    DocumentIndex,
    dated_after_ingestion,
    duplicates,
    load_documents,
)
from trading_assets.store.documents import load_documents as stored_documents
from trading_assets.store.documents import write_documents
from trading_assets.store.results import ResultStore

UTC = dt.UTC
OCT_1 = dt.date(2025, 10, 1)  # a Wednesday session: the open is 09:30 New York = 13:30 UTC

ROWS = [
    {
        "published_at": "2025-09-30T20:05:00-04:00",
        "symbols": ["AAPL"],
        "title": "Apple earnings beat, iPhone sales up",
        "body": "Apple reported quarterly earnings above estimates.",
        "source": "wire",
        "url": "https://example.test/a",
    },
    {
        "published_at": "2025-10-01T13:29:59Z",
        "symbols": "msft, nvda",
        "title": "Microsoft cloud growth slows",
        "body": "Azure growth came in below estimates; Nvidia supplies slip.",
        "source": "wire",
        "url": None,
    },
    {  # at the open itself: not yet known at the open
        "published_at": "2025-10-01T09:30:00-04:00",
        "symbols": ["AAPL"],
        "title": "Apple opens higher on earnings",
        "body": "Apple shares open higher after earnings.",
        "source": "wire",
    },
    {
        "published_at": "2025-10-02T12:00:00Z",
        "symbols": ["AAPL"],
        "title": "Apple earnings: the day after",
        "body": "Analysts raise Apple targets after earnings.",
        "source": "wire",
    },
]


def write_jsonl(folder, rows, name="news.jsonl"):
    folder.mkdir(exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def test_load_reads_every_row_with_its_time_in_utc_and_symbols_as_a_list(tmp_path):
    docs = load_documents(write_jsonl(tmp_path / "docs", ROWS))
    assert [(d.line, d.published_at) for d in docs] == [
        (1, dt.datetime(2025, 10, 1, 0, 5, tzinfo=UTC)),
        (2, dt.datetime(2025, 10, 1, 13, 29, 59, tzinfo=UTC)),
        (3, dt.datetime(2025, 10, 1, 13, 30, tzinfo=UTC)),
        (4, dt.datetime(2025, 10, 2, 12, 0, tzinfo=UTC)),
    ]
    assert docs[1].symbols == ("MSFT", "NVDA")
    assert docs[0].file.endswith("news.jsonl")


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"title": "t", "body": "b"}, "published_at: Field required"),
        (
            {"published_at": "2025-10-01T10:00:00", "title": "t", "body": "b"},
            "published_at: published_at has no time zone",
        ),
        ({"published_at": "yesterday", "title": "t", "body": "b"}, "published_at: Input should"),
        ({"published_at": "2025-10-01T10:00:00Z", "body": "b"}, "title: Field required"),
    ],
)
def test_load_with_a_bad_row_names_its_file_and_line(tmp_path, bad, message):
    folder = write_jsonl(tmp_path / "docs", [ROWS[0], ROWS[1], bad])
    with pytest.raises(MarketDataError) as err:
        load_documents(folder)
    assert str(err.value).startswith(f"{folder / 'news.jsonl'}:3: {message}")
    assert "Fix: give every row published_at with a time zone" in str(err.value)


def test_load_with_a_line_that_is_not_json_names_it(tmp_path):
    folder = tmp_path / "docs"
    write_jsonl(folder, ROWS[:1])
    with (folder / "news.jsonl").open("a") as f:
        f.write("\n{not json\n")
    with pytest.raises(MarketDataError, match=r"news.jsonl:3: not a JSON object"):
        load_documents(folder)


def test_load_reads_parquet_with_zoned_timestamps(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    path = folder / "news.parquet"
    duckdb.execute(
        "COPY (SELECT TIMESTAMPTZ '2025-10-01 13:00:00+00' AS published_at, ['IBM'] AS symbols, "
        "'IBM wins contract' AS title, 'A large contract.' AS body, 'wire' AS source, "
        f"NULL::VARCHAR AS url) TO '{path}' (FORMAT parquet)"
    )
    [doc] = load_documents(folder)
    assert (doc.published_at, doc.symbols, doc.url, doc.line) == (
        dt.datetime(2025, 10, 1, 13, 0, tzinfo=UTC),
        ("IBM",),
        None,
        1,
    )


def test_search_before_the_open_returns_only_what_was_published_before_it(tmp_path):
    index = DocumentIndex(load_documents(write_jsonl(tmp_path / "docs", ROWS)))
    open_ = session_open(OCT_1)
    assert open_ == dt.datetime(2025, 10, 1, 13, 30, tzinfo=UTC)
    found = index.search("apple earnings", before=open_)
    # lines 3 (at the open) and 4 (the next day) are not known yet; line 2 is about
    # Microsoft and has neither word
    assert [d.line for d in found] == [1]
    later = index.search("apple earnings", before=session_open(dt.date(2025, 10, 3)))
    assert [d.line for d in later] == [4, 3, 1]  # newest first


def test_search_keeps_the_k_most_relevant_then_orders_them_newest_first(tmp_path):
    index = DocumentIndex(load_documents(write_jsonl(tmp_path / "docs", ROWS)))
    cutoff = session_open(dt.date(2025, 10, 3))
    [best] = index.search("microsoft azure cloud", before=cutoff, k=1)
    assert best.line == 2
    assert index.search("zebra", before=cutoff) == []
    assert index.search("", before=cutoff) == []


def test_search_without_a_time_zone_is_refused(tmp_path):
    index = DocumentIndex(load_documents(write_jsonl(tmp_path / "docs", ROWS)))
    with pytest.raises(ValueError, match="time zone"):
        index.search("apple", before=dt.datetime(2025, 10, 1, 13, 30))


def test_store_keeps_each_document_with_provenance_and_replaces_a_source_whole(tmp_path, stores):
    store = ResultStore(stores.new())
    docs = load_documents(write_jsonl(tmp_path / "docs", ROWS))
    ingested = dt.datetime(2025, 10, 5, 8, 0, tzinfo=UTC)
    assert write_documents(store, "news", docs, ingested) == 4
    back, when = stored_documents(store, "news")
    assert back == docs
    assert when == ingested
    write_documents(store, "news", docs[:1], ingested)
    assert [d.line for d in stored_documents(store, "news")[0]] == [1]


def test_quality_flags_documents_dated_after_their_ingestion_and_duplicates(tmp_path):
    rows = [*ROWS, ROWS[0]]  # line 5 repeats line 1
    docs = load_documents(write_jsonl(tmp_path / "docs", rows))
    ingested = dt.datetime(2025, 10, 1, 20, 0, tzinfo=UTC)
    path = tmp_path / "docs" / "news.jsonl"
    assert dated_after_ingestion(docs, ingested) == [
        f"{path}:4: published 2025-10-02T12:00:00+00:00, after its ingestion at "
        "2025-10-01T20:00:00+00:00"
    ]
    assert duplicates(docs) == [
        f"{path}:5: duplicates {path}:1 ('Apple earnings beat, iPhone sales up')"
    ]
