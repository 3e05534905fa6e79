"""Progress of long CLI work (backfills, imports): model-days done, elapsed and ETA.

Three modes, so scripts and people both get what they need:
- `bar`: a rich progress bar on stderr (a live bar on a terminal, final state otherwise);
- `json`: one JSON object per change on the stream, for scripts
  (`{"done", "total", "status", "elapsed_s", "eta_s"}`);
- `quiet`: nothing.

The ETA is one rule for every mode (`jobs/report.py: eta_seconds`): the mean pace so
far times the work left. Usage:

    with Progress(total, mode="bar") as progress:
        while ...:
            progress.update(done, status="running")
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Literal, TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichProgress

from trading_assets.jobs.report import eta_seconds

Mode = Literal["bar", "json", "quiet"]
MODES: tuple[Mode, ...] = ("bar", "json", "quiet")


def progress_mode(args) -> Mode:
    """The mode a command's --quiet and --format ask for."""
    if args.quiet:
        return "quiet"
    return "json" if args.format == "json" else "bar"


class Progress:
    def __init__(
        self,
        total: int,
        *,
        mode: Mode = "bar",
        unit: str = "model-days",
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        if mode not in MODES:
            raise ValueError(f"progress mode {mode!r}: use one of {', '.join(MODES)}")
        self.total, self.mode, self.unit, self.clock = total, mode, unit, clock
        self.stream = stream if stream is not None else sys.stderr
        self.started = clock()
        self._last: tuple[int, str] | None = None
        self._bar: RichProgress | None = None
        self._task = None

    def __enter__(self) -> Progress:
        if self.mode == "bar":
            self._bar = RichProgress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn(self.unit),
                TimeElapsedColumn(),
                TextColumn("ETA {task.fields[eta]}"),
                console=Console(file=self.stream),
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("", total=self.total, eta="-")
        return self

    def update(self, done: int, status: str = "") -> None:
        """Report `done` units so far (absolute, not an increment) and a status word."""
        if self._last == (done, status):
            return
        self._last = (done, status)
        elapsed = self.clock() - self.started
        eta = eta_seconds(done, self.total, elapsed)
        if self.mode == "json":
            record = {
                "done": done,
                "total": self.total,
                "status": status,
                "elapsed_s": round(elapsed, 3),
                "eta_s": None if eta is None else round(eta, 3),
            }
            print(json.dumps(record), file=self.stream, flush=True)
        elif self._bar is not None:
            self._bar.update(self._task, completed=done, description=status, eta=_clock_text(eta))

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)


def _clock_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}"
