"""A model-day's conversation as markdown: what the model-day's page in the UI shows.

Each message in order with its role (the system prompt, the user message, each answer
with its tool calls and tokens, each tool result under the tool's name, errors and
look-ahead refusals marked), each text cut at a sensible length and the whole kept
under MAX_CHARS; the full conversation is in `reasoning_logs` and `tool_usage`.
"""

from __future__ import annotations

import json

from trading_assets.llm.trader import DayTranscript

MAX_CHARS = 20_000  # the whole transcript (the UI's metadata stays light)
TEXT_CHARS = 1_500  # a prompt or an answer's text
RESULT_CHARS = 400  # a tool's result


def transcript_markdown(day: DayTranscript) -> str:
    cost = f", ${day.cost_usd:,.4f}" if day.cost_usd is not None else ""
    head = (
        f"**{day.date}**: {day.steps} answers, {day.total_tokens:,} tokens "
        f"({day.prompt_tokens:,} prompt, {day.completion_tokens:,} completion){cost}, "
        f"{len(day.tools)} tool calls ({day.tool_errors} errors, "
        f"{day.lookahead_refusals} look-ahead refusals), {day.requests} sent, "
        f"{day.cache_hits} from the cache; ended: `{day.end_reason}`"
    )
    if day.failure is not None:
        head += f"\n\n**Provider failure:** {_cut(str(day.failure), TEXT_CHARS)}"
    tools = {t.tool_call_id: t for t in day.tools}
    blocks = [head]
    for n, m in enumerate(day.messages, start=1):
        if m.role == "assistant":
            tokens = f", {m.total_tokens} tokens" if m.total_tokens is not None else ""
            lines = [f"#### {n}. assistant (answer {m.step}{tokens})"]
            if m.content:
                lines.append(_quote(_cut(m.content, TEXT_CHARS)))
            for call in json.loads(m.tool_calls) if m.tool_calls else []:
                fn = call.get("function") or {}
                args = fn.get("arguments", "")
                args = args if isinstance(args, str) else json.dumps(args)
                lines.append(f"- calls `{fn.get('name')}({_cut(args, RESULT_CHARS)})`")
        elif m.role == "tool":
            record = tools.get(m.tool_call_id or "")
            name = record.name if record else "tool"
            mark = ""
            if record is not None and record.refusal:
                mark = f" **look-ahead refused ({record.refusal})**"
            elif record is not None and record.error:
                mark = " **error**"
            lines = [
                f"#### {n}. tool result: `{name}`{mark}",
                f"```\n{_cut(m.content or '', RESULT_CHARS)}\n```",
            ]
        else:
            lines = [f"#### {n}. {m.role}", _quote(_cut(m.content or "", TEXT_CHARS))]
        blocks.append("\n".join(lines))
    out, used = [], 0
    for i, block in enumerate(blocks):
        if used + len(block) > MAX_CHARS:
            out.append(
                f"... {len(blocks) - i} more messages not shown: the whole conversation is "
                f"in reasoning_logs and tool_usage (model, date = '{day.date}')"
            )
            break
        out.append(block)
        used += len(block) + 2
    return "\n\n".join(out)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"… ({len(text) - limit:,} more characters)"


def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines()) or ">"
