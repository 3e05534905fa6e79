"""The Dagster web UI over the instance a backfill wrote: a real dagster-webserver on a
free loopback port, asked over HTTP what an analyst sees: lineage, runs, partitions and
the parity check."""

from __future__ import annotations

import json
import urllib.request

import pytest

from trading_assets_tests.e2e import backfilled_project, webserver

pytestmark = pytest.mark.slow
QUERY = """{
  assetNodes { assetKey { path } dependencyKeys { path } }
  runsOrError { ... on Runs { results { status } } }
  assetNodeOrError(assetKey: {path: ["model_day"]}) {
    ... on AssetNode { assetChecksOrError { ... on AssetChecks { checks { name blocking } } } }
  }
}"""


def graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())["data"]


def test_webserver_after_backfill_shows_lineage_runs_and_checks(tmp_path):
    project = backfilled_project(tmp_path)
    with webserver(project) as port:
        data = graphql(port, QUERY)
        deps = {
            "/".join(n["assetKey"]["path"]): {"/".join(d["path"]) for d in n["dependencyKeys"]}
            for n in data["assetNodes"]
        }
        assert deps["model_day"] == {"market_prices", "documents", "model_day"}
        assert deps["daily_portfolio"] == {"model_day"}
        assert deps["metrics"] == {"daily_portfolio", "market_prices"}
        assert deps["leaderboard"] == {"metrics", "model_day"}
        statuses = [r["status"] for r in data["runsOrError"]["results"]]
        assert statuses and set(statuses) == {"SUCCESS"}
        checks = data["assetNodeOrError"]["assetChecksOrError"]["checks"]
        assert checks == [{"name": "legacy_parity", "blocking": True}]
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
        assert b"<html" in page.lower()
