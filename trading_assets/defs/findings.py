"""How a data-quality check over a list of findings reports: the one home of the rule for
`documents` (document_checks.py) and `market_prices` (market_checks.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dagster as dg


def findings_result(
    asset_key: dg.AssetKey,
    check_name: str,
    severity: dg.AssetCheckSeverity,
    lines: Sequence[str],
    counts: Mapping[str, int],
    described: int | None = None,
) -> dg.AssetCheckResult:
    """Passed when there is no finding. The description joins the findings (the first
    `described` of them; all when None); the metadata holds `counts`, then every finding
    as a markdown list."""
    shown = lines if described is None else lines[:described]
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=not lines,
        severity=severity,
        description="; ".join(shown) if lines else None,
        metadata={
            **counts,
            "findings": dg.MetadataValue.md("\n".join(f"- {x}" for x in lines) or "none"),
        },
    )
