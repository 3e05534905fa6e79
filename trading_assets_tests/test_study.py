"""A study: every trial of a grid through the engine, every trial's figures and daily
returns kept, the overfitting guards and walk-forward stored with it, and a promoted
trial equal to the same model run through `model_day`, row for row."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from trading_assets.config import load_config, study_specs
from trading_assets.market.calendar import trading_days
from trading_assets.market.sources import BundledSource
from trading_assets.runs.study import run_study
from trading_assets.store.results import ResultStore
from trading_assets.store.studies import (
    study_folds,
    study_returns,
    study_summary,
    study_trials,
    trial_spec,
)
from trading_assets_tests.conftest import materialize_model_days

START, END = dt.date(2011, 1, 3), dt.date(2012, 12, 31)
DAYS = trading_days(START, END)
CONFIG = f"""
universe: [AAPL, IBM, MSFT]
studies:
  - name: sma-grid
    agent: sma_crossover
    params: {{fast: [5, 10, 20], slow: [20, 50], size: 50}}
    constraints: ["fast < slow"]
    start: {START}
    end: {END}
    walk_forward: {{in_sample: 250, out_of_sample: 63}}
    pbo_blocks: 8
"""
TRIALS = [
    "sma-grid-fast5-slow20",
    "sma-grid-fast5-slow50",
    "sma-grid-fast10-slow20",
    "sma-grid-fast10-slow50",
    "sma-grid-fast20-slow50",
]


@pytest.fixture(scope="module")
def studied(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("study")
    (tmp / "models.yaml").write_text(CONFIG)
    [spec] = study_specs(load_config(tmp / "models.yaml"), tmp / "models.yaml")
    store = ResultStore(tmp / "store.duckdb")
    store.write_prices("bundled", BundledSource().load())
    result = run_study(store, spec)
    return store, spec, result


def test_study_expands_the_grid_and_counts_what_the_constraint_dropped(studied):
    _, spec, _ = studied
    assert [t.signature for t in spec.trials] == TRIALS
    assert spec.dropped == 1  # fast 20, slow 20


def test_study_keeps_every_trials_figures_with_parameter_columns(studied):
    store, _, _ = studied
    trials = study_trials(store, "sma-grid")
    assert sorted(trials["trial"]) == sorted(TRIALS)
    assert {"fast", "slow", "size", "sharpe", "final_value", "config_hash"} <= set(trials)
    row = trials.set_index("trial").loc["sma-grid-fast10-slow50"]
    assert (row["fast"], row["slow"], row["size"]) == (10, 50, 50)
    assert list(trials["sharpe"]) == sorted(trials["sharpe"], reverse=True)  # best first


def test_study_keeps_every_trials_daily_returns_over_its_period(studied):
    store, _, _ = studied
    returns = study_returns(store, "sma-grid")
    assert sorted(returns.columns) == sorted(TRIALS)
    assert [d.date() if hasattr(d, "date") else d for d in returns.index] == DAYS  # 502 days


def test_study_stores_the_guards_and_the_walk_forward(studied):
    store, _, result = studied
    summary = study_summary(store, "sma-grid")
    assert summary["trials"] == 5 and summary["dropped"] == 1 and summary["days"] == len(DAYS)
    assert 0.0 <= summary["deflated_sharpe"] <= 1.0
    assert summary["pbo_splits"] == 70  # C(8, 4)
    folds = study_folds(store, "sma-grid")
    # 502 days, 250 in sample, 63 out: folds start at 0, 63, 126, 189 (189 + 250 < 502)
    assert len(folds) == 4
    assert set(folds["pick"]) <= set(TRIALS)
    assert summary["best_trial"] == result.best


def test_promoted_trial_through_model_day_equals_the_study_row_for_row(studied):
    store, _, _ = studied
    trial = "sma-grid-fast10-slow50"
    spec = trial_spec(store, "sma-grid", trial)
    store.register_models([spec])
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("models", [trial])
        result = materialize_model_days(instance, store, trial, START, END)
        assert result.success
    days = store.query(
        "SELECT date, portfolio_value, daily_return FROM model_days WHERE model = ? ORDER BY date",
        [trial],
    )
    kept = store.query(
        "SELECT date, portfolio_value, daily_return FROM study_returns "
        "WHERE study = 'sma-grid' AND trial = ? ORDER BY date",
        [trial],
    )
    assert len(days) == len(DAYS)
    assert days.to_dict("records") == kept.to_dict("records")
    [registered] = store.query("SELECT config_hash FROM models WHERE signature = ?", [trial])[
        "config_hash"
    ]
    assert registered == spec.config_hash


@pytest.mark.slow
def test_study_cli_runs_the_asset_and_shows_every_trial_with_its_parameters(tmp_path, monkeypatch):
    import json
    import os
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    home = tmp_path / "home"
    home.mkdir()
    shutil.copyfile(repo / "dagster.yaml", home / "dagster.yaml")
    (tmp_path / "grid.yaml").write_text(CONFIG)
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    cli = [str(Path(sys.executable).parent / "trading-assets")]
    store = str(tmp_path / "s.duckdb")

    def run(*args):
        return subprocess.run(
            [*cli, *args, "--store", store], env=env, capture_output=True, text=True, timeout=300
        )

    done = run("study", "run", "--config", str(tmp_path / "grid.yaml"))
    assert done.returncode == 0, done.stderr
    assert "sma-grid" in done.stdout.splitlines()[1]
    shown = run("study", "show", "sma-grid", "--format", "json")
    payload = json.loads(shown.stdout)
    assert payload["study"]["trials"] == 5
    assert {(t["fast"], t["slow"]) for t in payload["trials"]} == {
        (5, 20),
        (5, 50),
        (10, 20),
        (10, 50),
        (20, 50),
    }
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    with dg.DagsterInstance.get() as instance:
        [event] = instance.fetch_materializations(dg.AssetKey("study"), limit=1).records
        meta = event.asset_materialization.metadata
        assert event.partition_key == "sma-grid"
        # the UI's runs page filters on the command that ran it
        assert instance.get_run_by_id(event.run_id).tags["trading_assets/cli"] == "study"
        assert meta["trials"].value == 5
        assert "| sma-grid-" in meta["top_20_trials"].value
        assert meta["heatmap_sharpe"].value.startswith("![Sharpe heat map](data:image/png;base64,")
        assert meta["risk_free_rate"].value == 0.02  # what the Sharpe ratios are over
        table = {r.data["trial"]: r.data for r in meta["trials_table"].value.records}
        shown = json.loads(run("study", "show", "sma-grid", "--format", "json").stdout)
        for trial in shown["trials"]:  # the table rounds as the markdown does, 4 places
            assert table[trial["trial"]]["sharpe"] == round(trial["sharpe"], 4)
    promoted = run("study", "promote", "sma-grid", "sma-grid-fast10-slow50")
    assert promoted.returncode == 0, promoted.stderr
    assert promoted.stdout.startswith("sma-grid-fast10-slow50: registered as a model")


def test_guards_judge_the_sharpe_ratios_the_trials_show_over_the_risk_free_rate(tmp_path, studied):
    """20 shares at a time earn about 1 % in two years: positive raw returns, but every
    trial's Sharpe ratio (over the 2 % risk-free rate) is negative. Picking the best of
    four such trials is no evidence of skill: the deflated Sharpe ratio must say under
    one half (it said 0.974 when the guards read raw returns), and the walk-forward's
    in-sample pick is the trial with the best in-sample Sharpe over that rate."""
    store, _, _ = studied
    (tmp_path / "grid.yaml").write_text(
        "universe: [AAPL, IBM]\nstudies:\n  - name: small\n    agent: sma_crossover\n"
        "    params: {fast: [5, 10], slow: [20, 50], size: 20}\n"
        "    start: 2005-01-03\n    end: 2006-12-29\n"
        "    walk_forward: {in_sample: 250, out_of_sample: 63}\n"
    )
    [spec] = study_specs(load_config(tmp_path / "grid.yaml"), tmp_path / "grid.yaml")
    run_study(store, spec)
    trials = study_trials(store, "small")
    returns = study_returns(store, "small")
    assert (returns.sum() > 0).all() and (trials["sharpe"] < 0).all()
    summary = study_summary(store, "small")
    assert summary["deflated_sharpe"] < 0.5
    # fold 0: the first 250 days in sample; its pick has the best mean/std of the daily
    # return less 0.02 / 252 there (worked here from the stored returns)
    inside = returns.iloc[:250] - 0.02 / 252
    by_hand = (inside.mean() / inside.std(ddof=1)).idxmax()
    assert study_folds(store, "small")["pick"].iloc[0] == by_hand


def test_trials_that_never_trade_change_no_guard_but_the_count_of_trials_tried(tmp_path, studied):
    """A million shares a buy: every order is refused for cash, so those six trials hold
    cash all along and have no Sharpe ratio (their excess returns are a constant; its
    computed spread is rounding noise, 1e-18). Added to a grid, they are never the pick,
    leave the PBO and the walk-forward as they were, and only lower the deflated Sharpe
    ratio a little (more trials tried). Reading the noise as a Sharpe ratio of -1e13 made
    the DSR's spread of Sharpe ratios explode (DSR about 0)."""
    store, _, _ = studied
    grid = (
        "universe: [AAPL, IBM, MSFT]\nstudies:\n  - name: {name}\n    agent: sma_crossover\n"
        "    params: {{fast: [5, 10, 20], slow: [50, 100], size: {size}}}\n"
        "    walk_forward: {{in_sample: 504, out_of_sample: 126}}\n"
    )
    summaries, folds = {}, {}
    for name, size in (("trading", "50"), ("with-idle", "[50, 1000000]")):
        path = tmp_path / f"{name}.yaml"
        path.write_text(grid.format(name=name, size=size))
        [spec] = study_specs(load_config(path), path)
        run_study(store, spec)
        summaries[name] = study_summary(store, name)
        folds[name] = [p.replace("-size50", "") for p in study_folds(store, name)["pick"]]
    idle = study_trials(store, "with-idle").query("filled_orders == 0")
    assert len(idle) == 6 and idle["sharpe"].isna().all()
    trading, mixed = summaries["trading"], summaries["with-idle"]
    assert mixed["best_trial"] == trading["best_trial"].replace("trading", "with-idle") + "-size50"
    assert folds["with-idle"] == [p.replace("trading", "with-idle") for p in folds["trading"]]
    assert mixed["walk_forward_return"] == trading["walk_forward_return"]
    assert mixed["pbo"] == trading["pbo"]
    assert 0.8 * trading["deflated_sharpe"] < mixed["deflated_sharpe"] < trading["deflated_sharpe"]
