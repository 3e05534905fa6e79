"""register_models: add models from the UI alone (Launchpad -> run config -> Launch).

The run config is a models YAML fragment, exactly what a models config file holds
(`universe`, `models`, optionally `initial_cash`, `market_data`, `fees`,
`corporate_actions`). It is validated by the same rules as a file (`config.parse_config`)
and registered by the same rules as the CLI (`runs.registration.register_validated`):
a model is registered only after its market data loads, and a changed config that would
splice a stored chain is refused with its reason. The registered models get their
partition of model_day's model dimension; their backfill is then launched from
model_day's page (Materialize -> the new model's partitions), or by new_models_sensor.
Bad input fails the run with one line: `<where>: <what> Fix: <what to do>`.
"""

# no `from __future__ import annotations`: Dagster reads the op's config class from its
# annotation when the op is defined
from pathlib import Path

import dagster as dg
from pydantic import Field

from trading_assets.config import model_specs, parse_config
from trading_assets.defs.partitions import MODELS_PARTITION
from trading_assets.defs.resources.store import StoreResource
from trading_assets.errors import TradingAssetsError
from trading_assets.runs.registration import register_validated
from trading_assets.store.results import model_dates

WHERE = "run config models_yaml"
EXAMPLE = """universe: [AAPL, MSFT]
models:
  - {signature: sma-5-20, agent: sma_crossover, params: {fast: 5, slow: 20, size: 10}}
"""


class ModelsYaml(dg.Config):
    models_yaml: str = Field(
        default=EXAMPLE,
        description="A models YAML fragment, as in a models config file (README, "
        "Configuration). A relative market_data.path is relative to the code location's "
        "working directory.",
    )


@dg.op(description="Validate a models YAML fragment and register the models that pass.")
def register_models(
    context: dg.OpExecutionContext, config: ModelsYaml, store: StoreResource
) -> dg.Output[None]:
    result_store = store.store()
    try:
        specs = model_specs(parse_config(config.models_yaml, where=WHERE, base=Path.cwd()))
    except TradingAssetsError as exc:
        raise dg.Failure(description=str(exc)) from None
    registration = register_validated(result_store, specs)
    for line in registration.lines():
        context.log.warning(line)
    if not registration.registered:
        raise dg.Failure(
            description="no model registered: " + ("; ".join(registration.lines()) or "none given"),
            metadata={"rejected": dg.MetadataValue.json(registration.rejected)},
        )
    names = [s.signature for s in registration.registered]
    known = set(context.instance.get_dynamic_partitions(MODELS_PARTITION))
    context.instance.add_dynamic_partitions(MODELS_PARTITION, [n for n in names if n not in known])
    unpriced = [n for n in names if not model_dates(result_store, n)]
    next_step = "launch their backfill from model_day (Materialize, the model's partitions)"
    if unpriced:
        next_step = (
            f"materialize market_prices (no stored bars for {', '.join(unpriced)}), then "
            + (next_step)
        )
    context.log.info(f"registered {', '.join(names)}; {next_step}")
    return dg.Output(
        None,
        metadata={
            "registered": ", ".join(names),
            "config_hash": ", ".join(
                f"{s.signature} {s.config_hash}" for s in registration.registered
            ),
            "rejected": dg.MetadataValue.json(registration.rejected),
            "next": next_step,
        },
    )


@dg.job(description="Register models from a models YAML fragment given as run config.")
def register_models_job() -> None:
    register_models()
