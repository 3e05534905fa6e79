"""docs/notebooks/explore_results.ipynb runs top to bottom against a freshly built store
of the backend under test (the demo models simulated in-process over 2012) and shows
what it promises: the leaderboard in the store's order with percentages, three plots,
and one model-day's orders and decisions. It must also leave the store closed for the
next writer."""

from __future__ import annotations

import base64
import datetime as dt
import io
from pathlib import Path

import nbclient
import nbformat
import pytest
from PIL import Image

from trading_assets.runs.metrics import compute_metrics, ranked_leaderboard
from trading_assets_tests.demo_store import build_demo_store

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "explore_results.ipynb"


@pytest.fixture(scope="module")
def executed(module_stores):
    store = build_demo_store(module_stores.new("nb"), dt.date(2012, 1, 3), dt.date(2012, 12, 31))
    return store, execute_notebook(store.path)


def execute_notebook(store: Path | str) -> dict:
    """The notebook run top to bottom on `store`: its cells by tag."""
    patch = pytest.MonkeyPatch()
    patch.setenv("TRADING_ASSETS_STORE", str(store))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError, with the cell and traceback, on any error
    patch.undo()
    return {tag: c for c in notebook.cells for tag in c.metadata.get("tags", [])}


def text(cell) -> str:
    return "\n".join(
        o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.outputs
    )


def test_notebook_leaderboard_has_the_store_leaderboards_order_and_percentages(executed):
    store, cells = executed
    board = ranked_leaderboard(store, compute_metrics(store).frame)
    shown = text(cells["leaderboard"])
    positions = [shown.index(model) for model in board["model"]]
    assert positions == sorted(positions)  # same ranking as `trading-assets leaderboard`
    for excess in board["excess_return"]:
        assert f"{excess:.1%}" in shown
    for total in board["total_return"]:
        assert f"{total:.1%}" in shown
    assert "beats_benchmark" in shown and "excess_return" in shown


def test_notebook_draws_three_png_plots(executed):
    _, cells = executed
    images = [
        o["data"]["image/png"] for o in cells["plots"].outputs if "image/png" in o.get("data", {})
    ]
    assert len(images) == 3
    for data in images:
        assert Image.open(io.BytesIO(base64.b64decode(data))).size == (900, 400)


def test_notebook_drills_into_one_model_days_orders_and_decisions(executed):
    store, cells = executed
    header = text(cells["model-day"]).splitlines()[0]
    model, _, day = header.partition(" on ")
    stored = store.query(
        "SELECT status, side, symbol FROM orders WHERE model = ? AND date = ?", [model, day]
    )
    assert "filled" in set(stored["status"])
    orders = text(cells["orders"])
    for row in stored.itertuples():
        assert row.symbol in orders and row.side in orders
    assert "reasoning" in text(cells["decisions"])


def test_notebook_leaves_the_store_closed_for_writers(executed):
    store, _ = executed
    with store.connect() as con:  # a read-write open fails if the kernel still held it
        assert con.execute("SELECT count(*) FROM model_days").fetchone()[0] > 0


def test_notebook_tearsheet_shows_the_best_models_months_and_drawdowns(executed):
    _store, cells = executed
    shown = "".join(o.get("data", {}).get("text/markdown", "") for o in cells["tearsheet"].outputs)
    assert "Returns by month and year (%)" in shown
    assert "|   2012 |" in shown  # the demo store's year, one row
    assert "Top 5 drawdown periods" in shown
