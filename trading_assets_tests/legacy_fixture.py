"""The legacy AI-Trader fixture (read in place) and corrupted copies of it for tests.

`corrupted_copy(tmp_path, kind)` copies the fixture into tmp_path and applies ONE
corruption to the gpt-5 model (or its prices). `Corruption.detected_by` says who must
catch it: "parser" (read_positions rejects it naming file:line) or "replay" (the
parser accepts or flags it; the engine's replay finds it).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

# The project's shared material sits beside the checkout (../shared), as on CI;
# TRADING_ASSETS_SHARED points elsewhere (e.g. for a clone in another folder).
SHARED = Path(
    os.environ.get("TRADING_ASSETS_SHARED") or Path(__file__).resolve().parents[2] / "shared"
)
FIXTURE_ROOT = SHARED / "fixtures" / "ai-trader-2025-10"
if not FIXTURE_ROOT.is_dir():
    _MISSING = (
        f"legacy fixture not found at {FIXTURE_ROOT}: the tests read ../shared beside the "
        "checkout; set TRADING_ASSETS_SHARED to the shared/ folder"
    )
    if os.environ.get("CI"):  # CI must run them: a missing fixture is a failure there
        raise RuntimeError(_MISSING)
    # A plain clone without shared/: the modules that need the fixture skip, saying why.
    pytest.skip(_MISSING, allow_module_level=True)
SIGNATURES = (
    "MiniMax-M2",
    "claude-3.7-sonnet",
    "deepseek-chat-v3.1",
    "gemini-2.5-flash",
    "gpt-5",
    "qwen3-max",
)
KINDS = (
    "truncated_line",
    "negative_amount",
    "unknown_symbol",
    "sell_not_held",
    "missing_price_day",
    "duplicated_id",
)
SIGNATURE = "gpt-5"  # the model every corruption touches


@dataclass(frozen=True)
class Corruption:
    root: Path  # the corrupted checkout (holds data/ and configs/)
    kind: str
    file: Path  # the corrupted file
    line: int | None  # its 1-based line (position files), None for price files
    detected_by: Literal["parser", "replay"]
    detail: str


def fixture_copy(tmp_path: Path) -> Path:
    """A writable copy of the fixture under tmp_path (the original is read-only)."""
    root = tmp_path / "ai-trader"
    shutil.copytree(FIXTURE_ROOT, root, copy_function=shutil.copyfile)
    for folder, _, files in os.walk(root):
        os.chmod(folder, 0o755)
        for name in files:
            os.chmod(Path(folder) / name, 0o644)
    return root


def corrupted_copy(tmp_path: Path, kind: str) -> Corruption:
    if kind not in KINDS:
        raise ValueError(f"unknown corruption {kind!r}; one of {KINDS}")
    root = fixture_copy(tmp_path)
    positions = root / "data" / "agent_data" / SIGNATURE / "position" / "position.jsonl"
    lines = positions.read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]

    def rewrite(line_no: int, record: dict, detected_by: str, detail: str) -> Corruption:
        lines[line_no - 1] = json.dumps(record)
        positions.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return Corruption(root, kind, positions, line_no, detected_by, detail)  # type: ignore[arg-type]

    if kind == "truncated_line":
        line_no = len(lines)
        text = "\n".join(lines[:-1]) + "\n" + lines[-1][: len(lines[-1]) // 2]
        positions.write_text(text, encoding="utf-8")  # no final newline: an interrupted write
        return Corruption(root, kind, positions, line_no, "parser", "last line cut in half")
    if kind == "negative_amount":
        records[1]["this_action"]["amount"] = -10
        return rewrite(2, records[1], "parser", "buy NVDA amount -10")
    if kind == "unknown_symbol":
        records[1]["this_action"]["symbol"] = "ZZZZ"
        return rewrite(2, records[1], "parser", "buy of ZZZZ, a symbol without prices")
    if kind == "duplicated_id":
        records[2]["id"] = records[1]["id"]
        return rewrite(3, records[2], "parser", f"id {records[1]['id']} on lines 2 and 3")
    if kind == "sell_not_held":
        # The first no_trade line becomes a sell of a symbol the model does not hold;
        # its positions stay as they were, as if the sell had changed nothing.
        index = next(
            i for i, r in enumerate(records) if r.get("this_action", {}).get("action") == "no_trade"
        )
        held = records[index - 1]["positions"]
        symbol = next(s for s, n in held.items() if s != "CASH" and n == 0)
        records[index]["this_action"] = {"action": "sell", "symbol": symbol, "amount": 5}
        return rewrite(index + 1, records[index], "replay", f"sell 5 {symbol}, none held")
    # missing_price_day: gpt-5 bought NVDA at the open of 2025-10-02.
    return _drop_price_day(root, kind, "NVDA", "2025-10-02")


def _drop_price_day(root: Path, kind: str, symbol: str, date: str) -> Corruption:
    data = root / "data"
    prices = data / f"daily_prices_{symbol}.json"
    payload = json.loads(prices.read_text(encoding="utf-8"))
    del payload["Time Series (Daily)"][date]
    prices.write_text(json.dumps(payload, indent=4), encoding="utf-8")
    merged = data / "merged.jsonl"  # keep the fallback file consistent with the json files
    out = []
    for line in merged.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["Meta Data"]["2. Symbol"] == symbol:
            del record["Time Series (Daily)"][date]
            line = json.dumps(record)
        out.append(line)
    merged.write_text("\n".join(out) + "\n", encoding="utf-8")
    return Corruption(root, kind, prices, None, "replay", f"no {symbol} bar on {date}")


@pytest.fixture(scope="module")
def clean_legacy_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the clean fixture imported (once per test module)."""
    from trading_assets.legacy.importer import import_legacy
    from trading_assets.store.results import ResultStore

    path = tmp_path_factory.mktemp("clean") / "s.duckdb"
    import_legacy(ResultStore(path), FIXTURE_ROOT)
    return path


def copy_store(db: Path, folder: Path):
    """A writable copy of a store file, so a test can change it without touching others."""
    from trading_assets.store.results import ResultStore

    shutil.copyfile(db, folder / "s.duckdb")
    return ResultStore(folder / "s.duckdb")
