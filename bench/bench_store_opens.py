"""How often one model_day run opens the store: a range run of two models, in-process.

Each open takes the file lock and checks migrations, so fewer is better (the target is
one per model). Counts the calls of `store.db._open` (the only place DuckDB opens the
store file) while Dagster materializes model_day for 2012-01-03..2012-01-31 x 2 models.

    .venv/bin/python bench/bench_store_opens.py
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from pathlib import Path

import dagster as dg

from trading_assets.config import load_config, model_specs
from trading_assets.defs.definitions import defs
from trading_assets.defs.partitions import MODELS_PARTITION, range_tags
from trading_assets.defs.resources.store import StoreResource
from trading_assets.market.sources import BundledSource
from trading_assets.store import db
from trading_assets.store.results import ResultStore

CONFIG = """
initial_cash: 100000
universe: [AAPL, MSFT]
market_data: {source: bundled}
models:
  - {signature: m1, agent: buy_and_hold}
  - {signature: m2, agent: sma_crossover, params: {fast: 5, slow: 20, size: 10}}
"""


def main() -> None:
    for name in [n for n in os.environ if n.startswith("TA_")]:
        del os.environ[name]  # default migration flags: parity on, dual write off
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "models.yaml"
        config.write_text(CONFIG)
        store = ResultStore(Path(tmp) / "store.duckdb")
        store.register_models(model_specs(load_config(config)))
        store.write_prices("bundled", BundledSource().load())
        opens = []
        real_open = db._open

        def counting_open(path, *args, **kwargs):
            opens.append(path)
            return real_open(path, *args, **kwargs)

        db._open = counting_open
        start, end = dt.date(2012, 1, 3), dt.date(2012, 1, 31)
        with dg.DagsterInstance.ephemeral() as instance:
            instance.add_dynamic_partitions(MODELS_PARTITION, ["m1", "m2"])
            result = dg.materialize(
                [defs.get_assets_def(dg.AssetKey("model_day"))],
                instance=instance,
                resources={**defs.resources, "store": StoreResource(path=str(store.path))},
                tags=range_tags("m1", start, end, last_model="m2"),
            )
        db._open = real_open
        assert result.success
        print(f"store opens for one model_day run of 2 models: {len(opens)}")


if __name__ == "__main__":
    main()
