"""Plots as PNG bytes: decoded back into pixels, they have the documented size and show
the lines a reader looks for (model, benchmark, drawdown area)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from trading_assets.analytics import plots
from trading_assets.analytics.plots import (
    DPI,
    SIZE,
    comparison_png,
    drawdown_png,
    equity_png,
    heatmap_png,
    stability_png,
)

DATES = pd.bdate_range("2012-01-02", periods=120)
MODEL_BLUE = (0x1F, 0x77, 0xB4)  # matplotlib's first colour (tab:blue)
BENCH_GREY = (0x73, 0x73, 0x73)  # "0.45"
RED = (0xD6, 0x27, 0x28)  # tab:red


def values(drift: float, name: str) -> pd.Series:
    wave = np.sin(np.linspace(0, 6, len(DATES))) * 0.05
    return pd.Series(100_000 * (1 + drift * np.arange(len(DATES)) + wave), DATES, name=name)


def pixels(png: bytes) -> np.ndarray:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))


def count(image: np.ndarray, rgb: tuple[int, int, int], tol: int = 12) -> int:
    return int((np.abs(image.astype(int) - rgb).max(axis=2) <= tol).sum())


def test_equity_png_with_benchmark_draws_both_lines_at_documented_size():
    image = pixels(equity_png(values(0.001, "m"), values(0.002, "bench"), "m vs bench"))
    assert image.shape == (int(SIZE[1] * DPI), int(SIZE[0] * DPI), 3)
    assert count(image, MODEL_BLUE) > 200
    assert count(image, BENCH_GREY) > 100
    alone = pixels(equity_png(values(0.001, "m")))
    assert count(image, BENCH_GREY) - count(alone, BENCH_GREY) > 300  # the dashed line


def test_drawdown_png_with_falls_fills_below_zero_and_flat_rise_draws_no_area():
    falling = pixels(drawdown_png(values(-0.001, "m")))
    rising = pd.Series(np.linspace(1.0, 2.0, len(DATES)), DATES)
    flat = pixels(drawdown_png(rising))
    shaded = (0xF0, 0xB1, 0xB1)  # tab:red at 35 % over white
    assert count(falling, shaded, tol=20) > 5000
    assert count(flat, shaded, tol=20) < 100


def test_drawdown_png_with_benchmark_overlays_the_benchmarks_drawdown_line():
    alone = pixels(drawdown_png(values(-0.001, "m")))
    both = pixels(drawdown_png(values(-0.001, "m"), benchmark=values(-0.002, "benchmark")))
    assert count(both, BENCH_GREY) - count(alone, BENCH_GREY) > 300  # the benchmark's line


def test_comparison_png_with_three_models_draws_each_in_its_colour():
    curves = {n: values(d, n) for n, d in [("a", 0.001), ("b", -0.0005), ("c", 0.002)]}
    image = pixels(comparison_png(curves, values(0.0015, "benchmark")))
    for rgb in (MODEL_BLUE, (0xFF, 0x7F, 0x0E), (0x2C, 0xA0, 0x2C), BENCH_GREY):
        assert count(image, rgb) > 100, rgb


def test_plots_with_empty_series_name_it():
    with pytest.raises(ValueError, match="'ghost' has no values"):
        equity_png(pd.Series([], dtype=float, name="ghost"))


def grid(slows: list[int]) -> pd.DataFrame:
    rows = [(f, s) for f in (5, 10, 20) for s in slows]
    frame = pd.DataFrame(rows, columns=["fast", "slow"])
    frame["sharpe"] = frame["fast"] * 0.01 - frame["slow"] * 0.002
    frame["cumulative_return"] = frame["sharpe"] * 2
    return frame


def test_stability_png_draws_a_panel_per_metric_and_parameter_with_the_others_spread():
    band = (0xDD, 0xEB, 0xF4)  # tab:blue at 15 % over white
    orange = (0xFF, 0x99, 0x3E)  # tab:orange at 80 %: the second value of the other parameter
    spread = pixels(
        stability_png(grid([50, 100]), ["fast", "slow"], ["sharpe", "cumulative_return"], "t")
    )
    assert spread.shape == (640, 1120, 3)  # two metrics by two parameters
    assert count(spread, band, tol=6) > 20_000  # slow moves Sharpe at every fast: a band
    assert count(spread, orange) > 200  # one line per slow value (and per fast value)
    alone = pixels(stability_png(grid([50]), ["fast"], ["sharpe"], "t"))
    assert count(alone, band, tol=6) < 500  # nothing else varies: no spread to show


def sweep(fast: range, slow: range) -> pd.DataFrame:
    """A trials table whose Sharpe rises with `fast` and falls with `slow`."""
    rows = [{"fast": f, "slow": s, "sharpe": f / 10 - s / 100} for f in fast for s in slow]
    return pd.DataFrame(rows)


def test_heatmap_png_of_a_1000_trial_sweep_fits_a_screen_and_keeps_its_gradient():
    image = pixels(
        heatmap_png(sweep(range(2, 42), range(50, 300, 10)), "fast", "slow", "sharpe", "t")
    )
    height, width, _ = image.shape
    assert width <= 12 * DPI and height <= 8 * DPI  # not 3,320 x 1,370 px as before
    # RdYlGn: the best corner (fast 41, slow 50: bottom right, origin lower) is green,
    # the worst (fast 2, slow 290: top left) red
    plot = image[: int(height * 0.85), : int(width * 0.8)]
    green, red = plot[plot.shape[0] - 20, plot.shape[1] - 20], plot[30, 90]
    assert green[1] > green[0] and red[0] > red[1], (green, red)


def test_heatmap_png_writes_each_cells_number_on_a_small_grid_only(monkeypatch):
    trials = sweep(range(2, 5), range(50, 70, 10))  # 3 x 2 cells
    with_numbers = pixels(heatmap_png(trials, "fast", "slow", "sharpe", "t"))
    monkeypatch.setattr(plots, "ANNOTATE_UP_TO", 0)
    without = pixels(heatmap_png(trials, "fast", "slow", "sharpe", "t"))
    assert with_numbers.shape == without.shape
    # six numbers drawn in black over the cells: hundreds of dark pixels more
    assert count(with_numbers, (0, 0, 0), tol=80) - count(without, (0, 0, 0), tol=80) > 300
