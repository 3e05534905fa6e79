"""docs/notebooks/explore_results.ipynb runs top to bottom against a freshly built store
of the backend under test (the demo models simulated in-process over 2012) and shows
what it promises: the leaderboard in the store's order with percentages, three plots,
and one model-day's orders and decisions. It must also leave the store closed for the
next writer."""

from __future__ import annotations

import base64
import datetime as dt
import io
import tempfile
from pathlib import Path

import nbclient
import nbformat
import pytest
from PIL import Image

from trading_assets.config import load_config, study_specs
from trading_assets.runs.metrics import compute_metrics, ranked_leaderboard
from trading_assets.runs.study import run_study
from trading_assets.store.studies import register_study
from trading_assets_tests.demo_store import build_demo_store

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebooks" / "explore_results.ipynb"


STUDY = """
universe: [AAPL, IBM, MSFT]
studies:
  - name: nb-grid
    agent: sma_crossover
    params: {fast: [5, 10, 20], slow: [20, 50], size: 50}
    constraints: ["fast < slow"]
    start: 2012-01-03
    end: 2012-12-31
    walk_forward: {in_sample: 126, out_of_sample: 42}
    pbo_blocks: 8
"""


@pytest.fixture(scope="module")
def executed(module_stores, tmp_path_factory):
    store = build_demo_store(module_stores.new("nb"), dt.date(2012, 1, 3), dt.date(2012, 12, 31))
    config = tmp_path_factory.mktemp("nb") / "grid.yaml"
    config.write_text(STUDY)
    [spec] = study_specs(load_config(config), config)
    register_study(store, spec)
    run_study(store, spec)  # the study cells' input: five trials over 2012
    out = tmp_path_factory.mktemp("nb-out")
    return store, execute_notebook(store.path, out), out


def execute_notebook(store: Path | str, out: Path | None = None) -> dict:
    """The notebook run top to bottom on `store`: its cells by tag (the PNGs it saves go
    to `out`, else a temporary folder)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("TRADING_ASSETS_STORE", str(store))
    patch.setenv("TRADING_ASSETS_NOTEBOOK_OUT", str(out or tempfile.mkdtemp(prefix="nb-out")))
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
    store, cells, _ = executed
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
    _, cells, _ = executed
    images = [
        o["data"]["image/png"] for o in cells["plots"].outputs if "image/png" in o.get("data", {})
    ]
    assert len(images) == 3
    for data in images:
        assert Image.open(io.BytesIO(base64.b64decode(data))).size == (900, 400)


def test_notebook_drills_into_one_model_days_orders_and_decisions(executed):
    store, cells, _ = executed
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
    store, _, _ = executed
    with store.connect() as con:  # a read-write open fails if the kernel still held it
        assert con.execute("SELECT count(*) FROM model_days").fetchone()[0] > 0


def test_notebook_tearsheet_shows_the_best_models_months_and_drawdowns(executed):
    _store, cells, _ = executed
    shown = "".join(o.get("data", {}).get("text/markdown", "") for o in cells["tearsheet"].outputs)
    assert "Returns by month and year (%)" in shown
    assert "|   2012 |" in shown  # the demo store's year, one row
    assert "Top 5 drawdown periods" in shown


def pngs(cell) -> list[bytes]:
    return [
        base64.b64decode(o["data"]["image/png"])
        for o in cell.outputs
        if "image/png" in o.get("data", {})
    ]


def test_notebook_study_cell_shows_every_trial_with_its_parameters_best_first(executed):
    store, cells, _ = executed
    stored = store.query(
        "SELECT trial, sharpe FROM study_trials WHERE study = 'nb-grid' "
        "ORDER BY sharpe DESC NULLS LAST, trial"
    )
    shown = text(cells["study-trials"])
    assert f"nb-grid: {len(stored)} trials, varying fast, slow" in shown
    assert len(stored) == 5  # 3 x 2 less fast 20 / slow 20
    header = next(line for line in shown.splitlines() if "sharpe" in line)
    assert "fast" in header and "slow" in header
    positions = [shown.index(f"{trial} ") for trial in stored["trial"]]
    assert positions == sorted(positions)  # best Sharpe first, as stored
    assert f"{stored['sharpe'].iloc[0]:.2f}" in shown
    [guards] = store.query("SELECT deflated_sharpe, pbo FROM studies WHERE study = 'nb-grid'")[
        ["deflated_sharpe", "pbo"]
    ].to_dict("records")
    studies = text(cells["studies"])
    assert "nb-grid" in studies and f"{guards['pbo']:.6f}" in studies


def test_notebook_draws_and_saves_the_study_heat_map_and_stability_plot(executed):
    _, cells, out = executed
    heatmap, stability = pngs(cells["study-plots"])
    assert (out / "nb-grid_heatmap.png").read_bytes() == heatmap
    assert (out / "nb-grid_stability.png").read_bytes() == stability
    assert Image.open(io.BytesIO(stability)).size == (1120, 640)  # 2 metrics x 2 parameters
    assert Image.open(io.BytesIO(heatmap)).size[0] < 1120  # 3 x 2 cells


def test_notebook_restitches_the_walk_forward_to_the_stored_return(executed):
    store, cells, _ = executed
    [wf] = store.query("SELECT walk_forward_return FROM studies WHERE study = 'nb-grid'")[
        "walk_forward_return"
    ]
    folds = store.query("SELECT pick FROM study_folds WHERE study = 'nb-grid' ORDER BY fold")
    shown = text(cells["study-walk"])
    assert f"{wf:.2%}" in shown  # compounded by the notebook from study_returns
    for pick in folds["pick"]:
        assert pick in shown
