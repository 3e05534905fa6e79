"""Fixtures and helpers shared by the test modules.

- `instance`: an ephemeral Dagster instance whose `models` dimension holds the test
  module's MODELS (real Dagster, nothing mocked);
- every test starts without the developer's TA_* migration flags;
- `table_rows`: a store table as a list of dicts, as DuckDB returns them;
- the definitions load with no store in the environment (set before any test module
  imports them), so the date partitions have their default span whatever the
  developer's own store (and its coverage sidecar, defs/partitions.py) holds.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ["TRADING_ASSETS_STORE"] = str(
    Path(tempfile.gettempdir()) / f"ta-tests-{os.getpid()}" / "no-store.duckdb"
)

import dagster as dg
import pytest

from trading_assets.defs.partitions import MODELS_PARTITION
from trading_assets.store.results import ResultStore


@pytest.fixture(autouse=True)
def no_migration_flags(monkeypatch):
    """Runs must not pick up TA_* migration flags from the developer's shell."""
    for name in list(os.environ):
        if name.startswith("TA_"):
            monkeypatch.delenv(name)


@pytest.fixture
def instance(request):
    """An ephemeral instance that knows the module's MODELS as dynamic partitions."""
    with dg.DagsterInstance.ephemeral() as inst:
        inst.add_dynamic_partitions(MODELS_PARTITION, list(request.module.MODELS))
        yield inst


def table_rows(store: ResultStore, table: str, order_by: str | None = None) -> list[dict]:
    """Every row of a store table (a constant name) as a dict, in `order_by` order."""
    order = f" ORDER BY {order_by}" if order_by else ""
    with store.connect() as con:
        cursor = con.execute(f"SELECT * FROM {table}{order}")
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
