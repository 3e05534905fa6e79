"""The HTTP client: one chat completion from an OpenAI-compatible endpoint.

Retries are bounded and only for what a later attempt can fix: timeouts, 429 and 5xx,
with exponential backoff (Retry-After honoured, capped). 401/403 and other 4xx fail at
once. Every failure is an LLMError carrying a reason code of the result contract; its
message names the endpoint and what to do, and never contains the API key.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

import httpx
import tenacity

from trading_assets.errors import TradingAssetsError
from trading_assets.kernel.reasons import (
    LLM_RATE_LIMITED,
    LLM_SERVER_ERROR,
    LLM_SIGNAL_FAILED,
    LLM_TIMEOUT,
    LLM_UNPARSEABLE,
    PROVIDER_API_KEY_MISSING,
    PROVIDER_AUTH_FAILED,
)
from trading_assets.llm.endpoint import LLMEndpoint
from trading_assets.llm.scrub import scrub
from trading_assets.vocab import SYSTEM_CLOCK

Messages = Sequence[Mapping[str, str]]
_SNIPPET_CHARS = 200


class LLMError(TradingAssetsError):
    """A failed LLM call: `reason_code` for the contract, `retryable` for the caller."""

    def __init__(
        self,
        reason_code: str,
        message: str,
        retryable: bool = False,
        *,
        where: str | None = None,
        fix: str | None = None,
    ):
        super().__init__(message, where=where, fix=fix)
        self.reason_code = reason_code
        self.retryable = retryable

    def __repr__(self) -> str:
        return f"LLMError({self.reason_code!r}, {str(self)!r}, retryable={self.retryable})"


class _Retry(Exception):
    """A retryable failure, and how long the server asked us to wait (Retry-After)."""

    def __init__(self, failure: LLMError, retry_after: float | None = None):
        super().__init__(str(failure))
        self.failure, self.retry_after = failure, retry_after


class ChatClient(Protocol):
    def complete(self, messages: Messages) -> str:
        """The assistant message's content; raises LLMError."""
        ...


class HttpChatClient:
    """Sync httpx client for one endpoint. The connection pool is opened on first use."""

    def __init__(
        self,
        endpoint: LLMEndpoint,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.endpoint = endpoint
        self._transport = transport
        self._sleep = sleep
        self._http: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"HttpChatClient({self.endpoint.cache_identity()!r})"

    def __enter__(self) -> HttpChatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def complete(self, messages: Messages) -> str:
        body = {
            "model": self.endpoint.model,
            "messages": [dict(m) for m in messages],
            "temperature": self.endpoint.temperature,
            "response_format": {"type": "json_object"},
        }
        return _content(self._send(body), self.endpoint.cache_identity())

    def chat(self, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST `body` (a whole chat-completions request, e.g. with `tools`) with the same
        retries; the response's JSON object, whose choices[0].message is an object."""
        response = self._send(dict(body))
        return _payload(response, self.endpoint.cache_identity())

    def _send(self, body: dict) -> httpx.Response:
        """The successful response to `body`, after bounded retries; raises LLMError."""
        ep = self.endpoint
        where = ep.cache_identity()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if ep.secret():
            headers["Authorization"] = f"Bearer {ep.secret()}"
        elif ep.needs_api_key:
            raise LLMError(
                PROVIDER_API_KEY_MISSING,
                f"no API key for {ep.host}",
                where=where,
                fix=f"set the environment variable {ep.api_key_env} (or llm.api_key_env)",
            )
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(ep.max_retries + 1),
            retry=tenacity.retry_if_exception_type(_Retry),
            wait=self._wait,
            sleep=self._sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._post(body, headers, attempt.retry_state.attempt_number - 1)
        except _Retry as exc:  # out of attempts: the last failure, as the user reads it
            raise exc.failure from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    def _post(self, body: dict, headers: dict[str, str], attempt: int) -> httpx.Response:
        """One request; a retryable failure raises _Retry (with the server's Retry-After)."""
        ep, where = self.endpoint, self.endpoint.cache_identity()
        try:
            response = self._client().post(ep.chat_url, json=body, headers=headers)
        except httpx.TimeoutException:
            raise _Retry(
                LLMError(
                    LLM_TIMEOUT,
                    f"no answer within {ep.timeout_seconds:g} s after {attempt + 1} attempt(s)",
                    retryable=True,
                    where=where,
                    fix="raise llm.timeout_seconds, or check the server's load",
                )
            ) from None
        except httpx.HTTPError as exc:
            raise LLMError(
                LLM_SIGNAL_FAILED,
                f"cannot reach {ep.chat_url}: {type(exc).__name__}",
                retryable=True,
                where=where,
                fix="check that the server is running and llm.base_url is right",
            ) from None
        if response.is_success:
            return response
        failure = self._status_failure(response, attempt, where)
        if not failure.retryable:
            raise failure
        raise _Retry(failure, _retry_after_seconds(response.headers.get("Retry-After")))

    def _wait(self, state: tenacity.RetryCallState) -> float:
        failure = state.outcome.exception() if state.outcome else None
        retry_after = failure.retry_after if isinstance(failure, _Retry) else None
        return self._delay(state.attempt_number - 1, retry_after)

    def _client(self) -> httpx.Client:
        if self._http is None:
            self._http = httpx.Client(
                timeout=httpx.Timeout(self.endpoint.timeout_seconds),
                transport=self._transport,
                # Proxy variables must not capture loopback / LAN traffic to a local server.
                trust_env=not self.endpoint.is_local,
            )
        return self._http

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        ep = self.endpoint
        wanted = retry_after if retry_after is not None else ep.backoff_seconds * 2**attempt
        return max(0.0, min(wanted, ep.retry_after_cap_seconds))

    def _status_failure(self, response: httpx.Response, attempt: int, where: str) -> LLMError:
        ep, status = self.endpoint, response.status_code
        snippet = self._snippet(response)
        if status in (401, 403):
            return LLMError(
                PROVIDER_AUTH_FAILED,
                f"HTTP {status} from {ep.host}: {snippet}",
                where=where,
                fix=f"check the key in {ep.api_key_env} and that it may use model {ep.model!r}",
            )
        tries = f"after {attempt + 1} attempt(s)"
        if status == 429:
            return LLMError(
                LLM_RATE_LIMITED,
                f"HTTP 429 (rate limited) from {ep.host} {tries}: {snippet}",
                retryable=True,
                where=where,
                fix="lower concurrency, raise llm.max_retries or backoff_seconds, or check quota",
            )
        if status >= 500:
            return LLMError(
                LLM_SERVER_ERROR,
                f"HTTP {status} from {ep.host} {tries}: {snippet}",
                retryable=True,
                where=where,
                fix="the provider is failing; re-run later (failed answers are not cached)",
            )
        return LLMError(
            LLM_SIGNAL_FAILED,
            f"HTTP {status} from {ep.chat_url}: {snippet}",
            where=where,
            fix="check llm.base_url (it usually ends in /v1) and llm.model",
        )

    def _snippet(self, response: httpx.Response) -> str:
        # Some providers echo the key or the request's headers; scrub before cutting,
        # or a key split by the cut would slip through.
        text = scrub(response.text, [self.endpoint.secret()])
        return " ".join(text.split())[:_SNIPPET_CHARS] or "(empty body)"


def _content(response: httpx.Response, where: str) -> str:
    """choices[0].message.content of a chat-completion body, or llm_unparseable."""
    _, message = _message(response)
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise _unparseable(response, where, "a text message")
    return content


def _payload(response: httpx.Response, where: str) -> dict[str, Any]:
    """The chat-completion object of a response whose choices[0].message is an object
    (content and tool_calls are the caller's to read), or llm_unparseable."""
    payload, message = _message(response)
    if not isinstance(message, dict):
        raise _unparseable(response, where, "a message")
    return payload


def _message(response: httpx.Response) -> tuple[Any, Any]:
    """(the body's JSON, its choices[0].message), the message None when there is none."""
    try:
        payload: Any = response.json()
        return payload, payload["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None, None


def _unparseable(response: httpx.Response, where: str, what: str) -> LLMError:
    return LLMError(
        LLM_UNPARSEABLE,
        f"the response is not a chat completion with {what} "
        f"(HTTP {response.status_code}, {len(response.content)} bytes)",
        where=where,
        fix="check that llm.base_url points at an OpenAI-compatible /v1 API",
    )


def _retry_after_seconds(value: str | None) -> float | None:
    """Retry-After as seconds (delta-seconds or an HTTP date); None when absent or invalid."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is not None:  # the clock is naive UTC
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return max(0.0, (when - SYSTEM_CLOCK.now()).total_seconds())
