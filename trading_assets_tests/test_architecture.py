"""The domain core has no Dagster in it; only defs/ (and jobs/, which drives an
instance for the CLI) may import dagster; cli/ parses and prints. Checked on the
source, so a new module cannot slip by.
Layers go one way and no modules import each other in a cycle: import-linter checks
the contracts in pyproject.toml ([tool.importlinter]) over the whole import graph."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "trading_assets"
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
    "runs",
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


def test_the_cli_reaches_dagster_only_through_jobs():
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in (PACKAGE / "cli").rglob("*.py")
        if {"dagster", "dagster_graphql", "duckdb"} & imported_modules(p)
    ]
    assert offenders == []


def test_import_graph_keeps_every_layer_and_cycle_contract():
    lint = Path(sys.executable).parent / "lint-imports"
    done = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout
