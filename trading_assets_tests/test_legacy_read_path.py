"""Dual read of one model-day: new store first, legacy files as the fallback, by flags.

gpt-5 is imported and replayed once per module (dual-writing the legacy layout); each
test works on a copy of that store. Both sources must give the same cash, positions
and value for a replayed day.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from trading_assets.errors import StoreError
from trading_assets.legacy.dual_write import dual_write_model_run
from trading_assets.legacy.flags import MigrationFlags
from trading_assets.legacy.importer import import_legacy
from trading_assets.legacy.layout import resolve_root
from trading_assets.legacy.positions import final_state_by_date, read_positions
from trading_assets.legacy.read_path import read_model_day
from trading_assets.runs.model import run_model
from trading_assets.store.legacy_import import legacy_trading_dates
from trading_assets.store.results import ResultStore

try:
    from trading_assets_tests.legacy_fixture import FIXTURE_ROOT
except ImportError:  # pytest's default "prepend" import of this folder
    from legacy_fixture import FIXTURE_ROOT

MODEL, DAY = "gpt-5", dt.date(2025, 10, 10)


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(store file, dual-write root) after importing and replaying gpt-5."""
    folder = tmp_path_factory.mktemp("replayed")
    store = ResultStore(folder / "s.duckdb")
    import_legacy(store, FIXTURE_ROOT)
    flags = MigrationFlags(dual_write=True, write_root=folder / "legacy")
    run_model(
        store,
        MODEL,
        legacy_trading_dates(store, MODEL),
        after_write=lambda spec, run: dual_write_model_run(flags, spec, run),
    )
    return store.path, folder / "legacy"


@pytest.fixture
def store(replayed: tuple[Path, Path], tmp_path: Path) -> ResultStore:
    shutil.copyfile(replayed[0], tmp_path / "s.duckdb")
    return ResultStore(tmp_path / "s.duckdb")


def _delete_new_day(store: ResultStore) -> None:
    with store.connect() as con:
        for table in ("model_days", "holdings"):  # constant names
            con.execute(f"DELETE FROM {table} WHERE model = ? AND date = ?", [MODEL, DAY])


def _legacy_state():
    lines = read_positions(resolve_root(FIXTURE_ROOT).position_file(MODEL)).lines
    state = final_state_by_date(lines)[DAY]
    return state.cash, {s: n for s, n in state.positions.items() if n}


def test_read_model_day_with_new_row_reads_new_store(store: ResultStore) -> None:
    """Default flags: the new store answers, with the legacy cash and positions."""
    result = read_model_day(store, resolve_root(FIXTURE_ROOT), MigrationFlags(), MODEL, DAY)
    cash, positions = _legacy_state()
    assert result.source == "new"
    assert (result.status["status"], result.status["cash"]) == ("completed", cash)
    assert result.status["positions"] == positions


def test_read_model_day_with_deleted_new_row_falls_back_to_legacy(
    store: ResultStore, replayed: tuple[Path, Path]
) -> None:
    """Without the new row the legacy files answer: the fixture, or the dual-written layout."""
    new = read_model_day(store, None, MigrationFlags(), MODEL, DAY).status
    _delete_new_day(store)
    for root in (FIXTURE_ROOT, replayed[1]):  # position lines only / with status files
        result = read_model_day(store, resolve_root(root), MigrationFlags(), MODEL, DAY)
        assert result.source == "legacy"
        assert result.status["status"] == "completed"
        assert (result.status["cash"], result.status["positions"]) == (
            new["cash"],
            new["positions"],
        )
        assert result.status["portfolio_value"] == pytest.approx(new["portfolio_value"], abs=1e-6)


def test_read_model_day_with_rollout_zero_or_legacy_preference_reads_legacy_first(
    store: ResultStore,
) -> None:
    """Outside the rollout, or preferring legacy: legacy first; new when legacy lacks it."""
    layout = resolve_root(FIXTURE_ROOT)
    for flags in (MigrationFlags(rollout_percent=0), MigrationFlags(read_preference="legacy")):
        assert read_model_day(store, layout, flags, MODEL, DAY).source == "legacy"
        assert read_model_day(store, None, flags, MODEL, DAY).source == "new"


def test_read_model_day_with_fallback_off_raises_clear_error(store: ResultStore) -> None:
    """TA_READ_FALLBACK=off: a missing new row is an error naming the flag, not a legacy read."""
    _delete_new_day(store)
    flags = MigrationFlags(read_fallback=False)
    with pytest.raises(StoreError, match=r"fallback is off \(TA_READ_FALLBACK=off\)"):
        read_model_day(store, resolve_root(FIXTURE_ROOT), flags, MODEL, DAY)


def test_read_model_day_with_day_in_neither_source_raises(store: ResultStore) -> None:
    """A day neither side has: the error names both sources and the partition."""
    day = dt.date(2025, 11, 3)
    with pytest.raises(StoreError, match="in the new store or the legacy layout") as info:
        read_model_day(store, resolve_root(FIXTURE_ROOT), MigrationFlags(), MODEL, day)
    assert info.value.where == f"2025-11-03|{MODEL}"
    registration = dt.date(2025, 10, 1)  # a registration day traded nothing: not a result
    with pytest.raises(StoreError):
        read_model_day(store, resolve_root(FIXTURE_ROOT), MigrationFlags(), MODEL, registration)
