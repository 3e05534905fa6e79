"""`trading-assets metrics` and `leaderboard` as a user reads them, against a real store
(the demo's three models simulated over 2012): JSON and CSV carry fractions equal to
empyrical's on `model_days.daily_return`; the table shows percentages; the leaderboard
ranks by excess return over the benchmark."""

from __future__ import annotations

import datetime as dt
import io
import json
import math

import empyrical as ep
import pandas as pd
import pytest

from trading_assets.cli.main import main
from trading_assets_tests.demo_store import build_demo_store
from trading_assets_tests.test_analytics_metrics import return_figures

MODELS = ("buy-and-hold", "quant-llm-bollinger", "sma-10-50")
REQUIRED = {
    "model", "cumulative_return", "annual_return", "annual_volatility", "sharpe", "sortino",
    "max_drawdown", "calmar", "risk_free_rate",
}  # fmt: skip


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "store.duckdb"
    return build_demo_store(path, dt.date(2012, 1, 3), dt.date(2012, 12, 31))


def cli(capsys, store, *args: str) -> tuple[int, str, str]:
    code = main([*args, "--store", str(store.path)])
    out = capsys.readouterr()
    return code, out.out, out.err


def returns(store, model: str) -> pd.Series:
    frame = store.query(
        "SELECT date, daily_return FROM model_days WHERE model = ? ORDER BY date", [model]
    )
    return frame.set_index(pd.DatetimeIndex(frame["date"]))["daily_return"]


def library(r: pd.Series, rf: float) -> dict[str, float | None]:
    """empyrical's figures for an annual risk-free rate `rf` (rf / 252 a day); 2012 has
    250 sessions, under a year, so no annualized return (nor Calmar) at all."""
    assert len(r) == 250
    return return_figures(r, rf / 252) | {"annual_return": None, "calmar": None}


def test_metrics_json_with_risk_free_rate_equals_empyrical_per_model(capsys, store):
    code, out, _ = cli(capsys, store, "metrics", "--format", "json", "--risk-free", "0.03")
    assert code == 0
    rows = json.loads(out)
    assert [r["model"] for r in rows] == list(MODELS)
    for row in rows:
        assert set(row) >= REQUIRED
        assert row["risk_free_rate"] == 0.03
        for name, value in library(returns(store, row["model"]), 0.03).items():
            if value is None:
                assert row[name] is None, (row["model"], name)
            else:
                assert row[name] == pytest.approx(float(value), abs=1e-9), (row["model"], name)


def test_metrics_table_shows_fractions_as_percentages(capsys, store):
    code, out, _ = cli(capsys, store, "metrics", "--model", "sma-10-50")
    assert code == 0
    header, line = out.splitlines()
    assert header.split() == [
        "model", "cumulative_return", "benchmark_return", "excess_return", "annual_return",
        "annual_volatility", "sharpe", "sortino", "max_drawdown", "calmar", "risk_free_rate",
        "days", "fast", "slow", "size",
    ]  # fmt: skip
    figures = library(returns(store, "sma-10-50"), 0.02)
    cells = line.split()
    assert cells[0] == "sma-10-50"
    assert cells[1] == f"{figures['cumulative_return']:.2%}"
    assert cells[6] == f"{figures['sharpe']:.4f}"  # a ratio, not a percentage
    assert cells[8] == f"{figures['max_drawdown']:.2%}"
    assert cells[4] == "(<1y)" and cells[9] == "(<1y)"  # annual return, Calmar: 250 days
    assert cells[-5:] == ["2.00%", "250", "10", "50", "100"]


def test_metrics_csv_keeps_fractions(capsys, store):
    code, out, _ = cli(capsys, store, "metrics", "--format", "csv")
    assert code == 0
    frame = pd.read_csv(io.StringIO(out))
    assert list(frame["model"]) == list(MODELS)
    r = returns(store, "buy-and-hold")
    got = frame.set_index("model").loc["buy-and-hold", "cumulative_return"]
    assert got == pytest.approx(ep.cum_returns_final(r), abs=1e-9)
    assert "%" not in out


def test_metrics_with_unknown_model_exits_2_naming_the_registered_ones(capsys, store):
    code, out, err = cli(capsys, store, "metrics", "--model", "nope")
    assert code == 2 and out == ""
    assert "unknown model nope" in err
    assert all(model in err for model in MODELS)


def test_leaderboard_ranks_by_excess_return_and_says_who_beat_the_benchmark(capsys, store):
    code, out, _ = cli(capsys, store, "leaderboard", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    excess = [r["excess_return"] for r in rows]
    assert excess == sorted(excess, reverse=True)
    for row in rows:
        assert math.isclose(row["excess_return"], row["total_return"] - row["benchmark_return"])
        assert row["beats_benchmark"] == (row["excess_return"] > 0)
    code, table, _ = cli(capsys, store, "leaderboard")
    first = table.splitlines()[1].split()
    assert first[0] == rows[0]["model"]
    assert f"{rows[0]['total_return']:.2%}" in first
