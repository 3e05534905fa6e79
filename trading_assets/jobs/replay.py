"""`import-legacy` as a job: replay every day imported from an AI-Trader checkout
through Dagster (parity is checked as the runs write), and what to continue from."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from trading_assets.config import ModelSpec
from trading_assets.jobs.launch import RangeLauncher
from trading_assets.jobs.submit import Progress, backfill, silent
from trading_assets.store.results import ResultStore


@dataclass(frozen=True)
class Replay:
    report: object  # legacy/importer.py's ImportReport
    specs: list[ModelSpec]  # the accepted signatures' models
    outcome: dict | None  # the replay backfill's (None: nothing to replay)
    parity: pd.DataFrame | None  # the replayed models' parity summary
    ok: bool  # every signature accepted, every parity check passed, the job completed
    last: dt.date | None = None  # the last imported day


def replay_legacy(store: ResultStore, report, progress: Progress = silent) -> Replay:
    """Replay what `legacy/importer.py: import_legacy` accepted (its report)."""
    from trading_assets.legacy.parity import parity_summary

    accepted = [s for s in report.signatures if s.accepted and s.first_date]
    if not accepted:
        return Replay(report, [], None, None, False)
    specs = [store.model_spec(s.signature) for s in accepted]
    start = min(s.first_date for s in accepted)
    end = max(s.last_date for s in accepted)
    # a replay re-simulates every imported day (parity is checked as it writes)
    outcome = backfill(store, specs, start, end, RangeLauncher(), rerun=True, progress=progress)
    summary = parity_summary(store)
    summary = summary[summary["model"].isin([s.signature for s in accepted])]
    parity_ok = bool(len(summary)) and int(summary["failed"].sum()) == 0
    ok = parity_ok and not report.rejected and outcome["status"] == "completed"
    return Replay(report, specs, outcome, summary, ok, end)


def write_continuation(
    path: Path, root: Path, specs: list[ModelSpec], last: dt.date
) -> tuple[int, str]:
    """Write the models YAML continuing the legacy config's enabled agents from their
    state on `last`; return how many models it holds and the trading day to go on from
    (0 and why, when none is written)."""
    from trading_assets.legacy.config import load_config
    from trading_assets.legacy.continuation import write_continuation as write
    from trading_assets.legacy.layout import resolve_root
    from trading_assets.market.calendar import trading_days

    config_path = resolve_root(root).config_path
    if config_path is None:
        return 0, "no configs/default_config.json names the models to continue"
    written = write(path, load_config(config_path), specs)
    if not written:
        return 0, f"no enabled model of {config_path} was imported"
    later = trading_days(last + dt.timedelta(days=1), last + dt.timedelta(days=10))
    return written, later[0].isoformat() if later else "DAY"
