"""Strict parsing of the model's answer, and the cached form of a parsed answer.

The content must be one JSON object with exactly two string fields, `rating` and
`rationale`; anything else is `llm_unparseable`. One tolerance, on purpose: a single
Markdown fence around the whole object (```json ... ```), because servers that ignore
`response_format` (llama.cpp, Ollama with some models) often wrap JSON that way. Text
outside the fence is still rejected. A rating outside the five tiers parses fine here;
the kernel's `lane_from_llm_rating` turns it into HOLD with `llm_unknown_rating`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trading_assets.kernel.lanes import RATINGS
from trading_assets.kernel.reasons import LLM_UNPARSEABLE
from trading_assets.llm.client import LLMError
from trading_assets.llm.scrub import scrub

__all__ = ["RATINGS", "CachedAnswer", "LLMAnswer", "parse_answer"]
ANSWER_FIELDS = frozenset({"rating", "rationale"})
MAX_RATIONALE_CHARS = 1000  # a runaway model must not bloat the store
_FENCE = re.compile(r"\A```(?:json|JSON)?[ \t]*\n(?P<body>.*?)\n?```\Z", re.DOTALL)


@dataclass(frozen=True, slots=True)
class LLMAnswer:
    rating: str
    rationale: str


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """One answer as cached and stored: created_at is naive UTC (DuckDB TIMESTAMP).
    rating and rationale are None for an llm_trader's cached response (the whole chat
    completion is raw_content)."""

    rating: str | None
    rationale: str | None
    raw_content: str
    created_at: dt.datetime


def parse_answer(
    content: str, where: str | None = None, secrets: Sequence[str | None] = ()
) -> LLMAnswer:
    """The rating and rationale in `content`; `where` names the endpoint in errors.

    What is cut (the error's preview, a long rationale) is scrubbed of `secrets` first, so
    no part of a key survives the cut; the rest is scrubbed where it is stored."""
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group("body").strip()
    try:
        payload: Any = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except ValueError as exc:
        raise _unparseable(f"not JSON ({exc})", content, where, secrets) from None
    if not isinstance(payload, dict):
        raise _unparseable(
            f"a JSON {type(payload).__name__}, not an object", content, where, secrets
        )
    if set(payload) != ANSWER_FIELDS:
        raise _unparseable(
            f"fields {sorted(payload)}, expected exactly rating and rationale",
            content,
            where,
            secrets,
        )
    rating, rationale = payload["rating"], payload["rationale"]
    if not isinstance(rating, str) or not isinstance(rationale, str):
        raise _unparseable("rating and rationale must both be strings", content, where, secrets)
    rationale = rationale.strip()
    if len(rationale) > MAX_RATIONALE_CHARS:
        rationale = scrub(rationale, secrets)[: MAX_RATIONALE_CHARS - 1] + "…"
    return LLMAnswer(rating=rating.strip(), rationale=rationale)


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError(f"duplicate keys in {keys}")
    return dict(pairs)


def _unparseable(
    problem: str, content: str, where: str | None, secrets: Sequence[str | None]
) -> LLMError:
    preview = " ".join(scrub(content, secrets)[:120].split())
    return LLMError(
        LLM_UNPARSEABLE,
        f"the answer is {problem}: {preview!r}",
        where=where,
        fix='the model must reply {"rating": "BUY|OVERWEIGHT|HOLD|UNDERWEIGHT|SELL", '
        '"rationale": "..."}; try a model that supports JSON mode',
    )
