"""The llm_trader's model-day: one tool-calling conversation, as AI-Trader's agent had.

The opening messages are the prompt template filled with what is known at D's open
(today's date, yesterday's closing positions with CASH, yesterday's closes, today's
opens, the stop signal) and the legacy user message. Then, up to `max_steps` times: send
the whole conversation with the tools (`tools`), run every `tool_calls` entry of the
answer on the day's TradingDesk and append each result as a `role: tool` message. The
day ends when an answer contains `<FINISH_SIGNAL>`, when an answer has no tool calls, or
after `max_steps` answers.

Every request is cached by the hash of the whole request body (model, messages, tools,
temperature, seed) under the endpoint's cache identity; a hit sends nothing and replays
the stored response (with the latency it had), so a re-run of stored days reproduces
the conversation, and a changed template, tool set or model misses. Failed calls are
not cached. A provider failure (after the client's retries) ends the day with the
failure recorded; the agent applies the model's `on_failure` policy.

No Dagster, no store: the session hands its new cache entries and the days'
transcripts to the run, which stores them in the model-day's own transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import string
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from trading_assets.kernel.reasons import LLM_UNPARSEABLE
from trading_assets.llm.answer import CachedAnswer
from trading_assets.llm.client import HttpChatClient, LLMError
from trading_assets.llm.endpoint import LLMEndpoint
from trading_assets.llm.prompt import canonical_hash
from trading_assets.llm.scrub import scrub
from trading_assets.llm.trader_tools import TOOL_SCHEMAS, TradingDesk
from trading_assets.market.view import PointInTimeView
from trading_assets.portfolio.orders import Order
from trading_assets.portfolio.step import NO_FEES, Fees, PortfolioState
from trading_assets.vocab import SYSTEM_CLOCK, Clock

FINISH_SIGNAL = "<FINISH_SIGNAL>"
USER_MESSAGE = "Please analyze and update today's ({date}) positions."
# the legacy prompt's placeholders: a prompt written for AI-Trader keeps working
TEMPLATE_FIELDS = ("date", "positions", "yesterday_close_price", "today_buy_price", "STOP_SIGNAL")
DEFAULT_TEMPLATE = """\
You are a stock trading agent managing a long-only portfolio of US equities.

Your goals:
- Think and reason by calling the available tools.
- Consider the prices of the stocks in the universe and their returns.
- Your long-term goal is to maximize the portfolio's return.

Rules:
- You trade only through the buy and sell tools: whole shares, filled at today's open.
- Nothing after today's open is known: get_price_local answers earlier days in full and
  today's open only.
- You do not need permission to trade; call the tools directly.

Today's date: {date}
Yesterday's closing positions (shares per symbol, and CASH): {positions}
Yesterday's closing prices: {yesterday_close_price}
Today's buying prices (the opens): {today_buy_price}

When your work for today is complete, output {STOP_SIGNAL}
"""

EndReason = Literal["finish_signal", "no_tool_calls", "max_steps", "provider_failed"]


def check_template(text: str) -> None:
    """ValueError unless `text` is a str.format template using exactly the legacy fields."""
    try:
        used = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ValueError(
            f"the prompt template is not a valid format string ({exc}); "
            "write literal braces as {{ and }}"
        ) from None
    unknown = sorted(used - set(TEMPLATE_FIELDS))
    missing = [f for f in TEMPLATE_FIELDS if f not in used]
    if unknown or missing:
        problems = ([f"unknown placeholders {unknown}"] if unknown else []) + (
            [f"missing placeholders {missing}"] if missing else []
        )
        raise ValueError(
            f"the prompt template has {' and '.join(problems)}; it must use each of "
            + ", ".join("{" + f + "}" for f in TEMPLATE_FIELDS)
        )


@dataclass(frozen=True, slots=True)
class TraderSettings:
    template: str = DEFAULT_TEMPLATE
    max_steps: int = 30
    seed: int | None = None
    prompt_price_per_million: float | None = None  # USD per million prompt tokens
    completion_price_per_million: float | None = None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """One message of the conversation, as sent or received (reasoning_logs)."""

    step: int  # 0: the opening messages; n: the n-th answer and the tool results after it
    role: str
    content: str | None
    tool_calls: str | None = None  # an answer's tool_calls as JSON
    tool_call_id: str | None = None  # a tool result's call
    prompt_tokens: int | None = None  # an answer's usage
    completion_tokens: int | None = None
    total_tokens: int | None = None
    latency_ms: float | None = None  # an answer's request time (retries included)
    finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class ToolRecord:
    """One tool call and its result (tool_usage)."""

    step: int
    tool_call_id: str
    name: str
    arguments: str  # as the model sent them (maybe not JSON)
    result: str
    error: str | None
    refusal: str | None  # after_open / future_date: a look-ahead attempt
    latency_ms: float


@dataclass(frozen=True)
class DayTranscript:
    date: dt.date
    endpoint: str  # the endpoint's cache identity (model@host), never the key
    messages: tuple[MessageRecord, ...]
    tools: tuple[ToolRecord, ...]
    orders: tuple[Order, ...]  # confirmed by the tools (filled only when the day succeeds)
    final_text: str | None
    end_reason: EndReason
    steps: int  # answers used
    requests: int  # requests sent (cache misses)
    cache_hits: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    latency_ms: float
    cost_usd: float | None
    failure: LLMError | None = None

    @property
    def tool_errors(self) -> int:
        return sum(t.error is not None for t in self.tools)

    @property
    def lookahead_refusals(self) -> int:
        return sum(t.refusal is not None for t in self.tools)


def opening_messages(
    template: str, view: PointInTimeView, desk: TradingDesk
) -> list[dict[str, Any]]:
    """The system prompt (the template filled in) and the legacy user message."""
    symbols = view.symbols
    system = template.format(
        date=view.date.isoformat(),
        positions=_json(desk.positions(desk.start)),
        yesterday_close_price=_json({s: _price(view.last_close(s)) for s in symbols}),
        today_buy_price=_json({s: _price(view.open(s)) for s in symbols}),
        STOP_SIGNAL=FINISH_SIGNAL,
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": USER_MESSAGE.format(date=view.date.isoformat())},
    ]


@dataclass
class _Usage:
    requests: int = 0
    hits: int = 0
    prompt: int = 0
    completion: int = 0
    total: int = 0
    latency_ms: float = 0.0


class TraderSession:
    """An endpoint, its client and the request cache, for one model's run of days."""

    def __init__(
        self,
        endpoint: LLMEndpoint,
        client: HttpChatClient | None = None,
        cache: dict[tuple[str, str], CachedAnswer] | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ):
        self.endpoint = endpoint
        self._owns_client = client is None
        self.client = client if client is not None else HttpChatClient(endpoint)
        self.cache = cache if cache is not None else {}
        self.identity = endpoint.cache_identity()
        self._clock = clock
        self._new: dict[tuple[str, str], CachedAnswer] = {}
        self.days: list[DayTranscript] = []

    def __enter__(self) -> TraderSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def new_entries(self) -> dict[tuple[str, str], CachedAnswer]:
        """Responses cached since construction (a copy), for the store."""
        return dict(self._new)

    def run_day(
        self,
        view: PointInTimeView,
        portfolio: PortfolioState,
        settings: TraderSettings,
        fees: Fees = NO_FEES,
    ) -> DayTranscript:
        """The day's conversation; recorded in `days` whatever its end."""
        desk = TradingDesk(view, portfolio, fees)
        messages = opening_messages(settings.template, view, desk)
        records = [MessageRecord(0, m["role"], m["content"]) for m in messages]
        tools: list[ToolRecord] = []
        usage, final_text, failure = _Usage(), None, None
        end: EndReason = "max_steps"
        steps = 0
        for step in range(1, settings.max_steps + 1):
            body: dict[str, Any] = {
                "model": self.endpoint.model,
                "messages": messages,
                "tools": list(TOOL_SCHEMAS),
                "temperature": self.endpoint.temperature,
            }
            if settings.seed is not None:
                body["seed"] = settings.seed
            try:
                payload, latency_ms = self._complete(body, usage, step)
                message, calls = _message(payload, self.identity, step)
            except LLMError as exc:
                failure, end = exc, "provider_failed"
                break
            steps = step
            tokens = _tokens(payload)
            usage.prompt += tokens[0]
            usage.completion += tokens[1]
            usage.total += tokens[2]
            content = message.get("content")
            content = content if isinstance(content, str) else None
            if content:
                final_text = content
            sent: dict[str, Any] = {"role": "assistant", "content": content}
            if calls:
                sent["tool_calls"] = calls
            messages = [*messages, sent]
            records.append(
                MessageRecord(
                    step,
                    "assistant",
                    content,
                    tool_calls=_json(calls) if calls else None,
                    prompt_tokens=tokens[0],
                    completion_tokens=tokens[1],
                    total_tokens=tokens[2],
                    latency_ms=latency_ms,
                    finish_reason=_finish_reason(payload),
                )
            )
            for call in calls:
                fn = call.get("function") or {}
                name, arguments = fn.get("name"), fn.get("arguments", "")
                name = name if isinstance(name, str) else ""
                started = time.perf_counter()
                outcome = desk.call(name, arguments)
                took = (time.perf_counter() - started) * 1000.0
                raw_args = arguments if isinstance(arguments, str) else _json(arguments)
                tools.append(
                    ToolRecord(
                        step,
                        call["id"],
                        name,
                        raw_args,
                        outcome.content,
                        outcome.error,
                        outcome.refusal,
                        took,
                    )
                )
                reply = {"role": "tool", "tool_call_id": call["id"], "content": outcome.content}
                messages = [*messages, reply]
                records.append(
                    MessageRecord(step, "tool", outcome.content, tool_call_id=call["id"])
                )
            if content and FINISH_SIGNAL in content:
                end = "finish_signal"
                break
            if not calls:
                end = "no_tool_calls"
                break
        transcript = DayTranscript(
            date=view.date,
            endpoint=self.identity,
            messages=tuple(records),
            tools=tuple(tools),
            orders=tuple(desk.orders),
            final_text=final_text,
            end_reason=end,
            steps=steps,
            requests=usage.requests,
            cache_hits=usage.hits,
            prompt_tokens=usage.prompt,
            completion_tokens=usage.completion,
            total_tokens=usage.total,
            latency_ms=usage.latency_ms,
            cost_usd=_cost(settings, usage.prompt, usage.completion),
            failure=failure,
        )
        self.days.append(transcript)
        return transcript

    def _complete(
        self, body: dict[str, Any], usage: _Usage, step: int
    ) -> tuple[dict[str, Any], float]:
        """The response to `body`: from the cache, or sent (and cached once it reads as
        an answer: a failed or unreadable one is not cached)."""
        key = (self.identity, canonical_hash(body))
        cached = self.cache.get(key)
        if cached is not None and cached.rating is None:
            stored = json.loads(cached.raw_content)
            usage.hits += 1
            usage.latency_ms += stored["latency_ms"]
            return stored["response"], stored["latency_ms"]
        usage.requests += 1
        started = time.perf_counter()
        try:
            payload = self.client.chat(body)
        finally:
            latency_ms = (time.perf_counter() - started) * 1000.0
            usage.latency_ms += latency_ms
        payload = self._scrubbed(payload)
        _message(payload, self.identity, step)  # unreadable tool calls: raise, uncached
        entry = CachedAnswer(
            None,
            None,
            json.dumps({"response": payload, "latency_ms": latency_ms}),
            self._clock.now(),
        )
        self.cache[key] = self._new[key] = entry
        return payload, latency_ms

    def _scrubbed(self, payload: dict[str, Any]) -> dict[str, Any]:
        """The response with every text the provider wrote scrubbed of credentials."""
        return _scrub_strings(payload, [self.endpoint.secret()])


def _scrub_strings(value: Any, secrets: list[str | None]) -> Any:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        return {k: _scrub_strings(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_strings(v, secrets) for v in value]
    return value


def _message(
    payload: Mapping[str, Any], where: str, step: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """choices[0].message and its tool calls (each with an id), or llm_unparseable."""
    message = payload["choices"][0]["message"]
    raw = message.get("tool_calls") or []
    if not isinstance(raw, list) or not all(
        isinstance(c, dict) and isinstance(c.get("function"), dict) for c in raw
    ):
        raise LLMError(
            LLM_UNPARSEABLE,
            f"answer {step}: tool_calls is not a list of function calls",
            where=where,
            fix="use a model and server that support OpenAI function calling (tools)",
        )
    calls = []
    for i, call in enumerate(raw):
        call_id = call.get("id") if isinstance(call.get("id"), str) else None
        calls.append({**call, "id": call_id or f"call_{step}_{i}", "type": "function"})
    return message, calls


def _tokens(payload: Mapping[str, Any]) -> tuple[int, int, int]:
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return 0, 0, 0
    values = [usage.get(k) for k in ("prompt_tokens", "completion_tokens", "total_tokens")]
    prompt, completion, total = (v if isinstance(v, int) and v >= 0 else 0 for v in values)
    return prompt, completion, total or prompt + completion


def _finish_reason(payload: Mapping[str, Any]) -> str | None:
    reason = payload["choices"][0].get("finish_reason")
    return reason if isinstance(reason, str) else None


def _cost(settings: TraderSettings, prompt: int, completion: int) -> float | None:
    p, c = settings.prompt_price_per_million, settings.completion_price_per_million
    if p is None or c is None:
        return None
    return (prompt * p + completion * c) / 1_000_000


def _price(value: float) -> float | None:
    return None if value != value else float(value)  # NaN: no bar


def _json(value: Any) -> str:
    return json.dumps(value, separators=(", ", ": "), allow_nan=False)
