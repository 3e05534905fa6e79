"""Everything one model's run reads from the store, on one connection.

The run then simulates with no connection open and writes its results, new LLM
answers and parity outcomes in one transaction (`ResultStore.write_results(..., also=)`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb

from trading_assets.agents.llm_trader import LLMTrader
from trading_assets.config import ModelSpec, source_id
from trading_assets.engine.simulate import StartState
from trading_assets.errors import StoreError
from trading_assets.llm.answer import CachedAnswer
from trading_assets.llm.endpoint import LLMEndpoint
from trading_assets.llm.lane import CacheKey
from trading_assets.market.documents import Document
from trading_assets.market.history import PriceHistory
from trading_assets.store.documents import stored_documents
from trading_assets.store.llm_cache import load_llm_cache
from trading_assets.store.market import has_corporate_actions, load_prices, source_load_error
from trading_assets.store.models import ModelDisabled, chain_conflict, disabled_models
from trading_assets.store.parity import has_legacy_record, legacy_lines
from trading_assets.store.results import ResultStore, read_spec, start_state


@dataclass(frozen=True)
class RunInputs:
    spec: ModelSpec
    history: PriceHistory  # the model's universe of its market data source
    start: StartState
    endpoint: LLMEndpoint | None  # the model's LLM endpoint; None: no LLM lane
    llm_cache: dict[CacheKey, CachedAnswer]
    legacy: tuple[list[tuple], dict] | None  # legacy lines and closes; None: no parity
    source_error: str | None = None  # why market_prices could not reload the source
    documents: tuple[Document, ...] | None = None  # llm_trader's get_information source
    llm_spent: tuple[int, float] = (0, 0.0)  # tokens and USD of the stored days kept


def load_run(
    store: ResultStore,
    model: str,
    first: dt.date,
    previous: dt.date | None,
    *,
    histories: dict[str, PriceHistory],
    endpoint_for: Callable[[ModelSpec], LLMEndpoint | None],
    parity_dates: Sequence[dt.date] | None = None,
    last: dt.date | None = None,
) -> RunInputs:
    """Spec, prices and their corporate actions (once per source: `histories` is shared
    by a run's models), start state, LLM cache, and the legacy record when parity is
    asked for and one exists.

    Refused (StoreError) before anything runs: a disabled model (ModelDisabled), and a run
    of [first, last] that would splice the spec's config into a chain stored with another.
    """
    with store.connect() as con:
        spec = read_spec(con, model, store.path)
        if model in disabled_models(con):
            raise ModelDisabled(
                "model is disabled",
                where=f"model {model}",
                fix=f"trading-assets models enable {model}, or leave it out of the run",
            )
        conflict = chain_conflict(con, model, spec.config_hash, first, last)
        if conflict is not None:
            raise conflict.error(spec.config_hash)
        key = source_id(spec.market_data)
        if key not in histories:
            histories[key] = load_prices(con, key, store.path)
        if spec.corporate_actions == "apply" and has_corporate_actions(con, key) is None:
            raise StoreError(
                f"the prices of {key!r} were stored before the store kept corporate actions",
                where=str(store.path),
                fix="re-materialize market_prices (trading-assets backfill does), or set "
                "corporate_actions: ignore in the models config",
            )
        source_error = source_load_error(con, key)
        start = start_state(con, spec, first, previous)
        endpoint = endpoint_for(spec)
        cache = load_llm_cache(con, endpoint.cache_identity()) if endpoint is not None else {}
        legacy = None
        if parity_dates and has_legacy_record(con, model):
            legacy = legacy_lines(con, spec, parity_dates)
        documents = None
        folder = LLMTrader.documents_source(spec.agent, spec.params)
        if folder is not None:
            docs, ingested_at = stored_documents(con, folder)
            if ingested_at is None:
                raise StoreError(
                    f"the documents of {folder} are not in the store",
                    where=f"model {model}: params.documents",
                    fix="materialize the documents asset (trading-assets backfill does) "
                    "before the model's days",
                )
            documents = tuple(docs)
        spent = (0, 0.0)
        if spec.agent == LLMTrader.name:
            spent = spent_outside(con, model, first, last or first)
    history = histories[key].select(spec.universe) if spec.universe else histories[key]
    return RunInputs(spec, history, start, endpoint, cache, legacy, source_error, documents, spent)


def spent_outside(
    con: duckdb.DuckDBPyConnection, model: str, first: dt.date, last: dt.date
) -> tuple[int, float]:
    """Tokens and cost (USD; 0 without prices) of the model's stored conversations that
    a run of [first, last] keeps (its own dates are replaced): what its budget has
    already spent."""
    tokens, cost = con.execute(
        "SELECT coalesce(sum(total_tokens), 0), coalesce(sum(cost_usd), 0) FROM llm_usage "
        "WHERE model = ? AND (date < ? OR date > ?)",
        [model, first, last],
    ).fetchone()
    return int(tokens), float(cost)
