"""The LLM lane: (view, symbol, position) -> LaneSignal | LaneFailure, with a cache.

The cache is a plain dict keyed by (endpoint cache identity, prompt hash). Because the
prompt is built only from point-in-time data, the same model-day always hits the same
key, so a re-run pays nothing. Successful answers, and answers with an unknown rating,
are cached; failures are not, so a re-run with the provider back fills the lane in.
`new_entries()` hands the answers added by this lane to the store, which writes them in
the same transaction as the model-day's results.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from trading_assets.kernel.lanes import LaneFailure, LaneSignal
from trading_assets.kernel.ratings import lane_from_llm_rating
from trading_assets.kernel.reasons import PROVIDER_AUTH_FAILED
from trading_assets.llm.answer import CachedAnswer, parse_answer
from trading_assets.llm.client import ChatClient, HttpChatClient, LLMError
from trading_assets.llm.endpoint import LLMEndpoint
from trading_assets.llm.prompt import build_messages, prompt_hash
from trading_assets.market.view import PointInTimeView
from trading_assets.vocab import SYSTEM_CLOCK, Clock

CacheKey = tuple[str, str]  # (endpoint.cache_identity(), prompt_hash)
LLMCache = dict[CacheKey, CachedAnswer]

# Failures whose reason is also a data_quality state of the contract.
_DATA_QUALITY = {PROVIDER_AUTH_FAILED: PROVIDER_AUTH_FAILED}


@dataclass(frozen=True, slots=True)
class LaneStats:
    hits: int = 0
    misses: int = 0  # answers requested from the endpoint (whatever came back)
    unknown_ratings: int = 0
    failures: Mapping[str, int] = field(default_factory=lambda: MappingProxyType({}))


class LLMLane:
    def __init__(
        self,
        endpoint: LLMEndpoint,
        client: ChatClient | None = None,
        cache: LLMCache | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ):
        self.endpoint = endpoint
        self._owns_client = client is None
        self.client: ChatClient = client if client is not None else HttpChatClient(endpoint)
        self.cache: LLMCache = cache if cache is not None else {}
        self.model = endpoint.cache_identity()
        self._clock = clock
        self._new: LLMCache = {}
        self._hits = self._misses = self._unknown = 0
        self._failures: Counter[str] = Counter()

    def __repr__(self) -> str:
        return f"LLMLane({self.model!r}, cached={len(self.cache)}, new={len(self._new)})"

    def __enter__(self) -> LLMLane:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP client if this lane created it."""
        if self._owns_client and isinstance(self.client, HttpChatClient):
            self.client.close()

    def signal(
        self, view: PointInTimeView, symbol: str, shares_held: float
    ) -> tuple[LaneSignal | LaneFailure, str | None]:
        """The lane's signal for `symbol` on the view's date, and the model's rationale."""
        messages = build_messages(view, symbol, shares_held)
        key = (self.model, prompt_hash(messages))
        cached = self.cache.get(key)
        if cached is not None and cached.rating is not None:
            self._hits += 1
            return lane_from_llm_rating(cached.rating), cached.rationale
        self._misses += 1
        try:
            # The answer and errors go to the store as they are: it scrubs what it writes
            # (after decoding); parse_answer scrubs only what it cuts (a preview, a long
            # rationale), so that no part of a key is left by the cut.
            content = self.client.complete(messages)
            answer = parse_answer(content, where=self.model, secrets=[self.endpoint.secret()])
        except LLMError as exc:
            self._failures[exc.reason_code] += 1
            failure = LaneFailure(
                source="llm",
                reason_code=exc.reason_code,
                data_quality=_DATA_QUALITY.get(exc.reason_code),
                error=str(exc),
            )
            return failure, None
        entry = CachedAnswer(answer.rating, answer.rationale, content, self._clock.now())
        self.cache[key] = entry
        self._new[key] = entry
        lane = lane_from_llm_rating(answer.rating)
        if lane.reason_code is not None:
            self._unknown += 1
        return lane, answer.rationale

    def new_entries(self) -> LLMCache:
        """Answers cached since construction (a copy), for the store."""
        return dict(self._new)

    @property
    def stats(self) -> LaneStats:
        return LaneStats(
            hits=self._hits,
            misses=self._misses,
            unknown_ratings=self._unknown,
            failures=MappingProxyType(dict(self._failures)),
        )
