"""Equity, drawdown and comparison plots as PNG bytes (matplotlib, Agg).

Figures are built with `matplotlib.figure.Figure`, never pyplot: no global state, no
display, safe in a Dagster run or a web worker. Inputs are value series indexed by date
(`model_days.portfolio_value`, or `metrics.equity` of a benchmark's returns).
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from trading_assets.analytics.metrics import underwater

SIZE = (9.0, 4.0)
DPI = 100
BENCHMARK_STYLE = {"color": "0.45", "linestyle": "--", "linewidth": 1.2}


def equity_png(
    values: pd.Series, benchmark: pd.Series | None = None, title: str = "Equity"
) -> bytes:
    """The model's value over time, and the benchmark's on the same starting capital."""
    fig, ax = _figure(title)
    ax.plot(_dated(values), label=values.name or "model", linewidth=1.4)
    if benchmark is not None:
        ax.plot(_dated(benchmark), label=benchmark.name or "benchmark", **BENCHMARK_STYLE)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylabel("portfolio value")
    ax.legend(loc="upper left", frameon=False)
    return _png(fig)


def drawdown_png(
    values: pd.Series,
    title: str = "Drawdown",
    start: float | None = None,
    benchmark: pd.Series | None = None,
) -> bytes:
    """How far below its running peak the value was each day (0 % at a new high); the
    peak starts at `start` (the initial cash) when given, as daily_portfolio's does. The
    benchmark's drawdown over it (a line in the benchmark's style) when given, from the
    same start."""
    fig, ax = _figure(title)
    falls = -underwater(_dated(values), start)
    ax.fill_between(falls.index, falls.to_numpy(), 0.0, color="tab:red", alpha=0.35, linewidth=0)
    ax.plot(falls, color="tab:red", linewidth=0.8, label=values.name or "model")
    if benchmark is not None:
        bench_falls = -underwater(_dated(benchmark), start)
        ax.plot(bench_falls, label=benchmark.name or "benchmark", **BENCHMARK_STYLE)
        ax.legend(loc="lower left", frameon=False)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))  # decimals to suit shallow falls
    ax.set_ylabel("below peak")
    ax.set_ylim(top=0.0)
    return _png(fig)


def comparison_png(
    curves: Mapping[str, pd.Series], benchmark: pd.Series | None = None, title: str = "Models"
) -> bytes:
    """Every model's cumulative return on one chart (values rebased to their first day)."""
    fig, ax = _figure(title)
    for name, values in sorted(curves.items()):
        series = _dated(values)
        ax.plot(series / series.iloc[0] - 1.0, label=name, linewidth=1.2)
    if benchmark is not None:
        series = _dated(benchmark)
        ax.plot(
            series / series.iloc[0] - 1.0, label=benchmark.name or "benchmark", **BENCHMARK_STYLE
        )
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.set_ylabel("cumulative return")
    ax.axhline(0.0, color="0.7", linewidth=0.8)
    ax.legend(loc="upper left", frameon=False, fontsize="small")
    return _png(fig)


def _figure(title: str):
    fig = Figure(figsize=SIZE, dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(title, loc="left", fontsize="medium")
    ax.grid(True, color="0.9", linewidth=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    return fig, ax


def _dated(values: pd.Series) -> pd.Series:
    series = pd.Series(values, dtype=float).dropna()
    if series.empty:
        raise ValueError(f"nothing to plot: the series {values.name or ''!r} has no values")
    series.index = pd.DatetimeIndex(series.index)
    return series.sort_index()


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


HEATMAP_MAX_INCHES = (12.0, 8.0)  # a 40 x 25 grid still fits a screen
ANNOTATE_UP_TO = 200  # cells: past that the numbers overlap and cost seconds to draw
TICKS_UP_TO = 25  # labels per axis; past that every k-th value


def heatmap_png(trials: pd.DataFrame, x: str, y: str, value: str, title: str) -> bytes:
    """`value` over two parameters of a study's trials; where other parameters vary too,
    each cell shows the best trial of that (x, y) pair. Small grids carry each cell's
    number; large ones (a 1,000-trial sweep) rely on the colour bar and thinned ticks."""
    grid = trials.pivot_table(index=y, columns=x, values=value, aggfunc="max").sort_index()
    grid = grid.sort_index(axis=1)
    cells = grid.to_numpy(dtype=float)
    width = min(1.2 + 0.8 * len(grid.columns), HEATMAP_MAX_INCHES[0])
    height = min(1.2 + 0.5 * len(grid), HEATMAP_MAX_INCHES[1])
    fig = Figure(figsize=(width, height), dpi=DPI)
    fig.set_layout_engine("constrained")
    ax = fig.add_subplot()
    image = ax.imshow(cells, cmap="RdYlGn", aspect="auto", origin="lower")
    _thinned_ticks(ax.set_xticks, list(grid.columns))
    _thinned_ticks(ax.set_yticks, list(grid.index))
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.set_title(title, loc="left", fontsize="medium")
    if cells.size <= ANNOTATE_UP_TO:
        for (row, col), cell in np.ndenumerate(cells):
            if np.isfinite(cell):
                ax.text(col, row, f"{cell:.2f}", ha="center", va="center", fontsize="small")
    fig.colorbar(image, ax=ax, label=value)
    return _png(fig)


def _thinned_ticks(set_ticks, labels: list, most: int = TICKS_UP_TO) -> None:
    """Tick every value up to `most`, else every k-th (labels of 40 values overlap)."""
    step = max(1, -(-len(labels) // most))  # ceiling division; no labels, no ticks
    positions = range(0, len(labels), step)
    set_ticks(list(positions), [str(labels[i]) for i in positions])


PERCENT_METRICS = {"cumulative_return", "annual_return", "annual_volatility", "max_drawdown"}
LINES_UP_TO = 6  # one line per value of the other parameter up to this many values
PANEL_TICKS_UP_TO = 14  # labels under a 5.6-inch panel


def stability_png(trials: pd.DataFrame, params: list[str], metrics: list[str], title: str) -> bytes:
    """Each metric against each varying parameter (one panel per pair): the median over
    the other parameters' values, their min-max band, and, when exactly one other
    parameter varies over a few values, one line per value. A stable parameter region is
    a flat, narrow band; a lone peak is a lucky trial."""
    fig = Figure(
        figsize=(5.6 * len(params), 0.4 + 3.0 * len(metrics)), dpi=DPI, layout="constrained"
    )
    fig.suptitle(title, x=0.01, ha="left", fontsize="medium")
    axes = fig.subplots(len(metrics), len(params), squeeze=False)
    for row, metric in enumerate(metrics):
        for col, param in enumerate(params):
            _stability_panel(
                axes[row][col], trials, param, [p for p in params if p != param], metric
            )
    return _png(fig)


def _stability_panel(ax, trials: pd.DataFrame, param: str, others: list[str], metric: str) -> None:
    values = sorted(trials[param].dropna().unique())
    place = {v: i for i, v in enumerate(values)}  # categories too (a string parameter)
    by = trials.groupby(param)[metric]
    x = [place[v] for v in values]
    ax.fill_between(
        x,
        by.min().loc[values],
        by.max().loc[values],
        color="tab:blue",
        alpha=0.15,
        linewidth=0,
        label="min-max",
    )
    if len(others) == 1 and trials[others[0]].nunique() <= LINES_UP_TO:
        for other, group in trials.groupby(others[0]):
            line = group.dropna(subset=[metric]).sort_values(param)
            ax.plot(
                [place[v] for v in line[param]],
                line[metric],
                marker=".",
                linewidth=0.9,
                alpha=0.8,
                label=f"{others[0]}={other}",
            )
    ax.plot(x, by.median().loc[values], color="black", marker="o", linewidth=1.6, label="median")
    _thinned_ticks(ax.set_xticks, values, most=PANEL_TICKS_UP_TO)
    ax.set_xlabel(param)
    ax.set_ylabel(metric)
    ax.grid(True, color="0.9", linewidth=0.8)
    ax.spines[["top", "right"]].set_visible(False)
    if metric in PERCENT_METRICS:
        ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    # outside the panel: inside, it hides the trials an analyst is looking for
    ax.legend(frameon=False, fontsize="x-small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
