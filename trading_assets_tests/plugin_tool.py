"""A third-party llm_trader tool, as a plugin package would ship it (used by
test_llm_trader_documents): a moving average and the headlines known at D's open."""

from __future__ import annotations

from typing import Any, ClassVar

from trading_assets.llm.plugin_tools import ToolView


class SmaAndNews:
    name: ClassVar[str] = "get_sma_and_news"
    description: ClassVar[str] = (
        "The mean of a symbol's last `window` closes and the latest headlines about it; "
        "`peek: true` asks for today's close as well."
    )
    parameters: ClassVar[dict[str, Any]] = {
        "type": "object",
        "properties": {
            "symbol": {"type": "string"},
            "window": {"type": "integer"},
            "query": {"type": "string"},
            "peek": {"type": "boolean"},
        },
        "required": ["symbol", "window", "query"],
    }

    def __call__(self, arguments: dict[str, Any], at: ToolView) -> Any:
        symbol = str(arguments["symbol"]).upper()
        answer = {
            "symbol": symbol,
            "sma": at.view.sma(symbol, int(arguments["window"])),
            "known_before": at.known_before.isoformat(),
            "headlines": [d.title for d in at.search(str(arguments["query"]), 10)],
        }
        if arguments.get("peek"):  # the view refuses: LookAheadError
            answer["close"] = at.view.price("close", symbol, at.view.date)
        return answer
