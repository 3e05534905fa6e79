"""`trading-assets import-legacy`: print the import, the replay, parity and leaderboard."""

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
    from trading_assets.cli.progress import Progress
    from trading_assets.jobs.replay import replay_legacy, write_continuation
    from trading_assets.legacy.importer import import_legacy as do_import
    from trading_assets.runs.metrics import stored_leaderboard

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
    replay = replay_legacy(store, report, lambda total: Progress(total, mode=progress))
    if replay.outcome is None:
        print("nothing to replay")
        return 1
    outcome = replay.outcome
    print(
        f"replay backfill {outcome['job_id']} {outcome['status']}: "
        f"{outcome['model_days']} model-days in {outcome['seconds']:.1f} s\n"
    )
    print("parity (legacy vs new):")
    print(render(replay.parity, "table"))
    board, _ = stored_leaderboard(store)  # the replay's backfill rebuilt metrics
    print("\nleaderboard:")
    print(render(board[board["model"].isin(replay.parity["model"])], "table"))
    if write_models is not None:
        written, start = write_continuation(write_models, root, replay.specs, replay.last)
        if not written:
            print(f"\nnot written: {write_models}: {start}")
        else:
            print(
                f"\nwrote {write_models}: {written} llm_trader model(s) continuing the enabled "
                f"agents from their last imported day ({replay.last}). Go on with (new prices "
                f"in the legacy data/):\n  trading-assets backfill --config {write_models} "
                f"--start {start}"
            )
    return 0 if replay.ok else 1
