"""What an analyst reads is true and has one home (issue 15): the benchmark starts at the
account's first open, the leaderboard reads `metrics`, a day stores its worst data
quality, every metrics row carries its model's parameters, fills stay in the day's range.

Expected values are worked out here from the bundled raw prices and the listed splits
and dividends, never with the code under test.
"""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import pytest
from bokeh_sampledata import stocks

from trading_assets.agents.base import AgentContext, Signal
from trading_assets.agents.registry import create_agent
from trading_assets.cli.main import main
from trading_assets.config import FeesConfig, MarketDataConfig, ModelSpec
from trading_assets.engine.fees import fees_from_config
from trading_assets.engine.simulate import DayResult, StartState, simulate
from trading_assets.kernel.merge import LaneSignal, merge
from trading_assets.market.sources import BundledSource
from trading_assets.portfolio.step import PortfolioState
from trading_assets.runs.metrics import compute_metrics, ranked_leaderboard
from trading_assets.runs.model import run_model
from trading_assets.store.analytics import rebuild_daily_portfolio, replace_leaderboard
from trading_assets.store.metrics import expand_params, replace_metrics, stored_metrics
from trading_assets.store.results import ResultStore, model_dates
from trading_assets.store.rows import day_rows

D = dt.date
AAPL_END = D(2012, 7, 31)


def spec(signature, agent, params=None, universe=("AAPL",)) -> ModelSpec:
    return ModelSpec(
        signature=signature,
        agent=agent,
        params=params or {},
        universe=universe,
        initial_cash=100_000.0,
        market_data=MarketDataConfig(),
        fees=FeesConfig(),
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> ResultStore:
    """AAPL alone bought and held with all its cash from 2000-03-01 to 2012-07-31 (before
    its first dividend: the agent keeps dividends as cash where the total-return
    benchmark reinvests them, a real difference after 2012-08), and an SMA crossover on
    two stocks over the whole bundled history (2000-03-01..2013-03-01)."""
    result = ResultStore(tmp_path_factory.mktemp("figures") / "store.duckdb")
    result.write_prices("bundled", BundledSource().load())
    specs = [
        spec("aapl-only", "buy_and_hold", {"fraction": 1.0}),
        spec("sma", "sma_crossover", {"fast": 10, "slow": 50, "size": 100}, ("AAPL", "IBM")),
    ]
    result.register_models(specs)
    for s, end in zip(specs, (AAPL_END, None), strict=True):
        run_model(result, s.signature, model_dates(result, s.signature, None, end))
    return result


def aapl_total_return_from_first_open() -> float:
    """One AAPL share bought at 2000-03-01's open, split 2:1 twice (2000-06-21 and
    2005-02-28, no dividend before 2012-08-09), valued at 2012-07-31's close."""
    a = stocks.AAPL
    close = dict(zip(a["date"], a["close"], strict=True))
    assert (a["date"][0], a["open"][0], close["2012-07-31"]) == ("2000-03-01", 118.56, 610.76)
    return 2.0 * 2.0 * close["2012-07-31"] / a["open"][0] - 1


def test_single_stock_buy_and_hold_has_the_stocks_return_from_the_first_open(store):
    row = compute_metrics(store).frame.set_index("model").loc["aapl-only"]
    expected = aapl_total_return_from_first_open()
    assert row["benchmark_return"] == pytest.approx(expected, rel=1e-9)
    assert row["benchmark_return"] == pytest.approx(19.6059, abs=1e-4)  # 4 x 610.76 / 118.56 - 1
    # a holder of AAPL alone does not beat AAPL: only the cash left over after whole
    # shares (< one share's price) keeps it a little below (before: far ahead, as the
    # benchmark bought a day late, after AAPL's +9.9 % on 2000-03-01)
    assert -0.02 < row["excess_return"] <= 0
    assert (
        not ranked_leaderboard(store, compute_metrics(store).frame)
        .set_index("model")
        .loc["aapl-only", "beats_benchmark"]
    )


def test_leaderboard_with_risk_free_rate_reads_sharpe_from_metrics(store):
    replace_metrics(store, compute_metrics(store, risk_free=0.05).frame)
    metrics = stored_metrics(store).set_index("model")
    board = ranked_leaderboard(store, stored_metrics(store)).set_index("model")
    at_default = compute_metrics(store).frame.set_index("model")
    for model in ("aapl-only", "sma"):
        assert metrics.loc[model, "risk_free_rate"] == 0.05
        assert board.loc[model, "sharpe"] == metrics.loc[model, "sharpe"]
        assert board.loc[model, "sharpe"] != at_default.loc[model, "sharpe"]  # 5 %, not 2 %
        for name in ("annualized_return", "max_drawdown", "total_return"):
            source = {"annualized_return": "annual_return", "total_return": "cumulative_return"}
            assert board.loc[model, name] == metrics.loc[model, source.get(name, name)]


def test_metrics_json_rows_carry_each_models_parameters_and_config_hash(store, capsys):
    assert main(["metrics", "--format", "json", "--store", str(store.path)]) == 0
    rows = {r["model"]: r for r in json.loads(capsys.readouterr().out)}
    assert (rows["sma"]["fast"], rows["sma"]["slow"], rows["sma"]["size"]) == (10, 50, 100)
    assert rows["aapl-only"]["fraction"] == 1.0 and rows["aapl-only"]["fast"] is None
    assert rows["sma"]["config_hash"] == store.model_spec("sma").config_hash
    for figure in ("active_return", "tracking_error", "information_ratio"):
        assert rows["sma"][figure] is not None


def test_models_list_csv_and_leaderboard_carry_parameters(store, capsys):
    assert main(["models", "list", "--format", "csv", "--store", str(store.path)]) == 0
    frame = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out)).set_index("model")
    assert frame.loc["sma", ["fast", "slow", "size"]].tolist() == [10, 50, 100]
    assert frame.loc["sma", "config_hash"] == store.model_spec("sma").config_hash
    assert main(["leaderboard", "--format", "json", "--store", str(store.path)]) == 0
    board = {r["model"]: r for r in json.loads(capsys.readouterr().out)}
    assert board["sma"]["slow"] == 50 and board["aapl-only"]["fraction"] == 1.0


def quality_signal(symbol: str, state: str) -> Signal:
    lane = LaneSignal("quant", 0, 0.5, data_quality=state)
    return Signal(symbol=symbol, merged=merge(lane, None))


def test_day_with_a_stale_data_signal_is_stored_with_the_worst_state(tmp_path):
    store = ResultStore(tmp_path / "store.duckdb")
    store.register_models([spec("m", "buy_and_hold", universe=("AAPL", "IBM"))])
    day = DayResult(
        date=D(2012, 1, 3),
        state=PortfolioState(cash=100_000.0),
        orders=(),
        # partial_data first, stale_data (worse, per the contract's priority) second
        signals=(quality_signal("AAPL", "partial_data"), quality_signal("IBM", "stale_data")),
        closes={},
        positions_value=0.0,
        value=100_000.0,
        daily_return=0.0,
    )
    tables = day_rows(
        "m",
        [day],
        initial_cash=100_000.0,
        run_id=None,
        config_hash="h",
        started_at=dt.datetime(2026, 1, 1),
    )
    store.write_results("m", [day.date], tables)
    stored = store.query("SELECT status, data_quality_state FROM model_days WHERE model = 'm'")
    assert stored.to_dict("records") == [
        {"status": "degraded_success", "data_quality_state": "stale_data"}
    ]


def test_fills_with_slippage_stay_within_the_days_low_high_range():
    """50 bps of slippage on every fill of an SMA crossover over the bundled history:
    a buy never pays above the day's high nor a sell gets below its low (backtrader caps
    a fill at the bar); a fill the range caps is at the bound itself."""
    history = BundledSource().load().select(("AAPL", "GOOG", "IBM", "MSFT"))
    context = AgentContext(signature="sma", universe=history.symbols)
    agent = create_agent("sma_crossover", {"fast": 5, "slow": 20, "size": 10}, context)
    fees = fees_from_config(FeesConfig(slippage_bps=50.0))
    start = StartState(PortfolioState(cash=1_000_000.0), 1_000_000.0)
    fills, capped = 0, 0
    for day in simulate(agent, history, history.dates, start, fees):
        row = history.index_of(day.date)
        for result in day.orders:
            if result.status != "filled":
                continue
            j = history.symbol_index(result.order.symbol)
            low, high, open_ = history.low[row, j], history.high[row, j], history.open[row, j]
            slipped = open_ * (1.005 if result.order.side == "buy" else 0.995)
            assert low <= result.price <= high, (day.date, result)
            fills += 1
            if result.price != pytest.approx(slipped, rel=1e-12):
                capped += 1
                assert result.price == (high if result.order.side == "buy" else low)
    assert fills > 300 and capped > 0


def test_daily_portfolio_drawdown_is_the_metrics_drawdown_from_the_initial_cash(tmp_path):
    """A model that loses 10 % on its first day is 10 % under water that day (it started
    at its initial cash), in daily_portfolio as in metrics' max_drawdown."""
    store = ResultStore(tmp_path / "store.duckdb")
    store.write_prices("bundled", BundledSource().load())
    store.register_models([spec("m", "buy_and_hold")])
    days = [D(2012, 1, 3), D(2012, 1, 4), D(2012, 1, 5)]
    values = [90_000.0, 95_000.0, 85_500.0]
    rows = [
        {"model": "m", "date": d, "status": "completed", "portfolio_value": v,
         "positions_value": 0.0, "daily_return": r, "contract_version": "v1alpha1"}
        for d, v, r in zip(days, values, (-0.1, 95 / 90 - 1, -0.1), strict=True)
    ]  # fmt: skip
    store.write_results("m", days, {"model_days": rows})
    rebuild_daily_portfolio(store)
    got = store.query("SELECT running_peak, drawdown FROM daily_portfolio ORDER BY date")
    assert got["running_peak"].tolist() == [100_000.0, 100_000.0, 100_000.0]
    assert got["drawdown"].tolist() == pytest.approx([0.1, 0.05, 0.145])
    metrics = compute_metrics(store).frame.set_index("model")
    assert metrics.loc["m", "max_drawdown"] == pytest.approx(got["drawdown"].max(), rel=1e-12)


def test_parameters_of_mixed_types_across_models_still_make_a_table(tmp_path):
    """One model's `k` is an int, another's a float; one's `x` a flag, another's a
    number: the leaderboard table still stores them (ints as floats, a mix as JSON)."""
    store = ResultStore(tmp_path / "store.duckdb")
    frame = expand_params(
        pd.DataFrame(
            {
                "model": ["a", "b"],
                "params": [json.dumps({"k": 2, "x": True}), json.dumps({"k": 2.5, "x": 1.5})],
            }
        )
    )
    replace_leaderboard(store, frame)
    got = store.query("SELECT model, k, x FROM leaderboard ORDER BY model")
    assert got.to_dict("records") == [
        {"model": "a", "k": 2.0, "x": "true"},
        {"model": "b", "k": 2.5, "x": "1.5"},
    ]


def test_a_rebuilt_leaderboard_holds_only_the_new_rows_and_a_new_parameters_column(tmp_path):
    """Rebuilt with the same columns, the table holds the new rows only (its rows are
    replaced); rebuilt with a parameter no earlier model had, it has that column."""
    store = ResultStore(tmp_path / "store.duckdb")
    replace_leaderboard(store, pd.DataFrame({"model": ["a", "b"], "k": [1.0, 2.0]}))
    replace_leaderboard(store, pd.DataFrame({"model": ["c"], "k": [3.0]}))
    assert store.query("SELECT model, k FROM leaderboard").to_dict("records") == [
        {"model": "c", "k": 3.0}
    ]
    replace_leaderboard(store, pd.DataFrame({"model": ["c", "d"], "k": [3.0, 4.0], "w": [5, 6]}))
    got = store.query("SELECT * FROM leaderboard ORDER BY model")
    assert got.to_dict("records") == [
        {"model": "c", "k": 3.0, "w": 5},
        {"model": "d", "k": 4.0, "w": 6},
    ]
