"""The market-data quality rules (market/quality.py), on small in-memory histories: each
finds its defect and names the symbol and date, and passes a clean history."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from trading_assets.market import quality
from trading_assets.market.actions import CorporateAction, CorporateActions
from trading_assets.market.history import PriceHistory
from trading_assets.market.sources import BundledSource

D = dt.date
DAYS = [D(2012, 1, 3), D(2012, 1, 4), D(2012, 1, 5), D(2012, 1, 6), D(2012, 1, 9)]


def history(closes: dict[str, list[float]], opens=None, actions=None, dates=DAYS):
    rows = []
    for symbol, values in closes.items():
        for i, (day, close) in enumerate(zip(dates, values, strict=True)):
            if np.isnan(close):
                continue
            op = (opens or {}).get(symbol, values)[i]
            rows.append([day, symbol, op, max(op, close), min(op, close), close, 100.0])
    frame = pd.DataFrame(rows, columns=["date", "symbol", "open", "high", "low", "close", "volume"])
    return PriceHistory.from_frame(frame, source="test", actions=actions)


def test_clean_history_has_no_findings():
    h = history({"AAA": [10, 10.5, 11, 10.8, 11.2], "BBB": [20, 21, 20, 19, 20]})
    rules = (quality.missing_days, quality.bad_prices, quality.unexplained_jumps)
    assert [rule(h) for rule in (*rules, quality.stale_symbols)] == [[], [], [], []]


def test_missing_days_names_the_session_without_a_bar():
    h = history({"AAA": [10, np.nan, 11, 11, 11], "BBB": [20, 21, 20, 19, 20]})
    [finding] = quality.missing_days(h)
    assert (finding.symbol, finding.dates) == ("AAA", (D(2012, 1, 4),))


def test_missing_days_ignores_days_before_listing_and_exchange_holidays():
    days = [D(2012, 1, 13), D(2012, 1, 17), D(2012, 1, 18)]  # the 16th: MLK day, closed
    h = history({"AAA": [10, 10, 10], "NEW": [np.nan, 5, 5]}, dates=days)
    assert quality.missing_days(h) == []


def test_bad_prices_names_a_zero_and_an_infinite_price():
    h = history({"AAA": [10, 0.0, 11, np.inf, 11]})
    [finding] = quality.bad_prices(h)
    assert finding.dates == (D(2012, 1, 4), D(2012, 1, 6))
    assert "AAA" in str(finding) and "2012-01-04" in str(finding)


def test_jump_without_corporate_action_is_found_and_a_split_explains_one():
    closes = {"AAA": [100, 100, 50, 50, 50], "BBB": [100, 100, 100, 140, 140]}
    split = CorporateAction(symbol="AAA", ex_date=D(2012, 1, 5), split_ratio=2.0)
    h = history(closes, actions=CorporateActions([split]))
    [finding] = quality.unexplained_jumps(h)
    assert (finding.symbol, finding.dates) == ("BBB", (D(2012, 1, 6),))
    # a source with no corporate actions (legacy) explains no jump
    raw = h.with_actions(None)
    assert [f.symbol for f in quality.unexplained_jumps(raw)] == ["AAA", "BBB"]


def test_jump_below_the_threshold_is_not_a_finding():
    h = history({"AAA": [100, 100, 124, 124, 124]})
    assert quality.JUMP_THRESHOLD == 0.25
    assert quality.unexplained_jumps(h) == []


def test_stale_symbol_names_its_last_bar():
    h = history({"AAA": [10, 10, 10, 10, 10], "OLD": [5, 5, np.nan, np.nan, np.nan]})
    [finding] = quality.stale_symbols(h)
    assert (finding.symbol, finding.dates) == ("OLD", (D(2012, 1, 4),))


def test_bundled_data_has_one_unexplained_jump_apples_2000_profit_warning():
    h = BundledSource().load()
    assert quality.missing_days(h) == quality.bad_prices(h) == quality.stale_symbols(h) == []
    jumps = quality.unexplained_jumps(h)
    assert [(f.symbol, f.dates) for f in jumps] == [("AAPL", (D(2000, 9, 29),))]
