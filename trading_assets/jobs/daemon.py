"""The daemon's path: a Dagster asset backfill of a job's ranges, launched through the
GraphQL `launchPartitionBackfill` mutation (as the UI does); jobs/launch.py watches it."""

from __future__ import annotations

import json
from collections.abc import Sequence

import dagster as dg

from trading_assets.defs.partitions import date_partitions_of
from trading_assets.errors import TradingAssetsError
from trading_assets.instance import DAGSTER_EVENT_SETTINGS
from trading_assets.jobs.instance import graphql
from trading_assets.jobs.ranges import JOB_TAG, RangeRun
from trading_assets.store.results import ResultStore

# The partition keys are a literal in the document (a JSON list of strings is a GraphQL
# list literal); everything else is a variable. Why not variables for the keys: a
# backfill can name tens of thousands of keys, over the 128 KiB limit of one
# command-line argument. Why not `partitionsByAssets` ranges: Dagster 1.13.27 fails on a
# range with a dynamic dimension (see bench/README.md, "Dagster defects").
LAUNCH = """
mutation Launch($config: RunConfigData, $tags: [ExecutionTag!], $title: String) {
  launchPartitionBackfill(backfillParams: {
    partitionNames: KEYS, assetSelection: [{path: ["model_day"]}],
    runConfigData: $config, tags: $tags, title: $title
  }) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { invalidOutputName }
    ... on UnauthorizedError { message }
    ... on PartitionKeysNotFoundError { message }
  }
}
"""
TERMINAL = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


def store_run_config(store: ResultStore) -> dict:
    return {"resources": {"store": {"config": {"path": str(store.path)}}}}


def partition_keys(store: ResultStore, ranges: Sequence[RangeRun]) -> list[str]:
    date_partitions = date_partitions_of(store.path)  # as the freshly loaded code sees it
    return [
        f"{d}|{r.model}"
        for r in ranges
        for d in date_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(r.first, r.last))
    ]


def daemon_env(store: ResultStore) -> dict[str, str]:
    return {"TRADING_ASSETS_STORE": str(store.path), **DAGSTER_EVENT_SETTINGS}


def launch_backfill(store: ResultStore, ranges: Sequence[RangeRun], total: int, job_id: str) -> str:
    """Launch a Dagster asset backfill of the ranges for the daemon; return its id."""
    variables = {
        "config": store_run_config(store),
        "title": f"trading-assets backfill: {len(ranges)} models, {total} model-days",
        "tags": [
            {"key": "trading_assets/cli", "value": "backfill"},
            {"key": JOB_TAG, "value": job_id},
        ],
    }
    document = LAUNCH.replace("KEYS", json.dumps(partition_keys(store, ranges)))
    answer = graphql(document, variables, daemon_env(store))
    launched = (answer.get("data") or {}).get("launchPartitionBackfill") or {}
    if launched.get("__typename") != "LaunchBackfillSuccess":
        raise TradingAssetsError(f"backfill was not launched: {answer}")
    return launched["backfillId"]
