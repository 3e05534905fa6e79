"""Hostile market data (issue 16): finite but absurd numbers, a bar in the future, a
weekend bar and corporate actions for a symbol without prices are refused at load,
naming file:line (a MarketDataError the CLI prints as one line); the data-quality rule
flags such actions in a stored history; and, over generated folders, the folder source
ends in a valid history or a MarketDataError, never another exception."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trading_assets.cli.main import main
from trading_assets.errors import MarketDataError, TradingAssetsError
from trading_assets.market import quality
from trading_assets.market.actions import CorporateAction, CorporateActions
from trading_assets.market.history import PriceHistory
from trading_assets.market.sources import FolderSource

HEADER = "date,open,high,low,close,volume,split_ratio,dividend\n"
ROWS = [
    "2012-01-03,10.0,11.0,9.5,10.5,1000,,\n",
    "2012-01-04,10.5,12.0,10.0,11.5,2000,,\n",
    "2012-01-05,11.5,11.8,10.9,11.0,1500,,\n",
    "2012-01-06,11.0,11.2,10.1,10.2,900,,\n",
]


class PinnedClock:
    """Today is Monday 2012-01-09, whatever the wall clock says."""

    def now(self) -> dt.datetime:
        return dt.datetime(2012, 1, 9, 22, 0)


def folder(tmp: Path, rows: list[str], sidecar: str | None = None) -> Path:
    path = tmp / "prices"
    path.mkdir(exist_ok=True)
    (path / "AAA.csv").write_text(HEADER + "".join(rows))
    if sidecar is not None:
        (path / "corporate_actions.csv").write_text(
            "symbol,ex_date,split_ratio,dividend\n" + sidecar
        )
    return path


def with_row(at: int, row: str) -> list[str]:
    return [*ROWS[:at], row, *ROWS[at + 1 :]]


CASES = {
    "price of 1e308": (with_row(2, "2012-01-05,1e308,1e308,1e308,1e308,1500,,\n"), "AAA.csv:4"),
    "price of 1e-300": (with_row(2, "2012-01-05,1e-300,1e-300,1e-300,1e-300,1,,\n"), "AAA.csv:4"),
    "volume of 1e30": (with_row(1, "2012-01-04,10.5,12.0,10.0,11.5,1e30,,\n"), "AAA.csv:3"),
    "split ratio of 1e30": (
        with_row(2, "2012-01-05,11.5,11.8,10.9,11.0,1500,1e30,\n"),
        "AAA.csv:4",
    ),
    "dividend of 15x the price": (
        with_row(2, "2012-01-05,11.5,11.8,10.9,11.0,1500,,172.5\n"),
        "AAA.csv:4",
    ),
    "a bar on a Saturday": (
        [*ROWS[:3], "2012-01-07,11.0,11.2,10.1,10.2,900,,\n"],
        "AAA.csv:5",
    ),
    "a bar after today": ([*ROWS, "2012-01-10,11.0,11.2,10.1,10.2,900,,\n"], "AAA.csv:6"),
}
WORDS = {
    "price of 1e308": "prices positive numbers in [0.0001, 1e+07]",
    "price of 1e-300": "prices positive numbers in [0.0001, 1e+07]",
    "volume of 1e30": "bad bar",
    "split ratio of 1e30": "less than or equal to 1000",
    "dividend of 15x the price": "dividend 172.5 per share is not below the previous close 11.5",
    "a bar on a Saturday": "(Saturday) for AAA: a weekend day",
    "a bar after today": "after today (2012-01-09)",
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_absurd_or_impossible_bar_is_refused_naming_file_and_line(case, tmp_path):
    rows, where = CASES[case]
    path = folder(tmp_path, rows)
    with pytest.raises(MarketDataError) as info:
        FolderSource(path, clock=PinnedClock()).load()
    assert info.value.where == str(path / where.split(":")[0]) + ":" + where.split(":")[1]
    assert WORDS[case] in info.value.message and info.value.fix


def test_corporate_action_for_a_symbol_without_prices_names_the_sidecar_line(tmp_path):
    path = folder(tmp_path, ROWS, sidecar="AAA,2012-01-04,2,\nZZZ,2012-01-05,,0.5\n")
    with pytest.raises(MarketDataError) as info:
        FolderSource(path, clock=PinnedClock()).load()
    assert info.value.where == f"{path / 'corporate_actions.csv'}:3"
    assert "no bars for ZZZ" in info.value.message


def test_sane_actions_and_a_bar_dated_today_still_load(tmp_path):
    rows = with_row(2, "2012-01-05,11.5,11.8,10.9,11.0,1500,,0.25\n")
    path = folder(tmp_path, rows, sidecar="AAA,2012-01-08,0.5,\n")  # a Sunday ex-date
    history = FolderSource(path, clock=PinnedClock()).load()
    assert history.dates[-1] == dt.date(2012, 1, 6)
    assert [(a.ex_date, a.split_ratio, a.dividend) for a in history.actions] == [
        (dt.date(2012, 1, 5), 1.0, 0.25),
        (dt.date(2012, 1, 8), 0.5, 0.0),
    ]


def test_price_of_1e308_through_the_cli_is_one_error_line_and_nothing_runs(tmp_path, capsys):
    path = folder(tmp_path, with_row(2, "2012-01-05,1e308,1e308,1e308,1e308,1500,,\n"))
    config = tmp_path / "models.yaml"
    config.write_text(
        "universe: [AAA]\nmarket_data: {source: folder, path: prices}\n"
        "models:\n  - {signature: bh, agent: buy_and_hold}\n"
    )
    store = tmp_path / "store.duckdb"
    code = main(["backfill", "--config", str(config), "--store", str(store), "--quiet"])
    lines = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert lines[0].startswith(f"REJECTED bh: {path / 'AAA.csv'}:4: bad bar")
    assert lines[-1].startswith("error: no model to run: REJECTED bh:")
    assert len(lines) == 2 and "Traceback" not in "".join(lines)


def history_with(actions: list[CorporateAction]) -> PriceHistory:
    """A stored history (as an older version may have stored it): AAA closes at 10."""
    dates = (dt.date(2012, 1, 3), dt.date(2012, 1, 4), dt.date(2012, 1, 5))
    ones = np.full((3, 1), 10.0)
    return PriceHistory(
        dates, ("AAA",), ones, ones + 1, ones - 1, ones, ones * 100,
        source="folder:x", actions=CorporateActions(actions),
    )  # fmt: skip


def test_quality_rule_flags_impossible_actions_in_a_stored_history():
    history = history_with(
        [
            CorporateAction(symbol="AAA", ex_date=dt.date(2012, 1, 4), dividend=150.0),
            CorporateAction(symbol="ZZZ", ex_date=dt.date(2012, 1, 5), split_ratio=2.0),
            CorporateAction(symbol="AAA", ex_date=dt.date(2012, 1, 5), dividend=0.5),
        ]
    )
    found = {f.symbol: f for f in quality.impossible_actions(history)}
    assert set(found) == {"AAA", "ZZZ"}
    assert found["AAA"].dates == (dt.date(2012, 1, 4),)  # 0.5 on the 5th is possible
    assert "not below the previous close 10" in str(found["AAA"])
    assert "no bars for ZZZ" in str(found["ZZZ"])


# -- property: any folder ends in a history or a MarketDataError ------------------------

NUMBER = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(-(10**40), 10**40).map(str),
    st.sampled_from(["", "nan", "inf", "-0", "1e308", "1e-320", "abc", "1,5", " 7 "]),
)
DATE = st.one_of(
    st.dates(dt.date(1980, 1, 1), dt.date(2040, 12, 31)).map(dt.date.isoformat),
    st.sampled_from(["", "2012-13-01", "20120103", "2012-1-3", "2012-01-03T00:00", "x"]),
)
ROW = st.tuples(DATE, NUMBER, NUMBER, NUMBER, NUMBER, NUMBER, NUMBER, NUMBER).map(",".join)
TODAY = dt.date(2026, 1, 2)


class Today:
    def now(self) -> dt.datetime:
        return dt.datetime.combine(TODAY, dt.time(23))


@settings(max_examples=60, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(
    files=st.dictionaries(
        st.sampled_from(["AAA.csv", "bbb.csv", "CCC.csv"]),
        st.lists(ROW, max_size=6),
        min_size=1,
        max_size=2,
    ),
    sidecar=st.none()
    | st.lists(
        st.tuples(st.sampled_from(["AAA", "BBB", "ZZZ", ""]), DATE, NUMBER, NUMBER).map(",".join),
        max_size=3,
    ),
    header=st.sampled_from([HEADER, "date,open,high,low,close,volume\n", "date,close\n", ""]),
)
def test_any_price_folder_loads_or_is_a_market_data_error(files, sidecar, header):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp)
        for name, rows in files.items():
            (path / name).write_text(header + "".join(r + "\n" for r in rows))
        if sidecar is not None:
            (path / "corporate_actions.csv").write_text(
                "symbol,ex_date,split_ratio,dividend\n" + "".join(r + "\n" for r in sidecar)
            )
        try:
            history = FolderSource(path, clock=Today()).load()
        except TradingAssetsError as exc:
            assert isinstance(exc, MarketDataError) and exc.fix, exc
            return
    # a history that loads is within every bound
    prices = np.stack([history.open, history.high, history.low, history.close])
    assert np.all(np.isnan(prices) | ((prices >= 1e-4) & (prices <= 1e7)))
    assert all(d <= TODAY and d.weekday() < 5 for d in history.dates)
    assert quality.impossible_actions(history) == []
