"""The LLM answer cache in DuckDB: one row per (endpoint cache identity, prompt hash).

The caller owns the connection and the transaction: `save_llm_cache` issues plain
statements so the store can write the answers together with the model-day's results.
The table holds no API key (the model column is `LLMEndpoint.cache_identity()`).
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb

from trading_assets.llm.answer import CachedAnswer
from trading_assets.llm.lane import CacheKey

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


def load_llm_cache(con: duckdb.DuckDBPyConnection, model: str) -> dict[CacheKey, CachedAnswer]:
    """Every cached answer for one endpoint identity (the table comes with migration 1)."""
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
