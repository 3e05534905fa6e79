"""Never poison, never splice: a model is registered only once its market data validates,
a model whose data no longer loads fails its own day (the others run), a changed config
never splices into a stored chain, and `trading-assets models` manages what is registered.
Real stores of the backend under test and real folder sources (CSV files) throughout."""

from __future__ import annotations

import json
import shutil

from trading_assets.cli.main import main
from trading_assets.runs.model_day import run_range
from trading_assets.runs.registration import register_validated
from trading_assets.store.models import enabled_signatures
from trading_assets.store.results import ResultStore
from trading_assets_tests.conftest import table_rows
from trading_assets_tests.folder_models import TABLES, days, folder, load_prices, spec


def test_a_model_whose_folder_is_gone_fails_its_own_day_and_the_other_runs(tmp_path, stores):
    store = ResultStore(stores.new())
    good, gone = folder(tmp_path, "good"), folder(tmp_path, "gone")
    registration = register_validated(store, [spec("good", good), spec("gone", gone)])
    assert [s.signature for s in registration.registered] == ["good", "gone"]
    load_prices(store)
    shutil.rmtree(gone)
    metadata = load_prices(store)
    assert list(metadata["failed_sources"].data) == [f"folder:{gone}"]

    outcome = run_range(store, {"good": days(5), "gone": days(5)})

    rows = table_rows(store, "model_days", "model, date")
    assert [(r["model"], r["status"]) for r in rows if r["model"] == "good"] == [
        ("good", "completed")
    ] * 5
    [broken] = [r for r in rows if r["model"] == "gone"]
    assert broken["date"] == days(1)[0] and broken["status"] == "failed"
    assert "market data folder does not exist" in broken["error_message"]
    assert str(gone) in broken["error_message"]
    assert [line.split(":")[0] for line in outcome.failures] == ["gone"]


def test_register_validated_registers_only_models_whose_data_loads(tmp_path, stores):
    store = ResultStore(stores.new())
    good = folder(tmp_path, "good")
    registration = register_validated(
        store,
        [
            spec("good", good),
            spec("nofolder", tmp_path / "missing"),
            spec("unknown-symbol", good, universe=("AAPL", "ZZZZ")),
        ],
    )
    assert [s.signature for s in registration.registered] == ["good"]
    assert "market data folder does not exist" in registration.rejected["nofolder"]
    assert "no prices for ZZZZ" in registration.rejected["unknown-symbol"]
    assert store.model_signatures() == ["good"]  # nothing half-registered poisons the store


def test_a_changed_config_on_a_sub_range_is_refused_then_resimulated_from_its_first_day(
    tmp_path, stores
):
    store = ResultStore(stores.new())
    path = folder(tmp_path, "p")
    old, new = spec("m", path), spec("m", path, cash=20_000.0)
    register_validated(store, [old])
    load_prices(store)
    run_range(store, {"m": days(6)})
    before = table_rows(store, "model_days", "date")

    refused = register_validated(store, [new], days(6)[3], days(6)[5])

    reason = refused.rejected["m"]
    assert f"model 'm' has days stored with config {old.config_hash} from {days(1)[0]}" in reason
    assert f"--start {days(1)[0]}" in reason and "new signature" in reason
    assert store.model_spec("m").config_hash == old.config_hash  # not re-registered
    assert table_rows(store, "model_days", "date") == before

    # a run launched by other means (the UI) with a changed spec is refused the same way
    store.register_models([new])
    outcome = run_range(store, {"m": days(6)[3:]})
    assert "one chain holds one config" in outcome.failures[0]
    assert table_rows(store, "model_days", "date") == before

    # re-simulating from the first stored day makes the whole chain the new config's
    assert register_validated(store, [new], days(1)[0], None).registered == [new]
    run_range(store, {"m": days(6)})
    rows = table_rows(store, "model_days", "date")
    assert {r["config_hash"] for r in rows} == {new.config_hash}
    assert rows[0]["cash"] < 20_000.0 < rows[0]["portfolio_value"] + 1_000  # fresh new cash


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_models_command_lists_disables_and_removes(tmp_path, capsys, stores):
    store = ResultStore(stores.new())
    path = folder(tmp_path, "p")
    register_validated(store, [spec("a", path), spec("b", path)])
    load_prices(store)
    run_range(store, {"a": days(4), "b": days(4)})
    at = ["--store", str(store.path)]

    code, out, _ = run_cli(capsys, "models", "list", "--format", "json", *at)
    listed = {m["model"]: m for m in json.loads(out)}
    assert code == 0
    assert listed["b"]["enabled"] is True and listed["b"]["days"] == 4
    assert listed["b"]["status"] == "completed"
    assert listed["b"]["config_hash"] == spec("b", path).config_hash

    code, out, _ = run_cli(capsys, "models", "disable", "b", *at)
    assert (code, out.strip()) == (0, "b: disabled")
    assert enabled_signatures(store) == ["a"]  # schedules and sensors read this
    outcome = run_range(store, {"a": days(5), "b": days(5)})
    assert list(outcome.ranges) == ["a"] and not outcome.failures  # left out, not failed
    assert len([r for r in table_rows(store, "model_days") if r["model"] == "b"]) == 4
    skipped = register_validated(store, [spec("b", path)])
    assert skipped.disabled == ["b"] and not skipped.registered

    code, _, err = run_cli(capsys, "models", "remove", "b", *at)
    assert code == 2 and "--yes" in err
    held = {t: sum(r["model"] == "b" for r in table_rows(store, t)) for t in TABLES}
    code, out, _ = run_cli(capsys, "models", "remove", "b", "--yes", *at)
    assert code == 0
    assert held["model_days"] == 4 and held["holdings"] > 0
    counts = ", ".join(f"{t} {n}" for t, n in sorted({**held, "models": 1}.items()) if n)
    assert out.strip() == f"b: removed {sum(held.values()) + 1} rows ({counts})"
    assert all(r["model"] != "b" for t in TABLES for r in table_rows(store, t))
    code, out, _ = run_cli(capsys, "models", "list", "--format", "json", *at)
    assert [m["model"] for m in json.loads(out)] == ["a"]

    code, _, err = run_cli(capsys, "models", "disable", "nope", *at)
    assert code == 2 and "unknown model 'nope' (registered: a)" in err
