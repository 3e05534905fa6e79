"""Dual write: a replayed model's run, projected onto the legacy layout.

Replays of the fixture written back give the fixture's position files byte for byte
(the fixture has no rejected orders; its amount-0 orders are written as the legacy
engine wrote them). Where the engine rejects an order the legacy file recorded, the
written file differs on exactly that line: the rejected action is not written and
the day falls back to a no_trade line, so ids and every other line stay the same.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from trading_assets.config import FeesConfig, MarketDataConfig, ModelSpec
from trading_assets.contract.v1alpha1 import ModelDayStatus
from trading_assets.engine.run import ModelRun
from trading_assets.engine.simulate import DayResult, StartState
from trading_assets.errors import LegacyFormatError, MarketDataError
from trading_assets.legacy.dual_write import dual_write_model_run
from trading_assets.legacy.flags import MigrationFlags
from trading_assets.legacy.importer import import_legacy
from trading_assets.legacy.layout import resolve_root
from trading_assets.legacy.positions import read_positions
from trading_assets.portfolio.orders import Order, OrderResult
from trading_assets.portfolio.step import PortfolioState
from trading_assets.runs.model import run_model
from trading_assets.store.legacy_import import legacy_trading_dates
from trading_assets.store.results import ResultStore

try:
    from trading_assets_tests.legacy_fixture import FIXTURE_ROOT, corrupted_copy
except ImportError:  # pytest's default "prepend" import of this folder
    from legacy_fixture import FIXTURE_ROOT, corrupted_copy

# Models whose files hold amount-0 buys (MiniMax-M2) and sells (gemini-2.5-flash).
MODELS = ("MiniMax-M2", "gemini-2.5-flash")
FIELDS = ("date", "id", "this_action", "positions")


@pytest.fixture(scope="module")
def clean_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clean") / "s.duckdb"
    import_legacy(ResultStore(path), FIXTURE_ROOT)
    return path


def _replay(store: ResultStore, flags: MigrationFlags, model: str) -> tuple[ModelRun, Path]:
    written: list[Path | None] = []
    run = run_model(
        store,
        model,
        legacy_trading_dates(store, model),
        after_write=lambda spec, run: written.append(dual_write_model_run(flags, spec, run)),
    )
    assert written[0] is not None
    return run, written[0]


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_dual_write_with_replayed_fixture_reproduces_position_files(
    clean_db: Path, tmp_path: Path
) -> None:
    """Every line equals the fixture's (date, id, this_action, positions with CASH)."""
    shutil.copyfile(clean_db, tmp_path / "s.duckdb")
    store = ResultStore(tmp_path / "s.duckdb")
    flags = MigrationFlags(dual_write=True, write_root=tmp_path / "legacy")
    for model in MODELS:
        run, path = _replay(store, flags, model)
        original = resolve_root(FIXTURE_ROOT).position_file(model)
        parsed = read_positions(path, set(store.model_spec(model).universe))
        assert parsed.issues == []
        written, legacy = _records(path), _records(original)
        assert len(written) == len(legacy)
        for new, old in zip(written, legacy, strict=True):
            assert {k: new.get(k) for k in FIELDS} == {k: old.get(k) for k in FIELDS}
        assert path.read_bytes() == original.read_bytes()  # the strongest form: byte-identical
        layout = resolve_root(tmp_path / "legacy")
        for result in run.results:
            status_file = layout.status_file(model, result.date)
            status = ModelDayStatus.model_validate_json(status_file.read_text())
            assert (status.status, status.result.cash) == ("completed", result.state.cash)
        before = path.read_bytes()
        assert dual_write_model_run(flags, store.model_spec(model), run) == path
        assert path.read_bytes() == before  # writing a day again replaces it


def test_dual_write_with_sell_not_held_differs_only_on_the_rejected_line(tmp_path: Path) -> None:
    """The rejected sell is not written: that day gets a no_trade line, nothing else moves."""
    corruption = corrupted_copy(tmp_path, "sell_not_held")
    store = ResultStore(tmp_path / "s.duckdb")
    import_legacy(store, corruption.root)
    flags = MigrationFlags(dual_write=True, write_root=tmp_path / "legacy")
    _, path = _replay(store, flags, "gpt-5")
    written, legacy = _records(path), _records(corruption.file)
    differing = [i + 1 for i, (a, b) in enumerate(zip(written, legacy, strict=True)) if a != b]
    assert differing == [corruption.line]
    new, old = written[corruption.line - 1], legacy[corruption.line - 1]
    assert new["this_action"] == {"action": "no_trade", "symbol": "", "amount": 0}
    assert old["this_action"]["action"] == "sell"
    assert {k: new[k] for k in ("date", "id", "positions")} == {
        k: old[k] for k in ("date", "id", "positions")
    }


def _spec(signature: str = "synthetic") -> ModelSpec:
    return ModelSpec(
        signature=signature,
        agent="replay",
        params={},
        universe=("AAA", "BBB"),
        initial_cash=1000.0,
        market_data=MarketDataConfig(),
        fees=FeesConfig(),
    )


def _synthetic_run() -> ModelRun:
    """Monday: a fill, a rejection, a no-op; Tuesday: only a rejection; Wednesday fails."""
    buy, big = Order("AAA", "buy", 2), Order("BBB", "buy", 100)
    day1 = (
        OrderResult(buy, "filled", price=100.125),
        OrderResult(big, "rejected", reason="insufficient_cash"),
        OrderResult(Order("AAA", "sell", 0), "noop"),
    )
    state = PortfolioState(1000.0 - 100.125 * 2, {"AAA": 2})
    closes = {"AAA": 101.0}

    def day(date: dt.date, orders: tuple) -> DayResult:
        return DayResult(date, state, orders, (), closes, 202.0, state.cash + 202.0, 0.0)

    rejected = (OrderResult(Order("AAA", "sell", 5), "rejected", reason="insufficient_shares"),)
    failed = DayResult(
        dt.date(2025, 10, 8), state, (), (), {}, 0.0, 1001.75, 0.0, (), MarketDataError("no bars")
    )
    start = StartState(PortfolioState(1000.0), 1000.0)
    results = [day(dt.date(2025, 10, 6), day1), day(dt.date(2025, 10, 7), rejected), failed]
    return ModelRun("synthetic", start, results)


def test_dual_write_with_rejected_and_noop_orders_writes_legacy_lines(tmp_path: Path) -> None:
    """Fills and no-ops are lines, rejections are not; a failed day writes only its status."""
    flags = MigrationFlags(dual_write=True, write_root=tmp_path / "legacy")
    path = dual_write_model_run(flags, _spec(), _synthetic_run())
    records = _records(path)
    assert [(r["date"], r["id"], r.get("this_action")) for r in records] == [
        ("2025-10-03", 0, None),  # registration: the weekday before Monday's first day
        ("2025-10-06", 1, {"action": "buy", "symbol": "AAA", "amount": 2}),
        ("2025-10-06", 2, {"action": "sell", "symbol": "AAA", "amount": 0}),
        ("2025-10-07", 3, {"action": "no_trade", "symbol": "", "amount": 0}),
    ]
    assert records[0]["positions"] == {"AAA": 0, "BBB": 0, "CASH": 1000.0}
    assert records[-1]["positions"] == {"AAA": 2, "BBB": 0, "CASH": 799.75}
    assert read_positions(path).issues == []
    layout = resolve_root(tmp_path / "legacy")
    failed = ModelDayStatus.model_validate_json(
        layout.status_file("synthetic", "2025-10-08").read_text()
    )
    assert (failed.status, failed.error.code) == ("failed", "analysis_failed")


def test_dual_write_with_flag_off_or_outside_rollout_writes_nothing(tmp_path: Path) -> None:
    """No dual write, or a 0% rollout: nothing is written and None is returned."""
    run, root = _synthetic_run(), tmp_path / "legacy"
    assert dual_write_model_run(MigrationFlags(write_root=root), _spec(), run) is None
    zero = MigrationFlags(dual_write=True, write_root=root, rollout_percent=0)
    assert dual_write_model_run(zero, _spec(), run) is None
    assert not root.exists()


@pytest.mark.parametrize("signature", ["../x", "..", "a/../../x", "/abs"])
def test_dual_write_with_unsafe_signature_raises_before_writing(
    signature: str, tmp_path: Path
) -> None:
    """`../x` and friends are refused before any folder is created."""
    root = tmp_path / "legacy"
    flags = MigrationFlags(dual_write=True, write_root=root)
    with pytest.raises(LegacyFormatError, match="unsafe or invalid model signature"):
        dual_write_model_run(flags, _spec(signature), _synthetic_run())
    assert not root.exists() and not (tmp_path / "x").exists()
