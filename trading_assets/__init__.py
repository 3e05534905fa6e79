"""trading_assets: simulate and compare trading agents as Dagster data assets.

The domain core (market, agents, kernel, llm, portfolio, engine, contract, store,
legacy) has no Dagster import; `trading_assets.defs` wires it into Dagster.
"""

__version__ = "0.1.0"
