"""The Dagster UI in a real browser: Debian's chromium, headless, through Playwright,
against a webserver on a freshly backfilled instance. A newcomer's questions, answered
in the UI without reading code: the asset lineage; which models beat the benchmark;
one model's equity curve (the image must load); one model-day's cash, orders, decision
and each signal's reasoning; the day a split doubled a holding; and which day a check
failed (a legacy import with one corrupted line): red in the Checks tab's summary, red
on that day's own check partition, and said on the model-day's own page.
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
STUDY = """
universe: [AAPL, IBM]
studies:
  - name: ui-grid
    agent: sma_crossover
    params: {fast: [5, 10], slow: [20, 50], size: 20}
    start: 2005-01-03
    end: 2006-12-29
"""
DAY = "2005-01-03|hold"  # the buy-and-hold model's first day: it buys its universe
SPLIT_DAY = "2005-02-28|hold"  # AAPL splits 2:1 before the open: the holding doubles
RED = "red"  # Dagster's failure colour: its status icons and tags use --color-*-red


@pytest.fixture(scope="module")
def ui(tmp_path_factory):
    from trading_assets_tests.legacy_fixture import corrupted_copy

    tmp_path = tmp_path_factory.mktemp("browser")
    project = sqlite_project(tmp_path)
    config = write_config(tmp_path, CONFIG)
    done = project.run(
        "backfill", "--config", str(config), "--start", "2005-01-03", "--end", "2005-03-31"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    # a legacy record with one corrupted line: its replay's parity check fails that day
    broken = corrupted_copy(tmp_path / "legacy", "sell_not_held")
    imported = project.run("import-legacy", str(broken.root))
    assert imported.returncode == 1, imported.stdout[-2000:] + imported.stderr[-2000:]
    bad_day = json.loads(broken.file.read_text().splitlines()[broken.line - 1])["date"]
    with dg.DagsterInstance.from_config(str(project.home)) as instance:
        (failed,) = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
    studied = project.run("study", "run", "--config", str(write_config(tmp_path, STUDY)))
    assert studied.returncode == 0, studied.stderr[-2000:]
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


def open_metadata(page, label: str):
    """The markdown of an event's metadata entry, as a locator: the UI shows a short one
    inline in its row and a long one behind `[Show Markdown]`, in a dialog."""
    page.get_by_text(label, exact=True).first.wait_for(state="visible", timeout=30_000)
    row = page.locator("tr", has=page.get_by_text(label, exact=True)).first
    button = row.get_by_text("[Show Markdown]")
    if button.count() == 0:
        return row
    button.first.click()
    dialog = page.get_by_role("dialog").first
    dialog.wait_for(state="visible", timeout=30_000)
    return dialog


def test_leaderboard_page_says_which_models_beat_the_benchmark_in_percent(ui, request):
    base, page, store, _ = ui
    open_page(page, f"{base}/assets/leaderboard?view=events")
    stored = store.query(
        "SELECT model, excess_return FROM metrics ORDER BY excess_return DESC, model"
    )
    winners = stored.loc[stored["excess_return"] > 0, "model"].tolist()
    page.get_by_text("beat_the_benchmark", exact=True).first.wait_for(timeout=30_000)
    assert f"beat_the_benchmark {', '.join(winners) or 'none'}" in body(page)
    shown = open_metadata(page, "leaderboard")
    screenshot(page, request.node.name, "leaderboard")
    table = " ".join(shown.inner_text().split())
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


def partition_url(base: str, key: str) -> str:
    return f"{base}/assets/model_day?view=partitions&partition={key.replace('|', '%7C')}"


def show_metadata_row(page, label: str) -> None:
    """Wait for a metadata entry of the partition page and scroll it into view."""
    entry = page.get_by_text(label, exact=True).first
    entry.wait_for(state="visible", timeout=30_000)
    entry.scroll_into_view_if_needed()


def test_model_day_partition_page_shows_that_days_cash_orders_and_decision(ui, request):
    base, page, store, _ = ui
    open_page(page, partition_url(base, DAY))
    show_metadata_row(page, "reasoning")
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
        "SELECT symbol, rating, reasoning FROM signals WHERE model = ? AND date = ? "
        "ORDER BY symbol",
        [model, date],
    )
    assert f"cash {round(cash, 2)}" in text
    assert len(orders) > 0 and len(signals) > 0
    for o in orders.itertuples():
        assert f"{o.side} {o.quantity} {o.symbol} {o.status}" in text
    for s in signals.itertuples():
        assert f"{s.symbol} {s.rating}" in text
        assert s.reasoning and f"{s.symbol}: {s.reasoning}" in text  # why, per signal


def test_model_day_partition_page_shows_the_split_that_doubled_a_holding(ui, request):
    base, page, store, _ = ui
    open_page(page, partition_url(base, SPLIT_DAY))
    show_metadata_row(page, "corporate_actions")
    screenshot(page, request.node.name, "model_day_split")
    date, model = SPLIT_DAY.split("|")
    held = store.query(
        "SELECT date, shares FROM holdings WHERE model = ? AND symbol = 'AAPL' "
        "AND date IN (?, '2005-02-25') ORDER BY date",
        [model, date],
    )["shares"].tolist()
    assert len(held) == 2 and held[1] == 2 * held[0]  # the store: doubled overnight
    assert f"corporate_actions AAPL split 2:1: {held[0]} -> {held[1]} shares" in body(page)


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


def red(locator) -> bool:
    """Whether Dagster drew this status element in its failure colour."""
    return RED in (locator.get_attribute("style") or "")


def test_checks_tab_summary_of_legacy_parity_is_red_while_a_day_failed(ui, request):
    base, page, _, _ = ui
    open_page(page, f"{base}/assets/model_day?view=checks")
    summary = page.locator("div", has=page.get_by_text("legacy_parity", exact=True)).filter(
        has=page.get_by_role("img", name="cancel")
    )
    summary.last.wait_for(state="visible", timeout=30_000)
    screenshot(page, request.node.name, "checks_summary")
    # the check's summary: Failed, with the red icon (its latest evaluation, of
    # another day, passed: the summary is the worst day's)
    assert "legacy_parity Failed" in " ".join(summary.last.inner_text().split())
    assert red(summary.last.get_by_role("img", name="cancel"))


def test_failed_parity_day_is_red_on_its_own_check_partition(ui, request):
    base, page, _, (bad_day, _) = ui
    open_page(page, f"{base}/assets/model_day?view=checks")
    page.get_by_text("legacy_parity", exact=True).first.wait_for(timeout=30_000)
    page.get_by_text("Partitions", exact=True).last.click()  # the check's own tab
    page.get_by_placeholder("Filter by date…").fill(bad_day)
    page.get_by_text(bad_day, exact=True).first.click()
    page.get_by_text("gpt-5", exact=True).first.click()
    key = f"{bad_day}|gpt-5"
    header = page.locator("div", has=page.get_by_text(key, exact=True)).filter(
        has=page.get_by_text("Failed", exact=True)
    )
    header.last.wait_for(state="visible", timeout=30_000)
    screenshot(page, request.node.name, "check_partition_failed")
    tag = header.last.locator("[style*='--tag-fill-color']").first
    assert tag.inner_text().strip() == "Failed" and red(tag)
    assert "1 difference(s)" in body(page)


def test_failed_parity_day_partition_page_says_it_failed(ui, request):
    base, page, store, (bad_day, _) = ui
    key = f"{bad_day}|gpt-5"
    open_page(page, partition_url(base, key))
    show_metadata_row(page, "legacy_parity")
    screenshot(page, request.node.name, "model_day_failed_parity")
    (field,) = store.query(
        "SELECT field FROM parity_diffs WHERE model = 'gpt-5' AND date = ?", [bad_day]
    )["field"]
    text = body(page)
    # the first entry of the day's metadata, not only a green "Materialized"
    assert f"Metadata legacy_parity FAILED: 1 difference(s): {field}: legacy" in text


def test_study_partition_page_shows_every_trial_with_its_parameters_and_the_heat_map(ui, request):
    base, page, store, _ = ui
    open_page(page, f"{base}/assets/study?view=partitions&partition=ui-grid")
    show_metadata_row(page, "trials_table")
    text = body(page)
    stored = store.query("SELECT trial, sharpe FROM study_trials WHERE study = 'ui-grid'")
    assert len(stored) == 4
    for row in stored.itertuples():  # each trial, its Sharpe as the table rounds it
        assert row.trial in text and f"{row.sharpe:.4f}" in text
    assert "trial fast slow sharpe cumulative_return" in text  # parameter columns first
    assert "risk_free_rate 0.02" in text
    screenshot(page, request.node.name, "study_trials")
    shown = open_metadata(page, "heatmap_sharpe")
    image = shown.locator("img[alt='Sharpe heat map']").first
    image.wait_for(state="visible", timeout=30_000)
    screenshot(page, request.node.name, "study_heatmap")
    # decoded at its size: (1.2 + 0.8 x 2 columns) inches at 100 dpi
    assert image.evaluate("img => img.complete ? img.naturalWidth : 0") == 280
