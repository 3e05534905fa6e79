"""Third-party agents load from the `trading_assets.agents` entry-point group.

The entry point is a real importlib.metadata.EntryPoint (loaded by import, as for an
installed plugin); only the list of installed entry points is substituted.
"""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest

from trading_assets.agents import registry
from trading_assets.config import load_config
from trading_assets.errors import ConfigError, UnknownAgentError

PLUGIN = EntryPoint(
    name="always_flat",
    value="trading_assets_tests.plugin_agent:AlwaysFlat",
    group=registry.ENTRY_POINT_GROUP,
)


@pytest.fixture
def with_plugin(monkeypatch):
    registry.available_agents.cache_clear()
    monkeypatch.setattr(
        registry,
        "entry_points",
        lambda group: [PLUGIN] if group == registry.ENTRY_POINT_GROUP else [],
    )
    yield
    registry.available_agents.cache_clear()


def test_registry_with_plugin_entry_point_lists_and_loads_it(with_plugin):
    assert "always_flat" in registry.available_agents()
    cls = registry.agent_class("always_flat")
    assert cls.__name__ == "AlwaysFlat"


def test_config_with_plugin_agent_validates_its_params(with_plugin, tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(
        "universe: [IBM]\nmodels:\n  - {signature: flat, agent: always_flat, "
        "params: {patience: nope}}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "patience" in str(err.value) and "models[0] (flat)" in str(err.value)


def test_config_with_uninstalled_agent_names_the_entry_point_group(tmp_path):
    registry.available_agents.cache_clear()
    with pytest.raises(UnknownAgentError) as err:
        registry.agent_class("always_flat")
    assert "trading_assets.agents" in str(err.value)
