"""An llm_trader's conversations as store rows: reasoning_logs, tool_usage, llm_usage.

The legacy API's `reasoning_logs` (every message of a model-day: the opening prompt,
each answer with its tool calls and usage, each tool result) and `tool_usage` (each tool
call with its arguments, result, error, look-ahead refusal and latency), plus one
`llm_usage` row per model-day (tokens, requests, cache hits, latency, cost, how the
conversation ended). Written with the model-day's results, in its transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable

from trading_assets.llm.trader import DayTranscript
from trading_assets.vocab import CONTRACT_VERSION

TRANSCRIPT_TABLES = ("reasoning_logs", "tool_usage", "llm_usage")


def transcript_rows(
    model: str, days: Iterable[DayTranscript], dates: Collection[dt.date]
) -> dict[str, list[dict]]:
    """The three tables' rows of the conversations held on `dates` (the stored days)."""
    tables: dict[str, list[dict]] = {t: [] for t in TRANSCRIPT_TABLES}
    for day in days:
        if day.date not in dates:
            continue
        key = {"model": model, "date": day.date}
        for seq, m in enumerate(day.messages):
            tables["reasoning_logs"].append(
                key
                | {
                    "seq": seq,
                    "step": m.step,
                    "role": m.role,
                    "content": m.content,
                    "tool_calls": m.tool_calls,
                    "tool_call_id": m.tool_call_id,
                    "prompt_tokens": m.prompt_tokens,
                    "completion_tokens": m.completion_tokens,
                    "total_tokens": m.total_tokens,
                    "latency_ms": m.latency_ms,
                    "finish_reason": m.finish_reason,
                    "contract_version": CONTRACT_VERSION,
                }
            )
        for seq, t in enumerate(day.tools):
            tables["tool_usage"].append(
                key
                | {
                    "seq": seq,
                    "step": t.step,
                    "tool_call_id": t.tool_call_id,
                    "tool_name": t.name,
                    "arguments": t.arguments,
                    "result": t.result,
                    "error": t.error,
                    "refusal": t.refusal,
                    "latency_ms": t.latency_ms,
                    "contract_version": CONTRACT_VERSION,
                }
            )
        failure = day.failure
        tables["llm_usage"].append(
            key
            | {
                "endpoint": day.endpoint,
                "steps": day.steps,
                "requests": day.requests,
                "cache_hits": day.cache_hits,
                "prompt_tokens": day.prompt_tokens,
                "completion_tokens": day.completion_tokens,
                "total_tokens": day.total_tokens,
                "latency_ms": day.latency_ms,
                "cost_usd": day.cost_usd,
                "tool_calls": len(day.tools),
                "tool_errors": day.tool_errors,
                "lookahead_refusals": day.lookahead_refusals,
                "confirmed_orders": len(day.orders),
                "end_reason": day.end_reason,
                "final_text": day.final_text,
                "error_code": str(failure.reason_code) if failure else None,
                "error_message": str(failure) if failure else None,
                "contract_version": CONTRACT_VERSION,
            }
        )
    return tables


def trader_note(days: Iterable[DayTranscript]) -> str:
    """One line for the run's summary: answers, requests sent, cache hits, tokens."""
    days = list(days)
    steps = sum(d.steps for d in days)
    sent = sum(d.requests for d in days)
    hits = sum(d.cache_hits for d in days)
    tokens = sum(d.total_tokens for d in days)
    return f"llm_trader: {steps} answers, {sent} sent, {hits} cached, {tokens} tokens"
