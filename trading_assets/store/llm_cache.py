"""The LLM answer cache in DuckDB: one row per (endpoint cache identity, prompt hash).

The caller owns the connection and the transaction: `save_llm_cache` issues plain
statements so the store can write the answers together with the model-day's results.
The table holds no API key (the model column is `LLMEndpoint.cache_identity()`).
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from trading_assets.llm.answer import CachedAnswer

CacheKey = tuple[str, str]

# Same columns as the store's migration 1; IF NOT EXISTS so it is safe on a migrated store.
LLM_CACHE_DDL = """
CREATE TABLE IF NOT EXISTS llm_cache (
    model VARCHAR NOT NULL, prompt_hash VARCHAR NOT NULL, rating VARCHAR,
    rationale VARCHAR, raw_content VARCHAR, created_at TIMESTAMP,
    PRIMARY KEY (model, prompt_hash))
"""

# One statement with column lists as parameters: executemany costs ~3 ms per row here.
_UPSERT = """
INSERT OR REPLACE INTO llm_cache (model, prompt_hash, rating, rationale, raw_content, created_at)
SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
       unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::TIMESTAMP[])
"""

_SELECT = """
SELECT prompt_hash, rating, rationale, raw_content, created_at
FROM llm_cache WHERE model = ?
"""

_TABLE_EXISTS = """
SELECT count(*) FROM information_schema.tables
WHERE table_name = 'llm_cache' AND table_schema = current_schema()
  AND table_catalog = current_database()
"""


def load_llm_cache(con: duckdb.DuckDBPyConnection, model: str) -> dict[CacheKey, CachedAnswer]:
    """Every cached answer for one endpoint identity; empty when the table does not exist."""
    (exists,) = con.execute(_TABLE_EXISTS).fetchone() or (0,)
    if not exists:
        return {}
    return {
        (model, prompt_hash): CachedAnswer(rating, rationale, raw_content, created_at)
        for prompt_hash, rating, rationale, raw_content, created_at in con.execute(
            _SELECT, [model]
        ).fetchall()
    }


def save_llm_cache(con: duckdb.DuckDBPyConnection, entries: Mapping[CacheKey, CachedAnswer]) -> int:
    """Upsert `entries` (idempotent); returns how many rows were written."""
    if not entries:
        return 0
    con.execute(LLM_CACHE_DDL)
    keys, answers = list(entries), list(entries.values())
    con.execute(
        _UPSERT,
        [
            [model for model, _ in keys],
            [prompt_hash for _, prompt_hash in keys],
            [a.rating for a in answers],
            [a.rationale for a in answers],
            [a.raw_content for a in answers],
            [a.created_at for a in answers],
        ],
    )
    return len(entries)
