"""`trading-assets import-legacy` and `trading-assets parity`."""

from __future__ import annotations

from pathlib import Path

from trading_assets.cli.output import render
from trading_assets.store.results import ResultStore


def import_legacy(
    store: ResultStore, root: Path, progress: str = "bar", write_models: Path | None = None
) -> int:
    """Import an AI-Trader checkout, replay it through Dagster, check parity, summarise.
    Exit 0 only when every signature was accepted and every parity check passed.
    write_models: also write the models YAML whose llm_trader models continue the
    legacy config's enabled agents from their imported state."""
    from trading_assets.cli.backfill import run_backfill
    from trading_assets.legacy.importer import import_legacy as do_import
    from trading_assets.legacy.parity import parity_summary
    from trading_assets.runs.metrics import compute_metrics
    from trading_assets.store.leaderboard import leaderboard

    report = do_import(store, root)
    print(
        f"imported {report.root}: {len(report.symbols)} symbols with prices "
        f"{report.first_price_date}..{report.last_price_date}"
    )
    for issue in (*report.price_issues, *report.issues):
        print(f"  note: {issue.file}:{issue.line or '-'} {issue.code}: {issue.message}")
    for sig in report.signatures:
        state = "accepted" if sig.accepted else "REJECTED"
        print(
            f"  {sig.signature:<24} {state:<9} {sig.n_lines:>4} lines "
            f"{sig.first_date or ''}..{sig.last_date or ''}"
        )
        for issue in sig.issues:
            print(f"      {issue.file}:{issue.line or '-'} {issue.code}: {issue.message}")
    accepted = [s for s in report.signatures if s.accepted and s.first_date]
    if not accepted:
        print("nothing to replay")
        return 1
    specs = [store.model_spec(s.signature) for s in accepted]
    start = min(s.first_date for s in accepted)
    end = max(s.last_date for s in accepted)
    # a replay re-simulates every imported day (parity is checked as it writes)
    outcome = run_backfill(store, specs, start, end, rerun=True, progress=progress)
    print(
        f"replay backfill {outcome['job_id']} {outcome['status']}: "
        f"{outcome['model_days']} model-days in {outcome['seconds']:.1f} s\n"
    )
    summary = parity_summary(store)
    summary = summary[summary["model"].isin([s.signature for s in accepted])]
    print("parity (legacy vs new):")
    print(render(summary, "table"))
    board = leaderboard(store, compute_metrics(store).frame)
    print("\nleaderboard:")
    print(render(board[board["model"].isin(summary["model"])], "table"))
    parity_ok = bool(len(summary)) and int(summary["failed"].sum()) == 0
    if write_models is not None:
        _write_models(write_models, root, specs, end)
    return 0 if parity_ok and not report.rejected and outcome["status"] == "completed" else 1


def _write_models(path: Path, root: Path, specs: list, last) -> None:
    import datetime as dt

    from trading_assets.legacy.config import load_config
    from trading_assets.legacy.continuation import write_continuation
    from trading_assets.legacy.layout import resolve_root
    from trading_assets.market.calendar import trading_days

    config_path = resolve_root(root).config_path
    if config_path is None:
        print(f"\nnot written: {path}: no configs/default_config.json names the models to continue")
        return
    written = write_continuation(path, load_config(config_path), specs)
    if not written:
        print(f"\nnot written: {path}: no enabled model of {config_path} was imported")
        return
    later = trading_days(last + dt.timedelta(days=1), last + dt.timedelta(days=10))
    start = later[0].isoformat() if later else "DAY"
    print(
        f"\nwrote {path}: {written} llm_trader model(s) continuing the enabled agents from "
        f"their last imported day ({last}). Go on with (new prices in the legacy data/):\n"
        f"  trading-assets backfill --config {path} --start {start}"
    )
