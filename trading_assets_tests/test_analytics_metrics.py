"""Metrics, the benchmark and trading activity (analytics/).

Every return metric is compared with empyrical-reloaded's own function to 1e-9 on the
demo's model returns (its three models simulated in-process over 13 years) and on IBM's
total-return closes against an equal-weight benchmark, and with answers worked out by
hand on tiny series.
"""

from __future__ import annotations

import datetime as dt
import functools
import math

import empyrical as ep
import numpy as np
import pandas as pd
import pytest

from trading_assets.analytics.activity import activity
from trading_assets.analytics.benchmark import (
    buy_and_hold_returns,
    total_return_opens,
    total_return_prices,
)
from trading_assets.analytics.metrics import performance
from trading_assets.market.actions import CorporateAction, CorporateActions
from trading_assets.market.history import PriceHistory
from trading_assets.market.sources import BUNDLED_SYMBOLS, BundledSource
from trading_assets_tests.demo_store import build_demo_store

DATES = pd.bdate_range("2012-01-02", periods=6)


@functools.cache
def bundled_total_return_prices() -> pd.DataFrame:
    """The bundled closes with the splits and dividends the source derives, compounded."""
    return total_return_prices(BundledSource().load())


@functools.cache
def bundled_total_return_opens() -> pd.DataFrame:
    return total_return_opens(BundledSource().load())


def series(values) -> pd.Series:
    return pd.Series(values, index=DATES[: len(values)], dtype=float)


@pytest.fixture(scope="module")
def demo_returns(tmp_path_factory) -> dict[str, pd.Series]:
    """The bundled demo's three models over their full history, simulated in-process."""
    store = build_demo_store(tmp_path_factory.mktemp("demo") / "store.duckdb")
    days = store.query(
        "SELECT model, date, daily_return FROM model_days WHERE status <> 'failed' ORDER BY date"
    )
    return {m: g.set_index("date")["daily_return"] for m, g in days.groupby("model")}


@pytest.fixture(scope="module")
def realistic():
    prices = bundled_total_return_prices()
    model = prices["IBM"].pct_change().dropna()
    bench = buy_and_hold_returns(
        prices, ["AAPL", "MSFT"], dates=model.index, opens=bundled_total_return_opens()
    )
    return model, bench


def return_figures(r: pd.Series, rf: float) -> dict[str, float]:
    """empyrical's own answer for each return metric, `rf` a day (max drawdown positive)."""
    return {
        "cumulative_return": ep.cum_returns_final(r),
        "annual_return": ep.annual_return(r),
        "annual_volatility": ep.annual_volatility(r),
        "sharpe": ep.sharpe_ratio(r, risk_free=rf),
        "sortino": ep.sortino_ratio(r, required_return=rf),
        "max_drawdown": -ep.max_drawdown(r),
        "calmar": ep.calmar_ratio(r),
    }


def library_figures(r: pd.Series, b: pd.Series, rf: float) -> dict[str, float]:
    """return_figures, and against the benchmark `b`."""
    return {
        **return_figures(r, rf),
        "alpha": ep.alpha(r, b, risk_free=rf),
        "beta": ep.beta(r, b, risk_free=rf),
        "benchmark_return": ep.cum_returns_final(b),
    }


# -- equal to the library on a realistic series ---------------------------------------


def test_performance_with_realistic_returns_equals_empyrical_to_1e9(realistic):
    r, b = realistic
    rf = 0.03 / 252
    got = performance(r, b, risk_free=0.03)
    expected = library_figures(r, b, rf)
    assert len(r) > 3000
    for name, value in expected.items():
        assert getattr(got, name) == pytest.approx(float(value), abs=1e-9, rel=1e-9), name
    assert got.excess_return == pytest.approx(
        ep.cum_returns_final(r) - ep.cum_returns_final(b), abs=1e-9
    )
    assert got.risk_free_rate == 0.03 and got.days == len(r)


def test_performance_with_demo_model_returns_equals_empyrical_to_1e9(demo_returns):
    bench = buy_and_hold_returns(bundled_total_return_prices(), opens=bundled_total_return_opens())
    assert sorted(demo_returns) == ["buy-and-hold", "quant-llm-bollinger", "sma-10-50"]
    for model, r in demo_returns.items():
        r.index = pd.DatetimeIndex(r.index)
        b = bench.reindex(r.index)
        got = performance(r, b)
        assert len(r) == 3270
        for name, value in library_figures(r, b, 0.02 / 252).items():
            assert getattr(got, name) == pytest.approx(float(value), abs=1e-9, rel=1e-9), (
                model,
                name,
            )


def test_drawdown_dates_with_realistic_returns_bound_the_library_drawdown(realistic):
    r, _ = realistic
    got = performance(r)
    wealth = (1 + r).cumprod()
    fall = (
        1 - wealth[got.max_drawdown_trough.isoformat()] / wealth[got.max_drawdown_peak.isoformat()]
    )
    assert fall == pytest.approx(-ep.max_drawdown(r), abs=1e-9)
    assert got.max_drawdown_peak < got.max_drawdown_trough


# -- known answers by hand ------------------------------------------------------------


def test_performance_with_known_drawdown_gives_hand_computed_figures():
    # wealth 1 -> 1.1 -> 0.88 -> 0.792 -> 1.188: peak 1.1 on day 0, trough 0.792 on day 2
    got = performance(series([0.10, -0.20, -0.10, 0.50]), risk_free=0.0)
    assert got.cumulative_return == pytest.approx(0.188)
    assert got.max_drawdown == pytest.approx(1 - 0.792 / 1.1)
    assert (got.max_drawdown_peak, got.max_drawdown_trough) == (DATES[0].date(), DATES[2].date())
    # four days: no annualized return (it would be 1.188 ** (252 / 4) - 1, +5.2 million %)
    assert got.annual_return is None and got.calmar is None
    assert got.win_rate == 0.5
    assert got.profit_loss_ratio == pytest.approx(0.30 / 0.15)
    sample_std = np.std([0.10, -0.20, -0.10, 0.50], ddof=1)
    assert got.annual_volatility == pytest.approx(sample_std * math.sqrt(252))


def test_performance_with_constant_returns_has_no_drawdown_and_no_losses():
    got = performance(series([0.001] * 6))
    assert got.cumulative_return == pytest.approx(1.001**6 - 1)
    assert got.annual_return is None  # six days: under a year
    assert got.annual_volatility == pytest.approx(0.0, abs=1e-12)
    assert got.max_drawdown == 0.0
    assert (got.max_drawdown_peak, got.max_drawdown_trough) == (None, None)
    assert got.calmar is None and got.profit_loss_ratio is None
    assert got.win_rate == 1.0


def test_performance_with_fall_on_the_first_day_peaks_at_the_start():
    got = performance(series([-0.10, 0.05]))
    assert got.max_drawdown == pytest.approx(0.10)
    assert (got.max_drawdown_peak, got.max_drawdown_trough) == (DATES[0].date(), DATES[0].date())


@pytest.mark.parametrize("returns", [[0.01], [0.01, 0.01, 0.01]])
def test_sharpe_with_one_day_or_constant_returns_is_none_not_inf(returns):
    got = performance(series(returns))
    assert got.sharpe is None and got.sortino is None


def test_sharpe_and_sortino_with_known_returns_match_hand_formulas():
    returns = [0.01, -0.005, 0.02, 0.0]
    got = performance(series(returns), risk_free=0.02)
    excess = np.array(returns) - 0.02 / 252
    assert got.sharpe == pytest.approx(excess.mean() / excess.std(ddof=1) * math.sqrt(252))
    downside = math.sqrt(np.mean(np.minimum(excess, 0) ** 2)) * math.sqrt(252)
    assert got.sortino == pytest.approx(excess.mean() * 252 / downside)
    assert got.win_rate == pytest.approx(2 / 3)  # the flat day does not count


def test_against_benchmark_with_twice_the_benchmark_gives_beta_two_alpha_zero():
    bench = series([0.01, -0.02, 0.015, 0.005, -0.01])
    got = performance(bench * 2, bench, risk_free=0.0)
    assert got.beta == pytest.approx(2.0)
    assert got.alpha is None  # annualized: five days are under a year
    year = pd.Series(np.tile(bench.to_numpy(), 52), index=pd.bdate_range("2012-01-02", periods=260))
    assert performance(year * 2, year, risk_free=0.0).alpha == pytest.approx(0.0, abs=1e-12)
    bench_total = np.prod(1 + bench.to_numpy()) - 1
    assert got.benchmark_return == pytest.approx(bench_total)
    assert got.excess_return == pytest.approx(np.prod(1 + 2 * bench.to_numpy()) - 1 - bench_total)


def test_performance_with_no_returns_or_disjoint_benchmark_says_what_is_missing():
    with pytest.raises(ValueError, match="at least one stored day"):
        performance(pd.Series([], dtype=float))
    other = pd.Series([0.01, 0.02], index=pd.bdate_range("2020-01-01", periods=2))
    with pytest.raises(ValueError, match="shares 0 date"):
        performance(series([0.01, 0.02]), other)


# -- the benchmark --------------------------------------------------------------------


def test_buy_and_hold_with_two_symbols_is_the_mean_of_price_relatives():
    prices = pd.DataFrame({"A": [10.0, 11.0, 12.0], "B": [20.0, 20.0, 10.0]}, index=DATES[:3])
    got = buy_and_hold_returns(prices, opens=prices)  # opening at the close: day 1 flat
    # value: 1, (1.1 + 1) / 2 = 1.05, (1.2 + 0.5) / 2 = 0.85
    assert got.tolist() == pytest.approx([0.0, 0.05, 0.85 / 1.05 - 1])


def test_buy_and_hold_with_late_symbol_keeps_its_share_in_cash_until_it_trades():
    prices = pd.DataFrame(
        {"A": [10.0, 12.0, 12.0, 12.0], "B": [np.nan, np.nan, 50.0, 100.0]}, index=DATES[:4]
    )
    got = buy_and_hold_returns(prices, opens=prices)
    # value: 1, (1.2 + 1) / 2 = 1.1, 1.1 (B bought at 50), (1.2 + 2) / 2 = 1.6
    assert got.tolist() == pytest.approx([0.0, 0.1, 0.0, 1.6 / 1.1 - 1])


def test_buy_and_hold_with_bundled_single_symbol_is_its_total_return():
    prices = bundled_total_return_prices()
    got = buy_and_hold_returns(prices, ["MSFT"], opens=prices)
    adj = prices["MSFT"]
    assert np.prod(1 + got.to_numpy()) - 1 == pytest.approx(adj.iloc[-1] / adj.iloc[0] - 1)
    # total return, not the raw closes (90.81 on 2000-03-01, 27.95 on 2013-03-01, -69 %):
    # the 2003 split and the dividends are in it, as in the vendor's adj_close (-18.33 %)
    assert adj.iloc[-1] / adj.iloc[0] - 1 == pytest.approx(24.684342 / 30.225710 - 1, abs=2e-3)


def test_total_return_prices_of_bundled_data_move_as_the_vendors_adj_close():
    """Off ex-dates the daily returns are the vendor's to 1e-12. On a dividend ex-date
    the vendor scales history by (1 - D / previous close) while the benchmark reinvests
    the cash at the close, (close + D) / previous close, as a holder in the simulation
    gets it: they differ by < 0.2 % on the day (MSFT's $3 special dividend, 2004)."""
    from bokeh_sampledata import stocks

    got = bundled_total_return_prices()
    actions = BundledSource().load().actions
    for symbol in BUNDLED_SYMBOLS:
        data = getattr(stocks, symbol)
        vendor = pd.Series(data["adj_close"], index=pd.DatetimeIndex(data["date"]), dtype=float)
        ours = got[symbol].dropna()
        assert ours.index.equals(vendor.index)
        ex_dates = [pd.Timestamp(a.ex_date) for a in actions if a.symbol == symbol]
        diff = (ours.pct_change() - vendor.pct_change()).abs().iloc[1:]
        assert diff.drop(ex_dates).max() < 1e-12, symbol
        assert diff.max() < 2e-3, symbol


def test_total_return_prices_compound_a_split_and_a_dividend_by_hand():
    days = [dt.date(2012, 1, d) for d in (3, 4, 5, 6)]
    history = PriceHistory.from_frame(
        pd.DataFrame(
            {
                "date": days,
                "symbol": "A",
                "open": 1.0,
                "high": 1.0,
                "low": 1.0,
                "close": [100.0, 50.0, 48.0, 48.0],
                "volume": 1.0,
            }
        ),
        source="hand",
        actions=CorporateActions(
            [
                CorporateAction(symbol="A", ex_date=days[1], split_ratio=2.0),
                CorporateAction(symbol="A", ex_date=days[3], dividend=1.0),
            ]
        ),
    )
    got = total_return_prices(history)["A"].tolist()
    # 2:1 split: 50 x 2 = 100, flat; 48 / 50; then 48 + 1 dividend on 48: x 49 / 48
    assert got == pytest.approx([100.0, 100.0, 96.0, 98.0])


def test_buy_and_hold_with_symbol_without_prices_names_it():
    prices = pd.DataFrame({"A": [10.0, 11.0]}, index=DATES[:2])
    with pytest.raises(ValueError, match="no prices for ZZZ"):
        buy_and_hold_returns(prices, ["A", "ZZZ"], opens=prices)
    prices["B"] = np.nan
    with pytest.raises(ValueError, match="no price at all for B"):
        buy_and_hold_returns(prices, ["A", "B"], opens=prices)


def test_buy_and_hold_buys_at_the_first_open_so_day_one_has_its_open_to_close_move():
    closes = pd.DataFrame({"A": [11.0, 12.1], "B": [np.nan, 30.0]}, index=DATES[:2])
    opens = pd.DataFrame({"A": [10.0, 11.5], "B": [np.nan, 25.0]}, index=DATES[:2])
    got = buy_and_hold_returns(closes, opens=opens)
    # A bought at 10: 11 / 10 = 1.1; B (cash until its first open, 25): value (1.1 + 1) / 2
    # = 1.05 on day 1, then (1.21 + 30 / 25) / 2 = 1.205
    assert got.tolist() == pytest.approx([0.05, 1.205 / 1.05 - 1])


def test_total_return_opens_are_on_the_closes_scale_across_a_split():
    days = [dt.date(2012, 1, d) for d in (3, 4)]
    history = PriceHistory.from_frame(
        pd.DataFrame(
            {
                "date": days,
                "symbol": "A",
                "open": [98.0, 51.0],
                "high": 110.0,
                "low": 40.0,
                "close": [100.0, 50.0],
                "volume": 1.0,
            }
        ),
        source="hand",
        actions=CorporateActions([CorporateAction(symbol="A", ex_date=days[1], split_ratio=2.0)]),
    )
    # day 2 opens at 51 after a 2:1 split: 102 on day 1's scale (closes 100, 100)
    assert total_return_opens(history)["A"].tolist() == pytest.approx([98.0, 102.0])


def test_benchmark_figures_are_empyricals_and_annualized_returns_need_a_year(realistic):
    r, b = realistic
    got = performance(r, b)
    active = r - b
    assert got.tracking_error == pytest.approx(ep.annual_volatility(active), rel=1e-12)
    assert got.information_ratio == pytest.approx(
        ep.excess_sharpe(r, b) * math.sqrt(252), rel=1e-12
    )
    # mean(active) x 252 = information ratio x tracking error
    assert got.active_return == pytest.approx(got.information_ratio * got.tracking_error, rel=1e-9)
    short = performance(r.iloc[:20], b.iloc[:20])
    assert short.days == 20
    for name in ("annual_return", "calmar", "alpha", "active_return"):
        assert getattr(short, name) is None, name
    assert short.sharpe is not None and short.tracking_error is not None
    assert performance(r.iloc[:252], b.iloc[:252]).annual_return is not None


# -- trading activity -----------------------------------------------------------------


def test_activity_with_filled_and_rejected_orders_counts_only_fills():
    days = pd.DataFrame(
        {
            "date": DATES[:3],
            "portfolio_value": [1000.0, 1100.0, 0.0],
            "exposure": [0.5, 1.0, 0.0],
        }
    )
    orders = pd.DataFrame(
        {
            "status": ["filled", "rejected", "filled"],
            "quantity": [10, 99, 5],
            "price": [50.0, 10.0, 20.0],
            "commission": [1.0, 0.0, 0.5],
        }
    )
    got = activity(days, orders)
    assert got.traded_value == 600.0 and got.filled_orders == 2
    assert got.fees_paid == 1.5
    assert got.turnover == pytest.approx(600.0 / 700.0)
    assert got.exposure == pytest.approx((0.5 + 1.0 + 0.0) / 3)


def test_activity_with_no_orders_is_zero_and_without_days_undefined():
    orders = pd.DataFrame(columns=["status", "quantity", "price", "commission"])
    days = pd.DataFrame(columns=["date", "portfolio_value", "exposure"])
    got = activity(days, orders)
    assert (got.traded_value, got.fees_paid, got.filled_orders) == (0.0, 0.0, 0)
    assert got.turnover is None and got.exposure is None
