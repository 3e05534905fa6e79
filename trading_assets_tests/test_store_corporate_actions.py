"""Corporate actions in the store: a source's splits and dividends are stored with its
bars and read back by runs (not from the source); each applied action is a row of
`model_day_actions`; listings are a view; and every change of cash or shares between
consecutive model-days is explained by an order or an action row."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pandas as pd
import pytest

from trading_assets.config import FeesConfig, MarketDataConfig, ModelSpec
from trading_assets.errors import StoreError
from trading_assets.market.calendar import trading_days
from trading_assets.market.history import PriceHistory
from trading_assets.market.sources import BundledSource
from trading_assets.runs.model import run_model
from trading_assets.store.results import ResultStore
from trading_assets_tests import test_store

D = dt.date
UNIVERSE = ("AAPL", "IBM", "MSFT")
# AAPL splits 2:1 on 2005-02-28; IBM and MSFT go ex-dividend in this quarter
DAYS = trading_days(D(2004, 12, 1), D(2005, 3, 31))


def spec(signature: str, agent: str, params: dict, mode: str = "apply") -> ModelSpec:
    return ModelSpec(
        signature=signature,
        agent=agent,
        params=params,
        universe=UNIVERSE,
        initial_cash=100_000.0,
        market_data=MarketDataConfig(),
        fees=FeesConfig(),
        corporate_actions=mode,
    )


template = test_store.template  # the fixture: a store with the bundled prices, once per module
MODELS = (
    spec("bh", "buy_and_hold", {}),
    spec("sma", "sma_crossover", {"fast": 3, "slow": 10, "size": 40}),
)


@pytest.fixture
def store(template, stores) -> ResultStore:
    result = ResultStore(stores.copy(template))
    result.register_models(MODELS)
    return result


def test_bundled_prices_store_exactly_the_three_splits(store):
    splits = store.query(
        "SELECT symbol, ex_date, split_ratio FROM corporate_actions "
        "WHERE source = 'bundled' AND split_ratio != 1 ORDER BY ex_date"
    )
    assert [(s, pd.Timestamp(d).date(), r) for s, d, r in splits.itertuples(index=False)] == [
        ("AAPL", D(2000, 6, 21), 2.0),
        ("MSFT", D(2003, 2, 18), 2.0),
        ("AAPL", D(2005, 2, 28), 2.0),
    ]
    dividends = store.query(
        "SELECT symbol, min(ex_date) AS first FROM corporate_actions WHERE dividend > 0 "
        "GROUP BY 1 ORDER BY 1"
    )
    # Apple resumed dividends in August 2012; Google paid none before 2013
    assert list(dividends["symbol"]) == ["AAPL", "IBM", "MSFT"]
    assert pd.Timestamp(dividends["first"][0]).date() >= D(2012, 8, 1)
    [(flag,)] = store.query(
        "SELECT has_corporate_actions FROM price_sources WHERE source = 'bundled'"
    ).itertuples(index=False)
    assert flag is True


def test_load_prices_returns_the_stored_actions(store):
    assert store.load_prices("bundled").actions == BundledSource().load().actions


def test_listings_view_shows_goog_listing_in_2004(store):
    listings = store.query(
        "SELECT symbol, first_date, last_date FROM listings WHERE source = 'bundled' "
        "ORDER BY symbol"
    )
    first = {s: pd.Timestamp(f).date() for s, f, _ in listings.itertuples(index=False)}
    assert first == {
        "AAPL": D(2000, 3, 1),
        "GOOG": D(2004, 8, 19),
        "IBM": D(2000, 3, 1),
        "MSFT": D(2000, 3, 1),
    }
    assert {pd.Timestamp(x).date() for x in listings["last_date"]} == {D(2013, 3, 1)}


def test_run_reads_actions_from_the_store_not_the_source(store):
    # the bars stay; the stored actions say AAPL has none: a run applies nothing
    raw = store.load_prices("bundled")
    store.write_prices("bundled", raw.with_actions(raw.actions.for_symbols(["IBM"])))
    run_model(store, "bh", DAYS)
    kinds = store.query("SELECT DISTINCT symbol FROM model_day_actions WHERE model = 'bh'")
    assert list(kinds["symbol"]) == ["IBM"]


def test_apply_with_prices_stored_before_actions_were_kept_says_rematerialize(store):
    store.query("UPDATE price_sources SET has_corporate_actions = NULL")
    with pytest.raises(StoreError, match="re-materialize market_prices"):
        run_model(store, "bh", DAYS[:2])


def test_source_without_actions_is_stored_as_having_none(store):
    frame = store.load_prices("bundled").to_frame()
    store.write_prices("raw", PriceHistory.from_frame(frame, source="raw", actions=None))
    rows = store.query("SELECT count(*) AS n FROM corporate_actions WHERE source = 'raw'")
    assert rows["n"][0] == 0
    assert store.load_prices("raw").actions is None


def test_split_effect_is_stored_with_the_model_day(store):
    run_model(store, "bh", DAYS)
    split = store.query(
        "SELECT date, kind, split_ratio, shares_before, shares_after, cash_change "
        "FROM model_day_actions WHERE model = 'bh' AND symbol = 'AAPL'"
    )
    [(date, kind, ratio, before, after, cash)] = split.itertuples(index=False)
    assert (pd.Timestamp(date).date(), kind, ratio, cash) == (D(2005, 2, 28), "split", 2.0, 0.0)
    assert after == 2 * before > 0


@pytest.mark.parametrize("model", ["bh", "sma"])
def test_every_change_of_cash_or_shares_is_an_order_or_an_action(store, model):
    run_model(store, model, DAYS)
    days = store.query("SELECT date, cash FROM model_days WHERE model = ? ORDER BY date", [model])
    held = _by_date(store, "SELECT date, symbol, shares FROM holdings WHERE model = ?", model)
    orders = _by_date(
        store,
        "SELECT date, symbol, side, quantity, price, commission FROM orders "
        "WHERE model = ? AND status = 'filled'",
        model,
    )
    actions = _by_date(
        store,
        "SELECT date, symbol, shares_before, shares_after, cash_change "
        "FROM model_day_actions WHERE model = ?",
        model,
    )
    applied = [row for rows in actions.values() for row in rows]
    assert any(after == 2 * before > 0 for _, before, after, _ in applied)  # the AAPL split
    assert any(cash_change > 0 for *_, cash_change in applied)  # a dividend was credited
    dates = [pd.Timestamp(d).date() for d in days["date"]]
    cash = dict(zip(dates, days["cash"], strict=True))
    shares: dict[str, int] = {}
    expected_cash = 100_000.0
    for day in dates:
        for symbol, before, after, cash_change in actions.get(day, []):
            assert shares.get(symbol, 0) == before, (day, symbol)
            shares[symbol] = after
            expected_cash += cash_change
        for symbol, side, quantity, price, commission in orders.get(day, []):
            sign = 1 if side == "buy" else -1
            shares[symbol] = shares.get(symbol, 0) + sign * quantity
            expected_cash -= sign * quantity * price + commission
        stored = {s: q for s, q in held.get(day, [])}
        assert {s: q for s, q in shares.items() if q} == stored, day
        assert cash[day] == pytest.approx(expected_cash, rel=0, abs=1e-6), day
        expected_cash = cash[day]


def _by_date(store: ResultStore, sql: str, model: str) -> dict[dt.date, list[tuple]]:
    out: dict[dt.date, list[tuple]] = defaultdict(list)
    for row in store.query(sql + " ORDER BY ALL", [model]).itertuples(index=False):
        out[pd.Timestamp(row[0]).date()].append(tuple(row[1:]))
    return out
