"""`backfill`, `trigger`, `job`, `jobs`, `health`: the job commands' parsing and printing
(jobs/ plans, launches, watches, cancels and finishes)."""

from __future__ import annotations

import argparse
import json

FAILED_SHOWN = 20  # failed model-days listed in the table form (json lists all)


SUBMIT = {  # one submission, two commands: the same selection of models and dates
    "backfill": ("simulate models over a date range through Dagster", {"required": True}),
    "trigger": ("start a backfill job on the daemon; print its id", {"default": "demo"}),
}


def add_parsers(sub, date, count, formats) -> None:
    for name, (what, config) in SUBMIT.items():
        p = sub.add_parser(name, help=what)
        p.add_argument("--config", help="models YAML file, or 'demo' (bundled)", **config)
        p.add_argument("--models", help="comma-separated signatures of the config to run")
        p.add_argument("--start", type=date)
        p.add_argument("--end", type=date)
        formats(p, "table", "json")
    p = sub.choices["backfill"]
    p.add_argument(
        "--workers",
        type=count,
        default=None,
        help="worker processes for the models' runs (default: one per core; 1 = this process)",
    )
    p.add_argument(
        "--daemon",
        action="store_true",
        help="launch a Dagster asset backfill for the daemon instead (as the UI does) and wait",
    )
    p.add_argument(
        "--rerun", action="store_true", help="run stored model-days again (default: only missing)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress output")
    p = sub.add_parser("job", help="one job's status, progress and failed model-days")
    p.add_argument("job_id")
    formats(p, "table", "json")
    p.add_argument("--wait", action="store_true", help="wait until the job has ended")
    p.add_argument("--cancel", action="store_true", help="cancel the job's backfill and runs")
    p.add_argument("--supervise", action="store_true", help=argparse.SUPPRESS)
    formats(sub.add_parser("jobs", help="list the jobs, newest first"), "table", "json", "csv")
    p = sub.add_parser("health", help="instance, daemon heartbeat, store reachable and writable")
    formats(p, "table", "json")


def backfill(args: argparse.Namespace, store, specs) -> int:
    from trading_assets.cli.output import print_leaderboard
    from trading_assets.cli.progress import Progress, progress_mode
    from trading_assets.jobs.launch import DaemonLauncher, RangeLauncher
    from trading_assets.jobs.submit import backfill as run_backfill

    quiet = args.quiet or args.format == "json"
    mode = progress_mode(args)
    outcome = run_backfill(
        store,
        specs,
        args.start,
        args.end,
        DaemonLauncher() if args.daemon else RangeLauncher(args.workers),
        echo=(lambda line: None) if quiet else print,
        rerun=args.rerun,
        progress=lambda total: Progress(total, mode=mode),
    )
    ok = outcome["status"] == "completed" and not outcome["rejected"]
    if args.format == "json":
        print(json.dumps(outcome, default=str))
        return 0 if ok else 1
    if outcome["job_id"] is None:
        print(f"nothing to run: all {outcome['already_stored']} model-days are stored")
        return 0
    print(
        f"backfill {outcome['job_id']} {outcome['status']}: "
        f"{outcome['model_days']} model-days in {outcome['seconds']:.1f} s "
        f"({outcome['already_stored']} already stored; "
        f"last run ended after {outcome['runs_done_after_seconds'] or float('nan'):.1f} s)"
    )
    if not ok:
        print(f"  {outcome['error']}\n  details: trading-assets job {outcome['job_id']}")
    print_leaderboard(store, "table")
    print(
        f"\nstore: {store.path}\nUI: make ui (or DAGSTER_HOME=.dagster_home dagster dev "
        "-w workspace.yaml), then open http://127.0.0.1:3000"
    )
    return 0 if ok else 1


def trigger(args: argparse.Namespace, store, specs) -> int:
    from trading_assets.jobs.report import trigger_record
    from trading_assets.jobs.submit import trigger as submit_detached

    sub, log = submit_detached(store, specs, args.start, args.end)
    record, plan = trigger_record(sub, log), sub.plan
    text = f"nothing to run: all {plan.stored} model-days of the range are stored"
    if sub.job_id:
        text = (
            f"job {sub.job_id} pending: {len(plan.days)} model-days over {len(plan.ranges)} "
            f"models ({plan.stored} already stored)\n"
            f"follow it: trading-assets job {sub.job_id} --wait"
        )
    print(json.dumps(record, default=str) if args.format == "json" else text)
    return 0


def job(args: argparse.Namespace, store) -> int:
    from trading_assets.jobs.control import follow
    from trading_assets.jobs.report import job_report
    from trading_assets.vocab import ACTIVE_JOB_STATUSES, JobStatus

    if args.supervise:
        from trading_assets.jobs.submit import supervise

        done = supervise(store, args.job_id, echo=lambda line: print(line, flush=True))
        why = done.error or "every model-day completed"
        print(f"job {args.job_id} {done.status}: {why}", flush=True)
        return 0 if done.status == JobStatus.COMPLETED else 1
    found = follow(store, args.job_id, args.wait, args.cancel)
    report = job_report(store, found)
    if args.format == "json":
        print(json.dumps(report, indent=2, default=str))
    else:
        _print_report(report)
    return 0 if found.status in (JobStatus.COMPLETED, *ACTIVE_JOB_STATUSES) else 1


def _print_report(report: dict) -> None:
    p = report["progress"]
    print(
        f"job {report['job_id']} ({report['kind']}): {report['status']}\n"
        f"  model-days: {p['total_model_days']} total, {p['completed']} completed, "
        f"{p['failed']} failed, {p['pending']} pending"
    )
    if report["error"]:
        print(f"  {report['error']}")
    llm = report["llm"]
    if llm:
        cost = "" if llm["llm_cost_usd"] is None else f", cost ${llm['llm_cost_usd']:,.4f}"
        print(
            f"  LLM: {llm['llm_answers']} answers, {llm['llm_requests']} requests sent, "
            f"{llm['llm_cache_hits']} from the cache; tokens {llm['total_tokens']:,} "
            f"({llm['prompt_tokens']:,} prompt, {llm['completion_tokens']:,} completion)"
            f"{cost}"
        )
    for row in report["failed"][:FAILED_SHOWN]:
        print(f"  FAILED {row['model']} {row['date']}: {row['error']}")
    if len(report["failed"]) > FAILED_SHOWN:
        print(f"  ... {len(report['failed']) - FAILED_SHOWN} more (--format json lists all)")


def jobs(args: argparse.Namespace, store) -> int:
    from trading_assets.cli.output import render
    from trading_assets.jobs.control import refreshed
    from trading_assets.store.jobs import list_jobs

    refreshed(store)
    print(render(list_jobs(store), args.format))
    return 0


def health(args: argparse.Namespace, store) -> int:
    from trading_assets.jobs.report import health_report

    report = health_report(store)
    if args.format == "json":
        print(json.dumps(report, indent=2, default=str))
    else:
        d, s = report["daemon"], report["store"]
        print(f"{report['status']}\n  instance: {report['instance']['dagster_home']}")
        print(f"  daemon: {'heartbeating' if d['running'] else 'not running (started on demand)'}")
        print(
            f"  store: {s['path']} reachable={s['reachable']} writable={s['writable']}"
            + (f" ({s['error']})" if s["error"] else "")
        )
    return 0 if report["status"] == "healthy" else 1
