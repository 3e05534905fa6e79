"""The models config (YAML): load_config's errors and the ModelSpecs it yields.

Every error a user can make in the file must name the file, the key at fault and the
fix; a valid file yields one frozen ModelSpec per enabled model whose hash is stable
across processes and moves when the model's params move.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from trading_assets.config import ModelSpec, load_config, model_specs
from trading_assets.errors import ConfigError, TradingAssetsError, UnknownAgentError

VALID = """\
initial_cash: 50000
universe: [AAPL, msft]
market_data: {source: bundled}
fees:
  commission: {per_share: 0.005, minimum: 1.0}
  slippage_bps: 5
models:
  - signature: bh
    agent: buy_and_hold
  - signature: sma-fast
    agent: sma_crossover
    params: {fast: 5, slow: 20, size: 10}
  - signature: switched-off
    agent: bollinger
    enabled: false
"""


def write(tmp_path: Path, text: str, name: str = "models.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def config_error(path: Path, kind: type[Exception] = ConfigError) -> str:
    with pytest.raises(kind) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message, "the error must name the file"
    assert "Fix:" in message and info.value.fix, "the error must say the fix"
    return message


# -- errors --------------------------------------------------------------------------


def test_load_config_with_missing_file_names_it_and_says_pass_config(tmp_path):
    message = config_error(tmp_path / "nope.yaml")
    assert "not found" in message
    assert "--config" in message


def test_load_config_with_yaml_syntax_error_names_the_line(tmp_path):
    path = write(tmp_path, "initial_cash: 1000\nuniverse: [AAPL\nmodels: []\n")
    message = config_error(path)
    assert "not valid YAML" in message
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.where == f"{path}:3"  # where the unclosed list meets `models:`


QUANT_LLM_BAD_INNER = """\
universe: [AAPL]
models:
  - signature: qllm
    agent: quant_llm
    params: {quant: {agent: sma_crossover, params: {fast: 50, slow: 10}}}
"""


def edited(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


# (case, config text, error type, what the message must say)
BAD_CONFIGS = [
    ("top-level list", "- a\n- b\n", ConfigError, ["mapping"]),
    (
        "unknown key",
        VALID + "initial_csh: 10\n",
        ConfigError,
        ["'initial_csh'", "Extra inputs are not permitted", "remove or rename"],
    ),
    (
        "unknown nested key",
        edited("slippage_bps: 5", "slipage_bps: 5"),
        ConfigError,
        ["'fees.slipage_bps'"],
    ),
    (
        "missing models",
        "initial_cash: 1000\nuniverse: [AAPL]\n",
        ConfigError,
        ["'models'", "add 'models'"],
    ),
    ("empty models", "universe: [AAPL]\nmodels: []\n", ConfigError, ["'models'"]),
    *[
        (
            f"initial cash {cash}",
            edited("initial_cash: 50000", f"initial_cash: {cash}"),
            ConfigError,
            ["'initial_cash'", "greater than 0", "correct the value of 'initial_cash'"],
        )
        for cash in ("-100", "0")
    ],
    (
        "duplicate universe symbol",
        edited("[AAPL, msft]", "[AAPL, aapl]"),
        ConfigError,
        ["'universe'", "unique"],
    ),
    (
        "unknown agent",
        edited("agent: buy_and_hold", "agent: buy_and_hodl"),
        UnknownAgentError,
        [
            "'buy_and_hodl'",
            "models[0] (bh)",
            "bollinger",
            "buy_and_hold",
            "quant_llm",
            "sma_crossover",
        ],
    ),
    (
        "fast not below slow",
        edited("{fast: 5, slow: 20, size: 10}", "{fast: 20, slow: 20}"),
        ConfigError,
        ["models[1] (sma-fast)", "fast (20) must be smaller than slow (20)", "sma_crossover"],
    ),
    (
        "unknown param",
        edited("size: 10}", "size: 10, sloww: 3}"),
        ConfigError,
        ["models[1] (sma-fast)", "sloww", "Extra inputs are not permitted"],
    ),
    (
        "wrongly typed param",
        edited("size: 10}", "size: lots}"),
        ConfigError,
        ["size", "models[1] (sma-fast)"],
    ),
    ("bad quant_llm inner params", QUANT_LLM_BAD_INNER, ConfigError, ["models[0] (qllm)"]),
    (
        "duplicate signature",
        edited("signature: sma-fast", "signature: bh"),
        ConfigError,
        ["duplicate signature", "models[1] (bh)", "own signature"],
    ),
    *[
        (
            f"unsafe signature {signature[:12]!r}",
            edited("signature: bh", f"signature: {signature!r}"),
            ConfigError,
            ["'models.0.signature'", "letters, digits"],
        )
        for signature in ("../x", "a/b", ".", "..", "-lead", "has space", "x" * 129)
    ],
    (
        "folder source without path",
        edited("{source: bundled}", "{source: folder}"),
        ConfigError,
        ["market_data", "market_data.path is required", "add market_data.path"],
    ),
    (
        "unknown source",
        edited("{source: bundled}", "{source: yahoo}"),
        ConfigError,
        ["'market_data.source'"],
    ),
]


@pytest.mark.parametrize(
    ("text", "kind", "says"), [c[1:] for c in BAD_CONFIGS], ids=[c[0] for c in BAD_CONFIGS]
)
def test_load_config_with_bad_file_names_the_file_key_and_fix(tmp_path, text, kind, says):
    message = config_error(write(tmp_path, text), kind)
    missing = [part for part in says if part not in message]
    assert missing == [], message


def test_load_config_with_errors_raises_trading_assets_errors_only(tmp_path):
    for text in ("{", "models: 3", "universe: 3\nmodels: [{signature: a, agent: b}]"):
        with pytest.raises(TradingAssetsError):
            load_config(write(tmp_path, text))


# -- valid configs ------------------------------------------------------------------


def test_load_config_with_valid_file_normalizes_and_keeps_every_key(tmp_path):
    config = load_config(write(tmp_path, VALID))
    assert config.initial_cash == 50_000.0
    assert config.universe == ["AAPL", "MSFT"]
    assert config.fees.commission.minimum == 1.0
    assert config.fees.slippage_bps == 5
    assert [m.signature for m in config.models] == ["bh", "sma-fast", "switched-off"]


def test_load_config_with_folder_source_resolves_path_next_to_file(tmp_path):
    text = VALID.replace("{source: bundled}", "{source: folder, path: prices}")
    config = load_config(write(tmp_path, text))
    assert config.market_data.path == str((tmp_path / "prices").resolve())


def test_model_specs_with_disabled_model_include_only_enabled(tmp_path):
    specs = model_specs(load_config(write(tmp_path, VALID)))
    assert [s.signature for s in specs] == ["bh", "sma-fast"]
    sma = specs[1]
    assert sma.agent == "sma_crossover"
    assert sma.params == {"fast": 5, "slow": 20, "size": 10}
    assert sma.universe == ("AAPL", "MSFT")
    assert sma.initial_cash == 50_000.0


def test_model_spec_with_attempted_change_is_frozen(tmp_path):
    spec = model_specs(load_config(write(tmp_path, VALID)))[0]
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        spec.initial_cash = 1.0  # type: ignore[misc]


def test_model_spec_params_with_attempted_change_after_validation_raise(tmp_path):
    path = write(tmp_path, QUANT_LLM_BAD_INNER.replace("fast: 50, slow: 10", "fast: 5, slow: 10"))
    spec = model_specs(load_config(path))[0]
    with pytest.raises(TypeError):  # the inline-key ban cannot be dodged after validation
        spec.params["llm"] = {"model": "m", "api_key": "sk-inline"}  # type: ignore[index]
    with pytest.raises(TypeError):
        spec.params["quant"]["params"]["fast"] = 500  # type: ignore[index]
    assert spec.model_dump()["params"]["quant"]["params"] == {"fast": 5, "slow": 10}


def hash_in_subprocess(path: Path, seed: str) -> list[str]:
    code = (
        "import sys; from trading_assets.config import load_config, model_specs; "
        "print(' '.join(s.config_hash for s in model_specs(load_config(sys.argv[1]))))"
    )
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, "-c", code, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return out.stdout.split()


def test_config_hash_with_same_file_is_stable_across_processes(tmp_path):
    path = write(tmp_path, VALID)
    here = [s.config_hash for s in model_specs(load_config(path))]
    assert len(set(here)) == 2
    assert all(len(h) == 16 and int(h, 16) >= 0 for h in here)
    assert hash_in_subprocess(path, "1") == here
    assert hash_in_subprocess(path, "2") == here


def test_config_hash_with_params_changed_changes(tmp_path):
    base = model_specs(load_config(write(tmp_path, VALID)))[1]
    changed = model_specs(
        load_config(write(tmp_path, VALID.replace("size: 10", "size: 11"), "b.yaml"))
    )[1]
    assert changed.config_hash != base.config_hash
    assert base.model_copy(update={"initial_cash": 1.0}).config_hash != base.config_hash


def first_hashes(tmp_path: Path, text: str, name: str) -> list[str]:
    return [s.config_hash for s in model_specs(load_config(write(tmp_path, text, name)))]


def test_config_hash_with_params_reordered_or_enabled_spelled_out_is_equal(tmp_path):
    base = first_hashes(tmp_path, VALID, "base.yaml")
    reordered = VALID.replace("{fast: 5, slow: 20, size: 10}", "{size: 10, slow: 20, fast: 5}")
    assert first_hashes(tmp_path, reordered, "reordered.yaml") == base
    spelled = VALID.replace("agent: buy_and_hold", "agent: buy_and_hold\n    enabled: true")
    assert first_hashes(tmp_path, spelled, "spelled.yaml") == base


def test_model_spec_with_json_round_trip_keeps_hash(tmp_path):
    spec = model_specs(load_config(write(tmp_path, VALID)))[1]
    again = ModelSpec.model_validate_json(spec.model_dump_json())
    assert again == spec
    assert again.config_hash == spec.config_hash
