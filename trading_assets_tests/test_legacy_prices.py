"""LegacyPriceSource: daily_prices_*.json and merged.jsonl as a MarketDataSource.

Checks the October 2025 fixture's universe, the stale FB file, the benchmark, the
merged.jsonl fallback (newest day open-only), and that bad files name file and date.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from trading_assets.errors import MarketDataError
from trading_assets.legacy.prices import LegacyPriceSource
from trading_assets.market.history import PriceHistory
from trading_assets.market.sources import MarketDataSource

try:
    from trading_assets_tests.legacy_fixture import FIXTURE_ROOT, corrupted_copy
except ImportError:  # pytest's default "prepend" import of this folder
    from legacy_fixture import FIXTURE_ROOT, corrupted_copy

DATA = FIXTURE_ROOT / "data"


@cache
def _fixture_history() -> PriceHistory:
    return LegacyPriceSource(FIXTURE_ROOT).load()


def _data_copy(tmp_path: Path, *names: str) -> Path:
    data = tmp_path / "data"
    data.mkdir(parents=True)
    for name in names:
        shutil.copyfile(DATA / name, data / name)
    return data


def test_load_with_fixture_gives_the_legacy_universe_and_reports_stale_fb() -> None:
    source = LegacyPriceSource(FIXTURE_ROOT)
    history = source.load()
    assert len(history.symbols) == 101 and "FB" not in history.symbols
    assert "QQQ" not in history.symbols
    assert (history.dates[0], history.dates[-1], len(history.dates)) == (
        dt.date(2025, 6, 9),
        dt.date(2025, 10, 29),
        100,
    )
    assert dt.date(2025, 7, 4) not in history.dates  # holidays are absent, not NaN rows
    assert not np.isnan(history.close).any()
    assert [(i.code, Path(i.file).name) for i in source.issues] == [
        ("stale_price_file", "daily_prices_FB.json")
    ]
    assert "2025-10-16" in source.issues[0].message
    assert source.name.startswith("legacy:")


def test_load_with_fixture_keeps_the_string_values_exactly() -> None:
    history = _fixture_history()
    bar = json.loads((DATA / "daily_prices_AAPL.json").read_text())["Time Series (Daily)"]
    i, j = history.index_of(dt.date(2025, 10, 29)), history.symbol_index("AAPL")
    assert history.open[i, j] == float(bar["2025-10-29"]["1. open"]) == 269.275
    assert history.volume[i, j] == 48892277.0


def test_load_with_include_flags_adds_the_benchmark_and_the_stale_file() -> None:
    source = LegacyPriceSource(DATA, include_benchmarks=True, include_stale=True)
    history = source.load()
    assert {"QQQ", "FB"} <= set(history.symbols) and len(history.symbols) == 103
    fb = history.close[:, history.symbol_index("FB")]
    assert np.isnan(fb[history.index_of(dt.date(2025, 10, 17))])  # after its last refresh
    assert [i.code for i in source.issues] == ["stale_price_file"]


def test_load_with_only_merged_jsonl_matches_json_files_and_newest_day_has_open_only(
    tmp_path: Path,
) -> None:
    source: MarketDataSource = LegacyPriceSource(_data_copy(tmp_path, "merged.jsonl"))
    merged, reference = source.load(), _fixture_history()
    assert merged.symbols == reference.symbols and merged.dates == reference.dates
    assert np.array_equal(merged.open, reference.open)
    for name in ("high", "low", "close", "volume"):
        assert np.array_equal(getattr(merged, name)[:-1], getattr(reference, name)[:-1])
        assert np.isnan(getattr(merged, name)[-1]).all()  # 2025-10-29 is not valuable yet
    assert source.issues == []


def test_load_with_only_the_benchmark_json_falls_back_to_merged_jsonl(tmp_path: Path) -> None:
    data = _data_copy(tmp_path, "merged.jsonl", "daily_prices_QQQ.json", "Adaily_prices_QQQ.json")
    assert "QQQ" not in LegacyPriceSource(data).load().symbols
    assert len(LegacyPriceSource(data).load().symbols) == 101


def test_load_with_missing_price_day_corruption_flags_the_gap(tmp_path: Path) -> None:
    corruption = corrupted_copy(tmp_path, "missing_price_day")
    for data in (corruption.root, None):
        if data is None:  # the merged.jsonl fallback sees the same gap
            data = _data_copy(tmp_path / "merged", "merged.jsonl")
            shutil.copyfile(corruption.root / "data" / "merged.jsonl", data / "merged.jsonl")
        source = LegacyPriceSource(data)
        history = source.load()
        nvda = history.open[:, history.symbol_index("NVDA")]
        assert np.isnan(nvda[history.index_of(dt.date(2025, 10, 2))])
        gaps = [i for i in source.issues if i.code == "missing_price_day"]
        assert len(gaps) == 1 and "NVDA: no bar on 2025-10-02" in gaps[0].message


def _write_bad(data: Path, edit) -> Path:
    path = data / "daily_prices_AAPL.json"
    payload = json.loads(path.read_text())
    edit(payload["Time Series (Daily)"])
    path.write_text(json.dumps(payload, indent=4))
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s["2025-10-28"].update({"1. open": "n/a"}), "bad bar"),
        (lambda s: s["2025-10-28"].update({"2. high": "1.0"}), "low <= open, close <= high"),
        (lambda s: s["2025-10-28"].update({"4. close": "-3"}), "bad bar"),
        # the legacy copy of the rule accepted this: it checked low only against open/close
        (lambda s: s["2025-10-28"].update({"3. low": "-5"}), "bad bar"),
        (lambda s: s["2025-10-28"].pop("5. volume"), "lacks 5. volume"),
    ],
)
def test_load_with_bad_bar_raises_naming_file_line_and_date(
    tmp_path: Path, edit, message: str
) -> None:
    data = _data_copy(tmp_path, "daily_prices_AAPL.json", "daily_prices_MSFT.json")
    path = _write_bad(data, edit)
    with pytest.raises(MarketDataError, match=message) as caught:
        LegacyPriceSource(data).load()
    line = path.read_text().splitlines().index('        "2025-10-28": {') + 1
    assert caught.value.where == f"{path}:{line} (date 2025-10-28)"
    assert caught.value.fix


def test_load_with_unreadable_files_raises_naming_the_file(tmp_path: Path) -> None:
    data = _data_copy(tmp_path, "daily_prices_AAPL.json")
    (data / "daily_prices_MSFT.json").write_text('{"Meta Data": {')
    with pytest.raises(MarketDataError, match="invalid JSON") as caught:
        LegacyPriceSource(data).load()
    assert caught.value.where.startswith(str(data / "daily_prices_MSFT.json"))
    (data / "daily_prices_MSFT.json").write_text('{"Note": "API call frequency exceeded"}')
    with pytest.raises(MarketDataError, match="rate-limit"):
        LegacyPriceSource(data).load()
    shutil.copyfile(DATA / "daily_prices_AAPL.json", data / "daily_prices_MSFT.json")
    with pytest.raises(MarketDataError, match="symbol 'AAPL' does not match 'MSFT'"):
        LegacyPriceSource(data).load()
    with pytest.raises(MarketDataError, match="no daily_prices"):
        LegacyPriceSource(tmp_path / "empty").load()


def test_load_with_bad_merged_jsonl_raises_naming_line_and_date(tmp_path: Path) -> None:
    data = _data_copy(tmp_path, "merged.jsonl")
    path = data / "merged.jsonl"
    lines = path.read_text().splitlines()
    record = json.loads(lines[2])
    del record["Time Series (Daily)"]["2025-10-28"]["4. sell price"]  # only the newest may
    lines[2] = json.dumps(record)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(MarketDataError, match=r"lacks 4\. sell price") as caught:
        LegacyPriceSource(data).load()
    assert caught.value.where == f"{path}:3 (date 2025-10-28)"
    lines = path.read_text().splitlines()[:1]  # start again from the first symbol only
    record = json.loads(lines[0])
    record["Time Series (Daily)"]["2025-10-29"]["1. buy price"] = "0"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(MarketDataError, match="bad bar") as caught:
        LegacyPriceSource(data).load()
    assert caught.value.where == f"{path}:1 (date 2025-10-29)"
    path.write_text(lines[0] + "\n" + lines[0] + "\n")
    with pytest.raises(MarketDataError, match="appears twice") as caught:
        LegacyPriceSource(data).load()
    assert caught.value.where.startswith(f"{path}:2 (date ")
