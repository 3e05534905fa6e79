"""The Dagster UI in a real browser: Debian's chromium, headless, through Playwright,
against a webserver on a freshly backfilled instance. A person's view: the asset lineage
drawn left to right, and one model-day's partition page with its status and figures.
Screenshots are saved under .artifacts/browser/ (the path is printed)."""

from __future__ import annotations

import pytest

from trading_assets.store.results import ResultStore
from trading_assets_tests.browser import browser_page, open_page, screenshot
from trading_assets_tests.e2e import backfilled_project, webserver

pytestmark = pytest.mark.slow
LINEAGE = ["market_prices", "model_day", "daily_portfolio", "leaderboard"]
KEY = "2012-01-05|ibm-hold"


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("browser")
    project = backfilled_project(tmp_path)
    days = ResultStore(project.store).query(
        "SELECT portfolio_value FROM model_days WHERE model = ? AND date = ?",
        ["ibm-hold", "2012-01-13"],
    )
    last_value = float(days["portfolio_value"].iloc[0])
    with webserver(project) as port, browser_page() as page:
        yield f"http://127.0.0.1:{port}", page, last_value


def test_lineage_page_draws_the_four_assets_left_to_right(ui, request):
    base, page, _ = ui
    open_page(page, f"{base}/assets/leaderboard?view=lineage&lineageScope=upstream&lineageDepth=3")
    boxes = {}
    for name in LINEAGE:
        node = page.get_by_text(name, exact=True).last
        node.wait_for(state="visible", timeout=30_000)
        boxes[name] = node.bounding_box()
    screenshot(page, request.node.name, "lineage")
    xs = [boxes[name]["x"] for name in LINEAGE]
    assert xs == sorted(xs) and len(set(xs)) == 4, boxes
    for group in ("market_data", "simulation", "analytics"):
        assert page.get_by_text(group, exact=True).first.is_visible()


def test_model_day_partition_page_shows_the_day_materialized_with_its_run_figures(ui, request):
    base, page, last_value = ui
    open_page(page, f"{base}/assets/model_day?view=partitions&partition={KEY.replace('|', '%7C')}")
    heading = page.get_by_text(KEY, exact=True).first
    heading.wait_for(state="visible", timeout=30_000)
    screenshot(page, request.node.name, "model_day_partition")
    body = page.inner_text("body")
    assert "Materialized" in body
    # phase 1: the run-level table (model, range, last value); per-day figures come later
    assert "ibm-hold" in body and "2012-01-13" in body and f"{last_value:,.2f}" in body
