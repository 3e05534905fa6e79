"""Numbers and endpoints are checked at the config boundary, as a user meets it: the
`backfill` command refuses the file before anything runs or is registered, with exit
code 2 and one line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from trading_assets.cli.main import main

BASE = """\
initial_cash: {cash}
universe: {universe}
market_data: {{source: bundled}}
fees: {{slippage_bps: {slippage}}}
models:
  - signature: m1
    agent: {agent}
    params: {params}
"""
GOOD = {
    "cash": "1000",
    "universe": "[AAPL]",
    "slippage": "0",
    "agent": "buy_and_hold",
    "params": "{}",
}
CASES = {
    "infinite cash": ({"cash": ".inf"}, "initial_cash", "finite"),
    "cash beyond a double": ({"cash": "1e400"}, "initial_cash", "finite"),
    "boolean cash": ({"cash": "true"}, "initial_cash", "valid number"),
    "NaN slippage": ({"slippage": ".nan"}, "fees.slippage_bps", "finite"),
    "empty symbol": ({"universe": "['AAPL', ' ']"}, "universe", "must not be empty"),
    "empty universe": ({"universe": "[]"}, "universe", "at least 1"),
    "infinite agent param": ({"params": "{fraction: .inf}"}, "fraction", "finite"),
    "boolean agent param": ({"params": "{fraction: true}"}, "fraction", "valid number"),
    "file:// LLM endpoint": (
        {
            "agent": "quant_llm",
            "params": "{llm: {model: m, base_url: 'file:///etc/passwd'}}",
        },
        "llm.base_url",
        "http(s) URL",
    ),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_config_boundary_refuses_bad_values_naming_file_and_key(case, tmp_path, capsys):
    changes, key, reason = CASES[case]
    path = tmp_path / "models.yaml"
    path.write_text(BASE.format(**{**GOOD, **changes}))
    store = tmp_path / "store.duckdb"
    code = main(["backfill", "--config", str(path), "--store", str(store)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err  # one line, no traceback
    assert err.startswith(f"error: {path}")
    assert key in err and reason in err
    assert not Path(store).exists()  # refused before anything was registered


def test_config_boundary_accepts_the_good_values(tmp_path):
    from trading_assets.config import load_config, model_specs

    path = tmp_path / "models.yaml"
    path.write_text(BASE.format(**{**GOOD, "cash": "1e5", "params": "{fraction: 1}"}))
    [spec] = model_specs(load_config(path))
    assert spec.initial_cash == 100_000.0
