"""Fixtures and helpers shared by the test modules.

- `instance`: an ephemeral Dagster instance whose `models` dimension holds the test
  module's MODELS (real Dagster, nothing mocked);
- every test starts without the developer's TA_* migration flags;
- `table_rows`: a store table as a list of dicts, as DuckDB returns them;
- `stores`: fresh store locations of the backend under test: DuckDB files by default,
  PostgreSQL databases on the local server with `pytest --store-backend=postgres`
  (`make test` runs the store-level modules both ways); tests that are about the DuckDB
  file itself are marked `duckdb_file` and skipped on PostgreSQL;
- the definitions load with no store in the environment (set before any test module
  imports them), so the date partitions have their default span whatever the
  developer's own store (and its coverage sidecar, defs/partitions.py) holds.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

os.environ["TRADING_ASSETS_STORE"] = str(
    Path(tempfile.gettempdir()) / f"ta-tests-{os.getpid()}" / "no-store.duckdb"
)

import dagster as dg
import pytest

from trading_assets.defs.partitions import MODELS_PARTITION
from trading_assets.store import postgres
from trading_assets.store.results import ResultStore

PG_SERVER = os.environ.get("TA_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_addoption(parser):
    parser.addoption(
        "--store-backend",
        choices=["duckdb", "postgres"],
        default="duckdb",
        help="the result store backend the store-level tests use (default: duckdb)",
    )


def pytest_configure(config):
    config.addinivalue_line("markers", "duckdb_file: about the DuckDB file backend itself")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--store-backend") == "postgres":
        skip = pytest.mark.skip(reason="about the DuckDB file (--store-backend=postgres)")
        for item in items:
            if "duckdb_file" in item.keywords:
                item.add_marker(skip)


class Stores:
    """Fresh store locations (nothing stored yet) of one backend; databases made on the
    PostgreSQL server are dropped when the test ends."""

    def __init__(self, backend: str, folder: Path):
        self.backend, self.folder, self._made = backend, folder, []

    def new(self, name: str = "store") -> Path | str:
        if self.backend == "duckdb":
            return self.folder / f"{name}.duckdb"
        return self._database(name, template=None)

    def copy(self, location: Path | str, name: str = "copy") -> Path | str:
        """A new store holding what `location` holds now."""
        if self.backend == "duckdb":
            target = self.folder / f"{name}.duckdb"
            shutil.copy(location, target)
            return target
        postgres.release(str(location))  # PostgreSQL copies only a database nobody uses
        return self._database(name, template=str(location).rsplit("/", 1)[1])

    def _database(self, name: str, template: str | None) -> str:
        import psycopg2

        database = f"ta_{name}_{uuid.uuid4().hex[:10]}"
        admin = psycopg2.connect(PG_SERVER)
        admin.autocommit = True
        try:
            clause = f' TEMPLATE "{template}"' if template else ""
            admin.cursor().execute(f'CREATE DATABASE "{database}"{clause}')
        finally:
            admin.close()
        url = PG_SERVER.rsplit("/", 1)[0] + "/" + database
        self._made.append(url)
        return url

    def drop_all(self) -> None:
        import psycopg2

        admin = psycopg2.connect(PG_SERVER)
        admin.autocommit = True
        try:
            for url in self._made:
                postgres.release(url)
                name = url.rsplit("/", 1)[1]
                admin.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            admin.close()


def _stores(request, folder: Path):
    made = Stores(request.config.getoption("--store-backend"), folder)
    yield made
    made.drop_all()


@pytest.fixture
def stores(request, tmp_path):
    yield from _stores(request, tmp_path)


@pytest.fixture
def pg_stores(tmp_path):
    """PostgreSQL stores whatever --store-backend says (tests of that backend itself)."""
    made = Stores("postgres", tmp_path)
    yield made
    made.drop_all()


@pytest.fixture(scope="module")
def module_stores(request, tmp_path_factory):
    """`stores` for module-scoped fixtures (e.g. a template store copied per test)."""
    yield from _stores(request, tmp_path_factory.mktemp("stores"))


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


def materialize_model_days(
    instance: dg.DagsterInstance, store: ResultStore, model: str, first, last
) -> dg.ExecuteInProcessResult:
    """One in-process range run of `model_day` over `model`'s days first..last (dates or
    ISO strings), with the project's resources and `store` as the store."""
    from trading_assets.defs.definitions import defs
    from trading_assets.defs.partitions import range_tags
    from trading_assets.defs.resources.store import StoreResource

    return dg.materialize(
        [defs.get_assets_def(dg.AssetKey("model_day"))],
        instance=instance,
        resources={**defs.resources, "store": StoreResource(path=str(store.path))},
        tags=range_tags(model, first, last),
    )
