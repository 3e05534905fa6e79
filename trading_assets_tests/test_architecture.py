"""The domain core has no Dagster in it; only defs/ (and the CLI that drives an
instance) may import dagster. Checked on the source, so a new module cannot slip by."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "trading_assets"
CORE = [
    "market",
    "agents",
    "kernel",
    "llm",
    "portfolio",
    "engine",
    "contract",
    "store",
    "legacy",
    "analytics",
]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", CORE)
def test_domain_package_with_any_module_never_imports_dagster(package):
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in (PACKAGE / package).rglob("*.py")
        if {"dagster", "dagster_graphql"} & imported_modules(p)
    ]
    assert offenders == []
