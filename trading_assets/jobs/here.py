"""Cheap assets materialized in this process: market prices and documents before a job,
the analytics after it. Each is a run recorded in the instance (visible in the UI)."""

from __future__ import annotations

import dagster as dg

from trading_assets.defs.assets.analytics import daily_portfolio, leaderboard, metrics
from trading_assets.errors import TradingAssetsError
from trading_assets.jobs.ranges import QUIET, was_interrupted
from trading_assets.store.results import ResultStore

ANALYTICS = [daily_portfolio, metrics, leaderboard]  # rebuilt after a completed job


def materialize_here(
    instance: dg.DagsterInstance,
    store: ResultStore,
    assets: list,
    partition_key: str | None = None,
    run_config: dict | None = None,
    resources: dict | None = None,
    command: str = "backfill",
) -> None:
    """Materialize unpartitioned (or one partition of) assets in this process, with
        `run_config` besides the quiet console and `resources` over the project's, tagged with
    the `command` that ran them (the UI's runs filter on it). A failure
        is one line: the asset and its error (the stack trace is in the run's logs)."""
    from trading_assets.defs.definitions import resources as project_resources
    from trading_assets.defs.resources.store import StoreResource

    result = dg.materialize(
        assets,
        instance=instance,
        resources={
            **project_resources(),
            "store": StoreResource(path=str(store.path)),
            **(resources or {}),
        },
        partition_key=partition_key,
        tags={"trading_assets/cli": command},
        run_config={**QUIET, **(run_config or {})},
        raise_on_error=False,
    )
    if was_interrupted(result):  # a Ctrl-C that Dagster took in: the command stops
        raise KeyboardInterrupt
    if not result.success:
        raise_failure(result, ", ".join(a.key.to_user_string() for a in assets))


def raise_failure(result, what: str) -> None:
    """A failed run as the one-line error the command prints: our own error (where:
    what Fix: ...) as it is, else its root cause with the run to look up."""
    cause = _root_error(result)
    if cause and " Fix: " in cause:
        raise TradingAssetsError(cause)
    raise TradingAssetsError(
        f"failed: {cause}" if cause else "failed",
        where=f"{what} (run {result.run_id[:8]})",
        fix="see the run's logs in the UI",
    )


def _root_error(result: dg.ExecuteInProcessResult) -> str | None:
    """The first line of the innermost error of the run's first failed step."""
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data.error is not None:
            error = event.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            text = error.message.strip()
            prefix = text.split(": ", 1)[0]
            if prefix.endswith(error.cls_name):  # "trading_assets.errors.StoreError: ..."
                text = text[len(prefix) + 2 :]
            return text.splitlines()[0] if text else None
    return None
