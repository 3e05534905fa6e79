"""The LLM endpoint config and HTTP client against a real local OpenAI-style server.

Each failure mode maps to its reason code, retries happen only for timeouts, 429 and
5xx, and the API key goes out as a Bearer header but never shows in reprs or errors.
"""

from __future__ import annotations

import socket

import pytest

from trading_assets.errors import ConfigError
from trading_assets.llm.client import HttpChatClient, LLMError
from trading_assets.llm.endpoint import LLMEndpoint, endpoint_from_config

try:  # package layout (trading_assets_tests/__init__.py) or the repo root on sys.path
    from trading_assets_tests.openai_server import OpenAIServer, Reply
except ImportError:  # pytest's default "prepend" import of this folder
    from openai_server import OpenAIServer, Reply

KEY = "sk-test-SECRET-0123456789"
MESSAGES = [{"role": "user", "content": "Rate AAPL as JSON."}]


@pytest.fixture
def server():
    with OpenAIServer() as srv:
        yield srv


def endpoint(base_url: str, **overrides) -> LLMEndpoint:
    settings = {
        "base_url": base_url,
        "model": "test-model",
        "api_key": KEY,
        "timeout_seconds": 0.3,
        "max_retries": 2,
        "backoff_seconds": 0.01,
        "retry_after_cap_seconds": 0.05,
    }
    settings.update(overrides)
    return LLMEndpoint(**settings)


def call(ep: LLMEndpoint) -> tuple[str | None, LLMError | None, list[float]]:
    sleeps: list[float] = []
    with HttpChatClient(ep, sleep=sleeps.append) as client:
        try:
            return client.complete(MESSAGES), None, sleeps
        except LLMError as exc:
            assert KEY not in str(exc) and KEY not in repr(exc)
            return None, exc, sleeps


def test_client_with_scripted_answer_returns_content_and_sends_bearer_key(server):
    server.script(Reply.content('{"rating": "BUY", "rationale": "x"}'))
    content, error, _ = call(endpoint(server.base_url))
    assert error is None and content == '{"rating": "BUY", "rationale": "x"}'
    (request,) = server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.body == {
        "model": "test-model",
        "messages": MESSAGES,
        "temperature": 0.0,
        "response_format": {"type": "json_object"},
    }


def test_client_with_slow_answer_raises_llm_timeout_after_retries(server):
    server.set_default(Reply.rating("BUY").after(2.0))
    _, error, sleeps = call(endpoint(server.base_url, max_retries=1))
    assert error.reason_code == "llm_timeout" and error.retryable
    assert len(server.requests) == 2 and sleeps == [0.01]


@pytest.mark.parametrize("status", [401, 403])
def test_client_with_auth_rejection_raises_provider_auth_failed_without_retry(server, status):
    server.set_default(Reply.error(status, f"Incorrect API key provided: {KEY}"))
    _, error, sleeps = call(endpoint(server.base_url))
    assert error.reason_code == "provider_auth_failed" and not error.retryable
    assert len(server.requests) == 1 and sleeps == []
    assert "OPENAI_API_KEY" in str(error)  # says which variable to fix


def test_client_with_429_without_retry_after_backs_off_exponentially_then_rate_limited(server):
    server.set_default(Reply.error(429, "slow down"))
    _, error, sleeps = call(endpoint(server.base_url))
    assert error.reason_code == "llm_rate_limited" and error.retryable
    assert len(server.requests) == 3 and sleeps == [0.01, 0.02]


def test_client_with_429_and_long_retry_after_waits_the_capped_time(server):
    server.set_default(Reply.error(429, "slow down", retry_after="120"))
    _, error, sleeps = call(endpoint(server.base_url))
    assert error.reason_code == "llm_rate_limited"
    assert sleeps == [0.05, 0.05]


def test_client_with_429_and_short_retry_after_honours_it(server):
    server.script(Reply.error(429, "slow down", retry_after="0.03"), Reply.rating("SELL"))
    content, error, sleeps = call(endpoint(server.base_url))
    assert error is None and "SELL" in content and sleeps == [0.03]


def test_client_with_real_sleep_retries_429_within_the_cap(server):
    server.script(Reply.error(429, retry_after="1"), Reply.rating("BUY"))
    with HttpChatClient(endpoint(server.base_url)) as client:
        assert "BUY" in client.complete(MESSAGES)
    assert len(server.requests) == 2


def test_client_with_persistent_500_retries_then_raises_llm_server_error(server):
    server.set_default(Reply.error(500, "boom"))
    _, error, sleeps = call(endpoint(server.base_url))
    assert error.reason_code == "llm_server_error" and error.retryable
    assert len(server.requests) == 3 and sleeps == [0.01, 0.02]


def test_client_with_500_then_200_succeeds_after_one_retry(server):
    server.script(Reply.error(503, "overloaded"), Reply.rating("OVERWEIGHT"))
    content, error, sleeps = call(endpoint(server.base_url))
    assert error is None and "OVERWEIGHT" in content
    assert len(server.requests) == 2 and sleeps == [0.01]


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_with_other_4xx_raises_llm_signal_failed_without_retry(server, status):
    server.set_default(Reply.error(status, "model not found"))
    _, error, _ = call(endpoint(server.base_url))
    assert error.reason_code == "llm_signal_failed" and not error.retryable
    assert len(server.requests) == 1 and "model not found" in str(error)


def test_client_with_wrong_path_reports_the_url_to_fix(server):
    _, error, _ = call(endpoint(server.base_url.removesuffix("/v1")))
    assert error.reason_code == "llm_signal_failed"
    assert "HTTP 404" in str(error) and "base_url" in str(error)


def test_client_with_malformed_json_body_raises_llm_unparseable_without_retry(server):
    server.set_default(Reply.malformed())
    _, error, _ = call(endpoint(server.base_url))
    assert error.reason_code == "llm_unparseable" and len(server.requests) == 1


def test_client_with_json_body_but_no_choices_raises_llm_unparseable(server):
    server.set_default(Reply(body=b'{"object": "list", "data": []}'))
    _, error, _ = call(endpoint(server.base_url))
    assert error.reason_code == "llm_unparseable"


def test_client_with_connection_refused_raises_llm_signal_failed():
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    _, error, sleeps = call(endpoint(f"http://127.0.0.1:{port}/v1"))
    assert error.reason_code == "llm_signal_failed" and sleeps == []
    assert "running" in str(error)


def test_client_with_missing_key_and_required_key_sends_nothing(server):
    ep = endpoint(server.base_url, api_key=None, require_api_key=True)
    _, error, _ = call(ep)
    assert error.reason_code == "provider_api_key_missing" and not error.retryable
    assert server.requests == [] and "OPENAI_API_KEY" in str(error)


def test_client_with_missing_key_for_remote_host_raises_before_any_request():
    ep = endpoint("https://api.openai.com/v1", api_key=None)
    assert ep.needs_api_key
    _, error, _ = call(ep)
    assert error.reason_code == "provider_api_key_missing"


def test_client_with_missing_key_for_local_host_sends_no_authorization(server):
    content, error, _ = call(endpoint(server.base_url, api_key=None))
    assert error is None and content
    assert "authorization" not in server.requests[0].headers


def test_endpoint_from_config_with_env_key_resolves_it_and_hides_it():
    ep = endpoint_from_config(
        {
            "base_url": "https://openrouter.ai/api/v1/",
            "model": "openai/gpt-4o-mini",
            "api_key_env": "ROUTER_KEY",
        },
        {"ROUTER_KEY": KEY},
    )
    assert ep.api_key.get_secret_value() == KEY
    assert ep.base_url == "https://openrouter.ai/api/v1"
    assert (ep.timeout_seconds, ep.max_retries, ep.backoff_seconds, ep.temperature) == (
        30.0,
        2,
        0.5,
        0.0,
    )
    shown = [
        repr(ep),
        str(ep),
        ep.model_dump_json(),
        str(ep.model_dump()),
        ep.cache_identity(),
        ep.fingerprint(),
        repr(HttpChatClient(ep)),
    ]
    assert not any(KEY in text for text in shown)
    assert ep.cache_identity() == "openai/gpt-4o-mini@https://openrouter.ai:443/api/v1"
    assert ep.fingerprint().startswith("openai/gpt-4o-mini@https://openrouter.ai:443/api/v1#")


def test_endpoint_from_config_with_legacy_base_env_uses_it():
    ep = endpoint_from_config({"model": "llama3"}, {"OPENAI_API_BASE": "http://localhost:11434/v1"})
    assert ep.base_url == "http://localhost:11434/v1" and ep.is_local
    assert ep.api_key is None and not ep.needs_api_key


def test_endpoint_from_config_with_config_base_url_ignores_legacy_env():
    ep = endpoint_from_config(
        {"base_url": "http://10.0.0.5:8000/v1", "model": "m"}, {"OPENAI_API_BASE": "http://x/v1"}
    )
    assert ep.host == "10.0.0.5" and ep.is_local


def test_endpoint_fingerprint_with_other_key_is_unchanged():
    one = endpoint_from_config(
        {"base_url": "https://api.openai.com/v1", "model": "m"}, {"OPENAI_API_KEY": "sk-one"}
    )
    two = endpoint_from_config(
        {"base_url": "https://api.openai.com/v1", "model": "m"}, {"OPENAI_API_KEY": "sk-two"}
    )
    assert one.fingerprint() == two.fingerprint() and one.cache_identity() == two.cache_identity()
    hotter = one.model_copy(update={"temperature": 0.7})
    assert hotter.cache_identity() != one.cache_identity()


@pytest.mark.parametrize(
    "config, problem",
    [
        ({"model": "m"}, "base_url"),
        ({"base_url": "ftp://x/v1", "model": "m"}, "http"),
        ({"base_url": "http://x/v1"}, "model"),
        ({"base_url": "http://x/v1", "model": "m", "api_keys": "oops"}, "api_keys"),
        ({"base_url": "http://x/v1", "model": "m", "timeout_seconds": 0}, "timeout_seconds"),
    ],
)
def test_endpoint_from_config_with_bad_config_raises_config_error(config, problem):
    with pytest.raises(ConfigError, match=problem):
        endpoint_from_config(config, {})


def test_endpoint_from_config_with_invalid_value_never_echoes_the_key():
    with pytest.raises(ConfigError) as info:
        endpoint_from_config(
            {"base_url": "http://x/v1", "model": "m", "api_key": KEY, "max_retries": "many"}, {}
        )
    assert KEY not in str(info.value) and "max_retries" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
