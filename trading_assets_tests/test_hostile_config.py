"""Hostile models files (issue 16): each ends, fast and in bounded memory, in one line
`error: <file>[:line]: <what> Fix: <what to do>` and exit code 2, before anything is
registered; and, over generated files, the loader ends in a valid config or a
ConfigError, never another exception."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trading_assets.cli.main import main
from trading_assets.config import ModelsConfig, load_config
from trading_assets.errors import TradingAssetsError

GOOD = """\
initial_cash: 1000
universe: [AAPL]
models:
  - signature: m1
    agent: buy_and_hold
"""


def alias_bomb() -> str:
    """Nine levels of nine aliases each: 9**9 (387 million) values once expanded."""
    lines = [GOOD, "    params:\n", "      l0: &l0 [1, 2, 3, 4, 5, 6, 7, 8, 9]\n"]
    for i in range(1, 10):
        lines.append(f"      l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n")
    return "".join(lines)


HANGS = {
    "alias bomb": (alias_bomb, "counting each use of an alias"),
    "50 MB file": (lambda: GOOD + "# padding\n" * 5_000_000, "over the 100,000-byte limit"),
    "5,000 nested [": (lambda: GOOD + "    params: {x: " + "[" * 5000 + "}\n", "nested"),
}
BOUND_S, BOUND_BYTES = 5.0, 1_000_000_000


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (BOUND_BYTES, BOUND_BYTES))


@pytest.mark.parametrize("case", HANGS, ids=list(HANGS))
def test_file_that_used_to_hang_is_refused_fast_in_bounded_memory(case, tmp_path):
    make, words = HANGS[case]
    path = tmp_path / "models.yaml"
    path.write_text(make())
    probe = textwrap.dedent(f"""
        import json, time
        from trading_assets.config import load_config
        from trading_assets.errors import ConfigError
        t = time.monotonic()
        try:
            load_config({str(path)!r})
        except ConfigError as exc:
            print(json.dumps({{"s": time.monotonic() - t, "error": str(exc)}}))
    """)
    # the old loader ran past 240 s at 2.1 GB: under 1 GB of address space it dies, and
    # the timeout ends it in any case
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    measured = json.loads(done.stdout)
    assert measured["s"] < 1.0, measured  # the load itself, not the interpreter's start
    assert measured["error"].startswith(str(path)) and words in measured["error"]
    assert "Fix:" in measured["error"]


def test_alias_bomb_through_the_cli_is_one_error_line_and_registers_nothing(tmp_path):
    path = tmp_path / "models.yaml"
    path.write_text(alias_bomb())
    store = tmp_path / "store.duckdb"
    command = ["backfill", "--config", str(path), "--store", str(store)]
    done = subprocess.run(
        [sys.executable, "-m", "trading_assets.cli.main", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr[-2000:]
    assert lines[0].startswith(f"error: {path}:") and "alias" in lines[0]


CASES = {
    "duplicate top-level key": (
        GOOD.replace("universe: [AAPL]\n", "universe: [AAPL]\ninitial_cash: 5\n"),
        ":3: duplicate key 'initial_cash'",
    ),
    "duplicate key in params": (
        GOOD + "    params: {fraction: 0.5, fraction: 1.0}\n",
        ":6: duplicate key 'fraction'",
    ),
    "recursive alias": (GOOD + "    params: {x: &a [1, *a]}\n", ":6: a recursive alias"),
    "45-digit initial_cash": (
        GOOD.replace("1000", "1" + "0" * 44),
        ": key 'initial_cash': Input should be less than or equal to 1000000000000",
    ),
    "every model disabled": (GOOD + "    enabled: false\n", ": no enabled model"),
}


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_models_file_is_one_error_line_naming_file_and_line(case, tmp_path, capsys):
    text, words = CASES[case]
    path = tmp_path / "models.yaml"
    path.write_text(text)
    store = tmp_path / "store.duckdb"
    code = main(["backfill", "--config", str(path), "--store", str(store)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err  # one line, no traceback
    assert err.startswith(f"error: {path}{words}"), err
    assert " Fix: " in err and "model to run" not in err


def test_merge_keys_and_shared_anchors_still_load(tmp_path):
    """Aliases a person writes (a shared params block, a merge key) are no bomb."""
    path = tmp_path / "models.yaml"
    path.write_text(
        "initial_cash: 1000\nuniverse: [AAPL, IBM]\nmodels:\n"
        "  - {signature: a, agent: sma_crossover, params: &p {fast: 5, slow: 20}}\n"
        "  - {signature: b, agent: sma_crossover, params: {<<: *p, slow: 30}}\n"
    )
    config = load_config(path)
    assert [dict(m.params) for m in config.models] == [
        {"fast": 5, "slow": 20},
        {"fast": 5, "slow": 30},
    ]


# -- property: any file ends in a config or a ConfigError -------------------------------

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**50), max_value=10**50),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["AAPL", "buy_and_hold", "sma_crossover", "m1", "bundled", "folder"]),
)
KEYS = st.sampled_from(
    [
        "initial_cash",
        "universe",
        "models",
        "signature",
        "agent",
        "params",
        "enabled",
        "fees",
        "market_data",
        "source",
        "path",
        "commission",
        "rate",
        "fraction",
        "fast",
        "slow",
    ]
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=5),
    max_leaves=25,
)


def _mutate(text: str, data: st.DataObject) -> str:
    """A valid file with a few characters changed: the YAML a slip of the hand makes."""
    chars = list(text)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(chars)))
        piece = data.draw(st.sampled_from(["&a ", "*a", "[", "]", "{", "}", ":", " ", "\n", "-"]))
        if data.draw(st.booleans()) and at < len(chars):
            del chars[at]
        else:
            chars.insert(at, piece)
    return "".join(chars)


@settings(max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_models_file_loads_or_is_a_config_error(data):
    kind = data.draw(st.sampled_from(["mutated", "generated", "raw"]))
    if kind == "mutated":
        text = _mutate(GOOD + "    params: &p {fraction: 0.5}\n", data)
    elif kind == "generated":
        doc = {"universe": ["AAPL"], "models": [{"signature": "m", "agent": "buy_and_hold"}]}
        doc.update(data.draw(st.dictionaries(KEYS, VALUES, max_size=4)))
        text = yaml.safe_dump(doc, default_flow_style=data.draw(st.booleans()))
    else:
        text = data.draw(st.text(alphabet="ab:-[]{}&*!|>'\"#,. \n\t01e", max_size=200))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "models.yaml"
        path.write_text(text)
        try:
            config = load_config(path)
        except TradingAssetsError as exc:
            assert str(path) in str(exc) and exc.fix, exc  # names the file and a fix
            return
    assert isinstance(config, ModelsConfig)
