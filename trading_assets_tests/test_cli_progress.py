"""The CLI progress helper: what a script (JSON), a person (bar) and --quiet see."""

from __future__ import annotations

import io
import json

import pytest

from trading_assets.cli.progress import Progress
from trading_assets.jobs.report import eta_seconds


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_json_mode_with_steady_pace_prints_one_object_per_change_with_eta():
    out, clock = io.StringIO(), Clock()
    with Progress(100, mode="json", stream=out, clock=clock) as progress:
        clock.now += 10
        progress.update(25, "running")
        progress.update(25, "running")  # no change: no line
        clock.now += 10
        progress.update(50, "running")
        clock.now += 20
        progress.update(100, "completed")
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines == [
        {"done": 25, "total": 100, "status": "running", "elapsed_s": 10.0, "eta_s": 30.0},
        {"done": 50, "total": 100, "status": "running", "elapsed_s": 20.0, "eta_s": 20.0},
        {"done": 100, "total": 100, "status": "completed", "elapsed_s": 40.0, "eta_s": 0.0},
    ]


def test_bar_mode_shows_done_of_total_unit_and_eta():
    out, clock = io.StringIO(), Clock()
    with Progress(3270, mode="bar", stream=out, clock=clock) as progress:
        clock.now += 60
        progress.update(1090, "running")
    text = out.getvalue()
    assert "1090/3270" in text and "model-days" in text
    assert "ETA 0:02:00" in text  # 2180 left at 1090 a minute
    assert "running" in text


def test_quiet_mode_prints_nothing():
    out = io.StringIO()
    with Progress(10, mode="quiet", stream=out) as progress:
        progress.update(5, "running")
    assert out.getvalue() == ""


def test_eta_before_any_work_is_unknown_and_bad_mode_is_named():
    assert eta_seconds(0, 10, 5.0) is None
    assert eta_seconds(5, 10, 0.0) is None
    with pytest.raises(ValueError, match="'fancy': use one of bar, json, quiet"):
        Progress(10, mode="fancy")
