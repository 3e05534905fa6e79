"""The LLM lane: an OpenAI-compatible endpoint asked for a 5-tier rating per symbol-day.

The names below load on first use (PEP 562): `config` imports `llm.endpoint` and
`llm.scrub`, and a command reading a models file must not pay for pandas and httpx
(the lane's imports) before it can report a bad file."""

from importlib import import_module

_WHERE = {
    "CachedAnswer": "answer", "LLMAnswer": "answer", "parse_answer": "answer",
    "ChatClient": "client", "HttpChatClient": "client", "LLMError": "client",
    "LLMEndpoint": "endpoint", "endpoint_from_config": "endpoint",
    "CacheKey": "lane", "LaneStats": "lane", "LLMCache": "lane", "LLMLane": "lane",
    "build_messages": "prompt", "prompt_hash": "prompt",
}  # fmt: skip

__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
