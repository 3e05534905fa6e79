"""Grid syntax: a list or range where a parameter takes one value expands to named
variants; constraints drop combinations with a count; bad grids name the entry."""

from __future__ import annotations

import pytest

from trading_assets.errors import ConfigError
from trading_assets.grid import expand

W = "models.yaml: models[0] (sma)"


def test_lists_and_ranges_expand_to_the_product_in_written_order():
    out = expand(
        "sma",
        {"fast": [5, 10], "slow": {"from": 30, "to": 50, "step": 10}, "size": 100},
        {"fast", "slow", "size"},
        where=W,
    )
    assert [(v.signature, v.params) for v in out.variants] == [
        ("sma-fast5-slow30", {"fast": 5, "slow": 30, "size": 100}),
        ("sma-fast5-slow40", {"fast": 5, "slow": 40, "size": 100}),
        ("sma-fast5-slow50", {"fast": 5, "slow": 50, "size": 100}),
        ("sma-fast10-slow30", {"fast": 10, "slow": 30, "size": 100}),
        ("sma-fast10-slow40", {"fast": 10, "slow": 40, "size": 100}),
        ("sma-fast10-slow50", {"fast": 10, "slow": 50, "size": 100}),
    ]
    assert out.dropped == 0


def test_constraints_drop_combinations_and_count_them():
    out = expand(
        "sma",
        {"fast": [10, 20, 30], "slow": [20, 30]},
        {"fast", "slow"},
        ["fast < slow"],
        where=W,
    )
    assert [v.signature for v in out.variants] == [
        "sma-fast10-slow20",
        "sma-fast10-slow30",
        "sma-fast20-slow30",
    ]
    assert out.dropped == 3  # (20, 20), (30, 20), (30, 30)


def test_float_range_is_exact_in_decimal_and_named_plainly():
    out = expand("bb", {"k": {"from": 1.5, "to": 2.5, "step": 0.5}}, {"k"}, where=W)
    assert [(v.signature, v.params["k"]) for v in out.variants] == [
        ("bb-k1.5", 1.5),
        ("bb-k2", 2.0),
        ("bb-k2.5", 2.5),
    ]


def test_a_variant_keeps_its_name_when_another_axis_grows():
    small = expand("sma", {"fast": [5], "slow": [30]}, {"fast", "slow"}, where=W)
    large = expand("sma", {"fast": [5, 10], "slow": [30, 40]}, {"fast", "slow"}, where=W)
    assert small.variants[0] in large.variants


def test_a_list_valued_parameter_is_not_an_axis():
    out = expand("m", {"symbols": ["AAPL", "IBM"]}, set(), where=W)
    assert [(v.signature, v.params) for v in out.variants] == [("m", {"symbols": ["AAPL", "IBM"]})]


@pytest.mark.parametrize(
    "params, constraints, message",
    [
        ({"fast": []}, [], "params.fast: an empty list gives no variant"),
        (
            {"fast": {"from": 10, "to": 5, "step": 1}},
            [],
            "params.fast: the range 10..5 by 1 is empty",
        ),
        (
            {"fast": {"from": 1, "to": 5, "step": 0}},
            [],
            "params.fast: the range 1..5 by 0 is empty",
        ),
        ({"fast": {"from": "a", "to": 5, "step": 1}}, [], "params.fast.from must be a number"),
        ({"fast": {"from": 0, "to": 1, "step": 1e-6}}, [], "params.fast: 1,000,001 values"),
        ({"fast": [1, 2]}, ["fast << slow"], "constraint 'fast << slow' is not"),
        ({"fast": [1, 2]}, ["fast < slow"], "constraint 'fast < slow' names 'slow'"),
        (
            {"a": list(range(400)), "b": list(range(400))},
            [],
            "the grid has 160,000 combinations (at most 100,000)",
        ),
    ],
)
def test_bad_grids_name_the_entry_and_the_problem(params, constraints, message):
    with pytest.raises(ConfigError) as err:
        expand("sma", params, set(params), constraints, where=W)
    assert str(err.value).startswith(f"{W}: {message}")
    assert "Fix:" in str(err.value)


# -- in the models YAML ----------------------------------------------------------------


def test_models_yaml_grid_becomes_models_equal_to_the_ones_written_by_hand(tmp_path):
    from trading_assets.config import load_config, model_specs

    grid = tmp_path / "grid.yaml"
    grid.write_text(
        "universe: [AAPL]\nmodels:\n"
        "  - signature: sma\n    agent: sma_crossover\n"
        "    params: {fast: [10, 30], slow: {from: 30, to: 50, step: 20}, size: 50}\n"
        "    constraints: ['fast < slow']\n"
    )
    by_hand = tmp_path / "hand.yaml"
    by_hand.write_text(
        "universe: [AAPL]\nmodels:\n"
        "  - {signature: sma-fast10-slow30, agent: sma_crossover, "
        "params: {fast: 10, slow: 30, size: 50}}\n"
        "  - {signature: sma-fast10-slow50, agent: sma_crossover, "
        "params: {fast: 10, slow: 50, size: 50}}\n"
        "  - {signature: sma-fast30-slow50, agent: sma_crossover, "
        "params: {fast: 30, slow: 50, size: 50}}\n"
    )
    config = load_config(grid)
    assert config.dropped_variants == 1  # fast 30, slow 30
    specs = model_specs(config)
    assert [(s.signature, s.config_hash) for s in specs] == [
        (s.signature, s.config_hash) for s in model_specs(load_config(by_hand))
    ]


def test_models_yaml_grid_value_the_agent_refuses_names_the_variant(tmp_path):
    from trading_assets.config import load_config

    path = tmp_path / "grid.yaml"
    path.write_text(
        "universe: [AAPL]\nmodels:\n"
        "  - {signature: sma, agent: sma_crossover, params: {fast: [10, 40], slow: 30}}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "models[0] (sma-fast40)" in str(err.value)
    assert "fast (40) must be smaller than slow (30)" in str(err.value)
