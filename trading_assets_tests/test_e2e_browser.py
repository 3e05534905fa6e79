"""The Dagster UI in a real browser: Debian's chromium, headless, through Playwright,
against a webserver on a freshly backfilled instance. A newcomer's questions, answered
in the UI without reading code: the asset lineage; which models beat the benchmark;
one model's equity curve (the image must load); one model-day's cash, orders and
decision; and which day a check failed (a legacy import with one corrupted line).
Screenshots are saved under .artifacts/browser/ (the path is printed)."""

from __future__ import annotations

import json

import dagster as dg
import pytest

from trading_assets.store.results import ResultStore
from trading_assets_tests.browser import browser_page, open_page, screenshot
from trading_assets_tests.e2e import sqlite_project, webserver, write_config

pytestmark = pytest.mark.slow
LINEAGE = ["market_prices", "model_day", "daily_portfolio", "metrics", "leaderboard"]
CONFIG = """
universe: [AAPL, IBM]
models:
  - {signature: hold, agent: buy_and_hold}
  - {signature: sma, agent: sma_crossover, params: {fast: 5, slow: 20, size: 20}}
"""
DAY = "2012-01-03|hold"  # the buy-and-hold model's first day: it buys its universe


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    from trading_assets_tests.legacy_fixture import corrupted_copy

    tmp_path = tmp_path_factory.mktemp("browser")
    project = sqlite_project(tmp_path)
    config = write_config(tmp_path, CONFIG)
    done = project.run(
        "backfill", "--config", str(config), "--start", "2012-01-03", "--end", "2012-03-30"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # a legacy record with one corrupted line: its replay's parity check fails that day
    broken = corrupted_copy(tmp_path / "legacy", "sell_not_held")
    imported = project.run("import-legacy", str(broken.root))
    assert imported.returncode == 1, imported.stdout[-2000:] + imported.stderr[-2000:]
    bad_day = json.loads(broken.file.read_text().splitlines()[broken.line - 1])["date"]
    with dg.DagsterInstance.from_config(str(project.home)) as instance:
        (failed,) = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    with webserver(project) as port, browser_page() as page:
        yield (
            f"http://127.0.0.1:{port}",
            page,
            ResultStore(project.store),
            (bad_day, failed.run_id),
        )


def body(page) -> str:
    """The page's text as a person reads it: words separated by single spaces."""
    return " ".join(page.inner_text("body").split())


def test_lineage_page_draws_the_five_assets_left_to_right(ui, request):
    base, page, *_ = ui
    open_page(page, f"{base}/assets/leaderboard?view=lineage&lineageScope=upstream&lineageDepth=4")
    boxes = {}
    for name in LINEAGE:
        node = page.get_by_text(name, exact=True).last
        node.wait_for(state="visible", timeout=30_000)
        boxes[name] = node.bounding_box()
    screenshot(page, request.node.name, "lineage")
    xs = [boxes[name]["x"] for name in LINEAGE]
    assert xs == sorted(xs) and len(set(xs)) == 5, boxes
    for group in ("market_data", "simulation", "analytics"):
        assert page.get_by_text(group, exact=True).first.is_visible()


def open_metadata(page, label: str) -> None:
    """Open the markdown of an event's metadata entry (the UI shows it in a dialog)."""
    page.get_by_text(label, exact=True).first.wait_for(state="visible", timeout=30_000)
    row = page.locator("tr", has=page.get_by_text(label, exact=True)).first
    row.get_by_text("[Show Markdown]").first.click()
    page.get_by_role("dialog").first.wait_for(state="visible", timeout=30_000)


def test_leaderboard_page_says_which_models_beat_the_benchmark_in_percent(ui, request):
    base, page, store, _ = ui
    open_page(page, f"{base}/assets/leaderboard?view=events")
    stored = store.query(
        "SELECT model, excess_return FROM metrics ORDER BY excess_return DESC, model"
    )
    winners = stored.loc[stored["excess_return"] > 0, "model"].tolist()
    page.get_by_text("beat_the_benchmark", exact=True).first.wait_for(timeout=30_000)
    assert f"beat_the_benchmark {', '.join(winners) or 'none'}" in body(page)
    open_metadata(page, "leaderboard")
    screenshot(page, request.node.name, "leaderboard")
    table = " ".join(page.get_by_role("dialog").first.inner_text().split())
    for row in stored.itertuples():
        assert f"{row.excess_return:.2%}" in table  # a percentage, not a bare fraction


def test_metrics_page_shows_a_models_equity_curve_as_a_loaded_image(ui, request):
    base, page, *_ = ui
    open_page(page, f"{base}/assets/metrics?view=events")
    open_metadata(page, "plot_hold")
    image = page.locator("img[alt='hold equity']").first
    image.wait_for(state="visible", timeout=30_000)
    screenshot(page, request.node.name, "metrics_equity")
    # the data-URI PNG decoded at its documented size (plots.SIZE x DPI)
    assert image.evaluate("img => img.complete ? img.naturalWidth : 0") == 900


def test_model_day_partition_page_shows_that_days_cash_orders_and_decision(ui, request):
    base, page, store, _ = ui
    open_page(page, f"{base}/assets/model_day?view=partitions&partition={DAY.replace('|', '%7C')}")
    page.get_by_text("decision", exact=True).first.wait_for(state="visible", timeout=30_000)
    screenshot(page, request.node.name, "model_day_partition")
    text = body(page)
    date, model = DAY.split("|")
    (cash,) = store.query(
        "SELECT cash FROM model_days WHERE model = ? AND date = ?", [model, date]
    )["cash"]
    orders = store.query(
        "SELECT side, quantity, symbol, status FROM orders WHERE model = ? AND date = ?",
        [model, date],
    )
    signals = store.query(
        "SELECT symbol, rating FROM signals WHERE model = ? AND date = ? ORDER BY symbol",
        [model, date],
    )
    assert f"cash {round(cash, 2)}" in text
    assert len(orders) > 0 and len(signals) > 0
    for o in orders.itertuples():
        assert f"{o.side} {o.quantity} {o.symbol} {o.status}" in text
    for s in signals.itertuples():
        assert f"{s.symbol} {s.rating}" in text


def test_failed_run_log_names_the_day_the_parity_check_failed(ui, request):
    base, page, _, (bad_day, run_id) = ui
    open_page(page, f"{base}/runs/{run_id}")  # the one failed run, listed under Runs
    page.get_by_text("Failure", exact=True).first.wait_for(state="visible", timeout=30_000)
    page.get_by_placeholder("Filter…").fill("type:ASSET_CHECK_EVALUATION")
    failed = page.get_by_text("Check legacy_parity failed for materialization of model_day.")
    failed.first.wait_for(state="visible", timeout=30_000)
    failed.first.scroll_into_view_if_needed()
    screenshot(page, request.node.name, "failed_check")
    row = " ".join(failed.first.locator("xpath=../..").inner_text().split())
    assert f"{bad_day}|gpt-5" in row
