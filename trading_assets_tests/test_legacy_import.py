"""Legacy import: the October 2025 AI-Trader fixture into a DuckDB store.

The clean fixture is imported once per module and its store file copied per test.
Each parser-detected corruption rejects gpt-5 (file:line in legacy_issues) while the
other five models import, and gpt-5's earlier import survives. Unsafe model folders
are reported and never read.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import pytest

from trading_assets.legacy.importer import import_legacy
from trading_assets.legacy.layout import resolve_root
from trading_assets.legacy.logs import read_log
from trading_assets.store.legacy_import import legacy_trading_dates
from trading_assets.store.results import ResultStore
from trading_assets_tests.legacy_fixture import (
    FIXTURE_ROOT,
    SIGNATURES,
    clean_legacy_db,
    copy_store,
    corrupted_copy,
    fixture_copy,
)

TABLES = ("legacy_positions", "legacy_logs", "legacy_issues", "models", "prices")
PARSER_KINDS = ("truncated_line", "negative_amount", "unknown_symbol", "duplicated_id")


clean_db = clean_legacy_db  # the imported fixture, once per module
_copy = copy_store


def _snapshot(store: ResultStore) -> dict[str, list[tuple]]:
    with store.connect() as con:  # table names are constants
        return {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in TABLES}


def _rows(store: ResultStore, model: str) -> list[tuple]:
    with store.connect() as con:
        return con.execute(
            "SELECT * FROM legacy_positions WHERE model = ? ORDER BY id", [model]
        ).fetchall()


def test_import_legacy_with_fixture_accepts_six_signatures_and_358_lines(tmp_path: Path) -> None:
    """Six models, 358 position lines, every log message, one replay spec per model."""
    store = ResultStore(tmp_path / "s.duckdb")
    report = import_legacy(store, FIXTURE_ROOT)
    assert report.accepted == list(SIGNATURES) and report.rejected == []
    assert sum(s.n_lines for s in report.signatures) == 358
    assert {(s.first_date, s.last_date) for s in report.signatures} == {
        (dt.date(2025, 10, 2), dt.date(2025, 10, 29))
    }
    assert report.price_source == f"legacy:{FIXTURE_ROOT / 'data'}"
    assert len(report.symbols) == 101 and "FB" not in report.symbols  # the stale file
    assert [i.code for i in report.price_issues] == ["stale_price_file"]
    assert (report.first_price_date, report.last_price_date) == (
        dt.date(2025, 6, 9),
        dt.date(2025, 10, 29),
    )
    counts = dict(store.query("SELECT model, count(*) FROM legacy_positions GROUP BY 1").values)
    layout = resolve_root(FIXTURE_ROOT)
    for sig in SIGNATURES:
        assert counts[sig] == len(layout.position_file(sig).read_text().splitlines())
    messages = sum(
        len(read_log(layout.log_file(s, d))) for s in SIGNATURES for d in layout.log_dates(s)
    )
    assert store.query("SELECT count(*) AS n FROM legacy_logs")["n"][0] == messages
    spec = store.model_spec("gpt-5")
    assert (spec.agent, spec.initial_cash) == ("replay", 10000.0)
    assert spec.params == {"root": str(FIXTURE_ROOT), "signature": "gpt-5"}
    first_line = json.loads(layout.position_file("gpt-5").read_text().splitlines()[0])
    assert list(spec.universe) == [s for s in first_line["positions"] if s != "CASH"]
    assert spec.market_data.path == str(FIXTURE_ROOT / "data")


def test_import_legacy_with_second_import_leaves_tables_identical(
    clean_db: Path, tmp_path: Path
) -> None:
    """Importing the same checkout again changes no row, imported_at included."""
    store = _copy(clean_db, tmp_path)
    before = _snapshot(store)
    import_legacy(store, FIXTURE_ROOT)
    assert _snapshot(store) == before
    assert len(before["legacy_positions"]) == 358


def test_legacy_trading_dates_with_fixture_are_twenty_weekdays(clean_db: Path) -> None:
    """Action dates exclude the 2025-10-01 registration and cover every weekday to 10-29."""
    days = [dt.date(2025, 10, 2) + dt.timedelta(days=i) for i in range(28)]
    weekdays = [d for d in days if d.weekday() < 5]
    store = ResultStore(clean_db)
    for sig in SIGNATURES:
        assert legacy_trading_dates(store, sig) == weekdays
    assert len(weekdays) == 20


@pytest.mark.parametrize("kind", PARSER_KINDS)
def test_import_legacy_with_parser_corruption_rejects_model_and_keeps_earlier_rows(
    kind: str, clean_db: Path, tmp_path: Path
) -> None:
    """The corrupted model is rejected naming file:line; its earlier rows and spec stay."""
    store = _copy(clean_db, tmp_path)
    before = _rows(store, "gpt-5")
    corruption = corrupted_copy(tmp_path, kind)
    report = import_legacy(store, corruption.root)
    assert report.rejected == ["gpt-5"]
    assert report.accepted == [s for s in SIGNATURES if s != "gpt-5"]
    issues = store.query(
        "SELECT file, line, code, message FROM legacy_issues WHERE model = ? AND rejected",
        ["gpt-5"],
    )
    assert len(issues) == 1
    assert (issues["file"][0], issues["line"][0]) == (str(corruption.file), corruption.line)
    assert _rows(store, "gpt-5") == before  # nothing already imported is lost
    assert store.model_spec("gpt-5").params["root"] == str(FIXTURE_ROOT)  # not re-registered
    others = store.query(
        "SELECT DISTINCT source_file FROM legacy_positions WHERE model <> ?", ["gpt-5"]
    )
    assert all(f.startswith(str(corruption.root)) for f in others["source_file"])


def test_import_legacy_with_rejected_model_on_fresh_store_registers_only_the_others(
    tmp_path: Path,
) -> None:
    """A model rejected at its first import has no rows and no spec; the rest import."""
    store = ResultStore(tmp_path / "s.duckdb")
    corruption = corrupted_copy(tmp_path, "truncated_line")
    report = import_legacy(store, corruption.root)
    assert report.rejected == ["gpt-5"] and report.signatures[4].n_lines == 0
    assert report.signatures[4].issues[0].line == corruption.line
    assert "gpt-5" not in store.model_signatures() and _rows(store, "gpt-5") == []
    assert len(store.model_signatures()) == 5


def test_import_legacy_with_unsafe_folders_never_follows_them(tmp_path: Path) -> None:
    """`..hidden`, a symlink out of agent_data and an escaping position file are not read."""
    root = fixture_copy(tmp_path)
    agent_data = root / "data" / "agent_data"
    source = agent_data / "gpt-5" / "position"
    outside = tmp_path / "outside"
    shutil.copytree(source, outside / "position")
    shutil.copytree(source, agent_data / "..hidden" / "position")
    (agent_data / "escape").symlink_to(outside, target_is_directory=True)
    (agent_data / "inner" / "position").mkdir(parents=True)
    (agent_data / "inner" / "position" / "position.jsonl").symlink_to(
        outside / "position" / "position.jsonl"
    )
    store = ResultStore(tmp_path / "s.duckdb")
    report = import_legacy(store, root)
    unsafe = {Path(i.file).name for i in report.issues if i.code == "unsafe_signature"}
    assert unsafe == {"..hidden", "escape"}
    assert report.accepted == list(SIGNATURES) and report.rejected == ["inner"]
    (inner,) = [s for s in report.signatures if s.signature == "inner"]
    assert "escapes the legacy folder" in inner.issues[0].message
    models = set(store.query("SELECT DISTINCT model FROM legacy_positions")["model"])
    assert models == set(SIGNATURES) and set(store.model_signatures()) == set(SIGNATURES)
    recorded = store.query("SELECT file FROM legacy_issues WHERE code = 'unsafe_signature'")
    assert {Path(f).name for f in recorded["file"]} == {"..hidden", "escape"}
