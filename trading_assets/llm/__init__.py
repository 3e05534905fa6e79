"""The LLM lane: an OpenAI-compatible endpoint asked for a 5-tier rating per symbol-day."""

from trading_assets.llm.answer import CachedAnswer, LLMAnswer, parse_answer
from trading_assets.llm.client import ChatClient, HttpChatClient, LLMError
from trading_assets.llm.endpoint import LLMEndpoint, endpoint_from_config
from trading_assets.llm.lane import CacheKey, LaneStats, LLMCache, LLMLane
from trading_assets.llm.prompt import build_messages, prompt_hash

__all__ = [
    "CacheKey",
    "CachedAnswer",
    "ChatClient",
    "HttpChatClient",
    "LLMAnswer",
    "LLMCache",
    "LLMEndpoint",
    "LLMError",
    "LLMLane",
    "LaneStats",
    "build_messages",
    "endpoint_from_config",
    "parse_answer",
    "prompt_hash",
]
