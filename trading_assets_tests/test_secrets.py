"""The API key stays a secret, and the LLM cache never serves one server's answer for
another's (issue 16).

- A provider (the real local test server) that echoes the key in a 200 answer (JSON
  `\\uXXXX` escapes, upper case, spaced out, reversed, URL-encoded, base64, as the
  rating, in a non-JSON answer) and in error bodies (401, 400, 500): after a real
  `trading-assets backfill` no 10-character window of the key, in any letter case and
  either direction, is in the DuckDB file, in any file of the Dagster instance folder
  (DAGSTER_HOME: run and event-log storage) or in the command's output.
- A key pasted into the config (`base_url` userinfo or query, `api_key_env` set to the
  key) is refused at load: exit code 2, one `error: <file>: ... Fix: ...` line, no echo.
- A key pasted into any other field of a model (`llm.model`, the signature, a param)
  while the variable `api_key_env` names holds it: refused at load the same way.
- A plugin agent that fails the day quoting the model's answer (which echoes the key):
  the failed day's error, in the step's Failure, the run's logs and the command's
  output, holds no part of the key (the Dagster instance is scanned byte by byte).
- An error the CLI prints that quotes a config value the key was pasted into (an agent
  name): the key is scrubbed from the line.
- A legacy import whose logs echo the legacy config's key, the checkout's `.env` key
  and ours: no part of any of them in the store.
- Two servers on one host (different ports) serving the same model name each answer for
  their own model: the second is asked, and its answers are stored under its identity.

Forms of the key are written out here with the standard library, not by llm/scrub.py.
"""

from __future__ import annotations

import base64
import functools
import json

import dagster as dg
import pytest

from trading_assets.config import load_config, model_specs
from trading_assets.defs.definitions import defs
from trading_assets.defs.resources.store import StoreResource
from trading_assets.llm.scrub import scrub
from trading_assets.market.sources import BundledSource
from trading_assets.store import db as store_db
from trading_assets.store.results import ResultStore
from trading_assets.store.schema import MIGRATIONS
from trading_assets_tests.conftest import table_rows
from trading_assets_tests.e2e import sqlite_project, write_config

try:  # package layout (trading_assets_tests/__init__.py) or the repo root on sys.path
    from trading_assets_tests.openai_server import OpenAIServer, Reply
except ImportError:  # pytest's default "prepend" import of this folder
    from openai_server import OpenAIServer, Reply

KEY = "sk-proj-Zq7Xw3Kp9Lm2Vb6Nc4Rt8Yh1"
KEY_ENV = "TEST_SECRET_LLM_KEY"
MODELS = ("via-a", "via-b")  # the conftest instance knows these
MODEL_DAY = dg.AssetKey("model_day")
CANARY = "Canary rationale 5e1f."  # a healthy answer: shows that the scans see stored text


def u_escaped(text: str) -> str:
    return "".join(f"\\u{ord(c):04x}" for c in text)


def url_encoded(text: str) -> str:
    return "".join(f"%{b:02X}" for b in text.encode())


# The forms a provider echoes the key in, as the text of a 200 answer's rationale.
RATIONALE_ECHOES = {
    "upper": KEY.upper(),
    "spaced": " ".join(KEY),
    "reversed": KEY[::-1],
    "dashed-lower": "-".join(KEY.lower()),
    "url-encoded": url_encoded(KEY),
    "base64": base64.b64encode(f"Authorization: Bearer {KEY}".encode()).decode(),
    "hex": KEY.encode().hex(),
    "html": "".join(f"&#{ord(c)};" for c in KEY),
    "newlines": "\n".join(KEY),
}


def leaks(text: str, secret: str = KEY) -> list[str]:
    """Every 10-character window of the key found in `text`, in any case, either way."""
    lowered = text.lower()
    windows = set()
    for key in (secret.lower(), secret.lower()[::-1]):
        windows |= {key[i : i + 10] for i in range(len(key) - 9)}
    return sorted(w for w in windows if w in lowered)


# -- the scrub: every form ------------------------------------------------------------


@pytest.mark.parametrize(
    "echo",
    [
        *RATIONALE_ECHOES.values(),
        u_escaped(KEY),
        u_escaped(KEY).upper().replace("\\U", "\\u"),  # hex digits in upper case
        json.dumps(u_escaped(KEY))[1:-1],  # JSON inside JSON: \\u0073
        " ".join(KEY[::-1].upper()),
        base64.urlsafe_b64encode(b"k=" + KEY.encode()).decode(),
        "".join(f"\\x{b:02x}" for b in KEY.encode()),
    ],
    ids=[
        *RATIONALE_ECHOES,
        *("u-escaped", "u-escaped-HEX", "json-in-json", "spaced-reversed-upper"),
        *("base64-urlsafe-offset", "python-x-escapes"),
    ],
)
def test_scrub_with_key_in_any_form_leaves_no_part_of_it(echo):
    out = scrub(f"the provider said: {echo} (end)", [KEY])
    assert out.startswith("the provider said: ") and out.endswith(" (end)")
    assert "***" in out and leaks(out) == []


def test_scrub_with_prose_and_numbers_leaves_them_alone():
    text = "Momentum is positive; SK volumes rose 12% (proj. 7.3). Bearer of bad news."
    assert scrub(text, [KEY]) == text


# -- refused configs ------------------------------------------------------------------


LLM_LINE = "      llm: {{model: test-model, base_url: '{url}', api_key_env: {env}}}\n"


def model_yaml(url: str, env: str = KEY_ENV, signature: str = "q", fast: int = 1) -> str:
    return (
        "initial_cash: 100000\n"
        "universe: [AAPL, MSFT, IBM]\n"
        "market_data: {source: bundled}\n"
        "models:\n"
        f"  - signature: {signature}\n"
        "    agent: quant_llm\n"
        "    params:\n"
        f"      quant: {{agent: sma_crossover, params: {{fast: {fast}, slow: 2, size: 5}}}}\n"
        + LLM_LINE.format(url=url, env=env)
    )


REFUSED = [
    pytest.param(
        model_yaml(f"https://user:{KEY}@api.example.com/v1"), "llm.base_url", id="userinfo"
    ),
    pytest.param(model_yaml(f"https://{KEY}@api.example.com/v1"), "llm.base_url", id="user"),
    pytest.param(
        model_yaml(f"https://api.example.com/v1?api_key={KEY}"), "llm.base_url", id="query"
    ),
    pytest.param(
        model_yaml("https://api.example.com/v1", env=KEY), "llm.api_key_env", id="env-is-key"
    ),
    pytest.param(
        model_yaml("https://api.example.com/v1", env="sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        "llm.api_key_env",
        id="env-is-stripe-style-key",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("text, key", REFUSED)
def test_backfill_with_key_in_config_is_refused_in_one_line_without_echo(tmp_path, text, key):
    project = sqlite_project(tmp_path)
    config = write_config(tmp_path, text)

    done = project.run("backfill", "--config", str(config), "--start", "2012-01-03")

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {config}: models[0] (q): ")
    assert f"{key}: " in lines[0] and " Fix: " in lines[0] and "environment variable" in lines[0]
    assert leaks(done.stderr) == []
    assert not project.store.exists()  # refused before anything was stored


def test_api_key_env_with_ordinary_variable_names_is_accepted(tmp_path):
    for name in ("OPENAI_API_KEY", "OPENROUTER_API_KEY_2", "my_llm_key", "_KEY"):
        path = tmp_path / "models.yaml"
        path.write_text(model_yaml("http://127.0.0.1:8000/v1", env=name))
        [spec] = model_specs(load_config(path))
        assert spec.params["llm"]["api_key_env"] == name


# -- a provider that echoes the key: nothing of it in the store, instance or output --


def echo_script() -> list[Reply]:
    rationale = [Reply.rating("BUY", why) for why in RATIONALE_ECHOES.values()]
    return [
        # the case: the key written with \uXXXX escapes inside the answer's JSON
        Reply.content('{"rating": "BUY", "rationale": "' + u_escaped(KEY) + '"}'),
        *rationale,
        Reply.content(json.dumps({"rating": KEY, "rationale": "An odd rating."})),  # cached
        Reply.content(f"I cannot comply. Your key is {' '.join(KEY.upper())}."),  # not JSON
        Reply.echo_headers(200, into="content"),  # Authorization: Bearer <key> as the answer
        Reply(  # a 401 whose JSON body escapes the key
            status=401,
            body=(
                '{"error": {"message": "Incorrect API key provided: ' + u_escaped(KEY) + '"}}'
            ).encode(),
            headers=(("Content-Type", "application/json"),),
        ),
        Reply.error(400, f"bad request from {'-'.join(KEY)}"),
        Reply.error(500, f"upstream failed for {KEY.upper()[::-1]}"),
        Reply(status=502, body=f"gateway: key={url_encoded(KEY)}".encode()),
    ]


@pytest.mark.slow
def test_backfill_with_provider_echoing_the_key_leaves_no_form_of_it_anywhere(tmp_path):
    project = sqlite_project(tmp_path)
    script = echo_script()
    with OpenAIServer(Reply.rating("BUY", CANARY)) as server:
        server.script(*script)
        config = write_config(
            tmp_path,
            model_yaml(server.base_url).replace(
                f"api_key_env: {KEY_ENV}}}",
                f"api_key_env: {KEY_ENV}, max_retries: 0, timeout_seconds: 10}}",
            ),
        )
        done = project.run(
            "backfill",
            "--config",
            str(config),
            "--start",
            "2012-01-03",
            "--end",
            "2012-02-29",
            "--workers",
            "2",  # the run goes to a worker process, as by default on a 2-core machine
            **{KEY_ENV: KEY},
        )
        requests = server.requests

    assert done.returncode == 0, done.stderr[-3000:]
    assert len(requests) > len(script)  # every echo was sent, then healthy answers
    assert {r.headers["authorization"] for r in requests} == {f"Bearer {KEY}"}  # key used
    # The scans: the store read through SQL, the store's bytes, the instance, the output.
    store = ResultStore(project.store, read_only=True)
    dump = json.dumps(
        {t: table_rows(store, t) for t in ("signals", "llm_cache", "model_days", "models")},
        default=str,
    )
    assert CANARY in dump and leaks(dump) == []
    store_bytes = b"".join(p.read_bytes() for p in tmp_path.glob("store.duckdb*") if p.is_file())
    assert CANARY.encode() in store_bytes
    assert leaks(store_bytes.decode("latin-1")) == []
    instance_files = [p for p in project.home.rglob("*") if p.is_file()]
    assert any(p.suffix == ".db" for p in instance_files)  # run and event-log storage
    instance_bytes = b"".join(p.read_bytes() for p in instance_files)
    assert b"model_day" in instance_bytes
    assert leaks(instance_bytes.decode("latin-1")) == []
    assert leaks(done.stdout + done.stderr) == []
    # What the user sees in the store: each echo redacted, the healthy answers intact.
    signals = table_rows(store, "signals", order_by="date, symbol")
    texts = [f"{s['reasoning']} {s['source_diagnostics']}" for s in signals]
    assert sum("***" in t for t in texts) >= len(script) - 1  # (the rating echo: a HOLD)
    assert any(t.endswith(f"llm: {CANARY} None") for t in texts)
    assert len(table_rows(store, "llm_cache")) > len(RATIONALE_ECHOES)


# -- the LLM cache: one identity per server -------------------------------------------


@functools.cache
def bundled_prices():
    return BundledSource().load()


def materialize(instance, store: ResultStore, model: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [defs.get_assets_def(MODEL_DAY)],
        instance=instance,
        resources={**defs.resources, "store": StoreResource(path=str(store.path))},
        tags={
            "dagster/asset_partition_range_start": f"2012-01-03|{model}",
            "dagster/asset_partition_range_end": f"2012-01-31|{model}",
        },
        raise_on_error=False,
    )


def test_two_servers_on_one_host_each_answer_for_their_own_model(tmp_path, instance, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    with (
        OpenAIServer(Reply.rating("BUY", "From server A.")) as a,
        OpenAIServer(Reply.rating("SELL", "From server B.")) as b,
    ):
        assert a.port != b.port  # one host (127.0.0.1), one model name, two servers
        store = ResultStore(tmp_path / "store.duckdb")
        for model, server in zip(MODELS, (a, b), strict=True):
            config = tmp_path / f"{model}.yaml"
            config.write_text(model_yaml(server.base_url, signature=model))
            store.register_models(model_specs(load_config(config)))
        store.write_prices("bundled", bundled_prices())

        first = materialize(instance, store, "via-a")
        second = materialize(instance, store, "via-b")
        asked_a, asked_b = len(a.requests), len(b.requests)

    assert first.success and second.success
    signals = table_rows(store, "signals", order_by="model, date, symbol")
    by_model = {m: [s for s in signals if s["model"] == m] for m in MODELS}
    assert by_model["via-a"] and len(by_model["via-a"]) == len(by_model["via-b"])
    # the same prompts went to both servers: B was asked each one, not served A's answers
    assert asked_a == asked_b == len(by_model["via-b"])
    assert all(s["reasoning"].endswith("llm: From server A.") for s in by_model["via-a"])
    assert all(s["reasoning"].endswith("llm: From server B.") for s in by_model["via-b"])
    assert {s["llm_rating"] for s in by_model["via-b"]} == {"SELL"}
    cache = table_rows(store, "llm_cache")
    by_identity: dict[str, set[str]] = {}
    for row in cache:
        by_identity.setdefault(row["model"], set()).add(row["rationale"])
    assert by_identity == {
        f"test-model@http://127.0.0.1:{a.port}/v1": {"From server A."},
        f"test-model@http://127.0.0.1:{b.port}/v1": {"From server B."},
    }
    assert len(cache) == asked_a + asked_b


def test_rerun_against_the_second_server_is_served_from_its_own_cache(
    tmp_path, instance, monkeypatch
):
    monkeypatch.setenv(KEY_ENV, KEY)
    with OpenAIServer(Reply.rating("SELL", "From server B.")) as b:
        store = ResultStore(tmp_path / "store.duckdb")
        config = tmp_path / "via-b.yaml"
        config.write_text(model_yaml(b.base_url, signature="via-b"))
        store.register_models(model_specs(load_config(config)))
        store.write_prices("bundled", bundled_prices())
        assert materialize(instance, store, "via-b").success
        asked = len(b.requests)
        assert materialize(instance, store, "via-b").success  # same server: all cache hits
        assert asked > 0 and len(b.requests) == asked


def test_store_from_before_the_new_identity_drops_its_model_at_host_answers(tmp_path, monkeypatch):
    # A store before migration 8 holding answers under the old identity (one holds a key
    # decoded from an echo, as the old scrub let through) and one under the new identity.
    path = tmp_path / "store.duckdb"
    new = "test-model@http://127.0.0.1:8000/v1"
    with monkeypatch.context() as patch:
        patch.setattr(store_db, "MIGRATIONS", [m for m in MIGRATIONS if m[0] < 8])
        with ResultStore(path).connect() as con:
            for model, why in [
                ("test-model@127.0.0.1", f"Leaked {KEY}"),
                ("test-model@127.0.0.1?temperature=0.7", "Warm."),
                (new, "Kept."),
            ]:
                con.execute(
                    "INSERT INTO llm_cache VALUES (?, 'h', 'BUY', ?, '{}', '2012-01-03')",
                    [model, why],
                )

    rows = table_rows(ResultStore(path), "llm_cache")  # opening migrates

    assert [(r["model"], r["rationale"]) for r in rows] == [(new, "Kept.")]


# -- a key pasted into another field of the model, with its variable set -----------------


PASTED = [
    pytest.param(
        model_yaml("http://127.0.0.1:8000/v1").replace("test-model", KEY),
        "llm.model",
        id="llm-model",
    ),
    pytest.param(
        model_yaml("http://127.0.0.1:8000/v1").replace("test-model", " ".join(KEY.upper())),
        "llm.model",
        id="llm-model-spaced-upper",
    ),
    pytest.param(
        model_yaml("http://127.0.0.1:8000/v1", signature=KEY), "signature", id="signature"
    ),
    pytest.param(
        model_yaml("http://127.0.0.1:8000/v1").replace("agent: sma_crossover", f"agent: {KEY}"),
        "quant.agent",  # today's error for a wrong quant agent quotes the value
        id="quant-param",
    ),
]


@pytest.mark.slow
@pytest.mark.parametrize("text, field", PASTED)
def test_backfill_with_key_pasted_into_a_field_is_refused_naming_the_field(tmp_path, text, field):
    project = sqlite_project(tmp_path)
    config = write_config(tmp_path, text)

    done = project.run(
        "backfill", "--config", str(config), "--start", "2012-01-03", **{KEY_ENV: KEY}
    )

    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {config}: models[0] (")
    assert (
        f": {field}: holds the API key (the value of the environment variable {KEY_ENV})"
        in (lines[0])
    )
    assert " Fix: " in lines[0]
    assert leaks(done.stderr) == []
    assert not project.store.exists()  # refused before anything was stored


def test_key_like_model_name_is_accepted_when_no_variable_holds_it(tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    path = write_config(tmp_path, model_yaml("http://127.0.0.1:8000/v1").replace("test-model", KEY))
    [spec] = model_specs(load_config(path))  # nothing says it is a key: an odd model name
    assert spec.params["llm"]["model"] == KEY


# -- the CLI's error line --------------------------------------------------------------


@pytest.mark.slow
def test_error_quoting_a_pasted_key_is_printed_without_it(tmp_path):
    project = sqlite_project(tmp_path)
    config = write_config(
        tmp_path, "universe: [AAPL]\nmodels:\n  - {signature: q, agent: '" + KEY + "'}\n"
    )

    done = project.run(
        "backfill", "--config", str(config), "--start", "2012-01-03", **{KEY_ENV: KEY}
    )

    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {config}: models[0] (q): unknown agent '***'")
    assert leaks(done.stdout + done.stderr) == []


# -- a failed day whose error quotes the provider: nothing of the key in the instance ----

PLUGIN = '''
from trading_assets.agents.quant_llm import QuantLLM


class QuotingLLM(QuantLLM):
    """A plugin agent that cannot act on an answer it does not expect, and says which."""

    name = "quoting_llm"

    def decide(self, view, portfolio):
        decision = super().decide(view, portfolio)
        for signal in decision.signals:
            if "llm: " in signal.reasoning:
                raise ValueError(f"cannot act on the answer: {signal.reasoning}")
        return decision
'''


def install_plugin(folder):
    """The plugin, installed as a distribution on PYTHONPATH (its entry point registers it)."""
    folder.mkdir()
    (folder / "quoting_agent.py").write_text(PLUGIN)
    info = folder / "quoting_agent-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: quoting-agent\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[trading_assets.agents]\nquoting_llm = quoting_agent:QuotingLLM\n"
    )
    return folder


@pytest.mark.slow
def test_backfill_with_day_failing_on_an_echoed_key_leaves_it_out_of_the_instance(tmp_path):
    project = sqlite_project(tmp_path)
    plugin = install_plugin(tmp_path / "plugin")
    with OpenAIServer(Reply.rating("BUY", f"Your key is {KEY}, {' '.join(KEY.upper())}.")) as s:
        config = write_config(
            tmp_path, model_yaml(s.base_url).replace("agent: quant_llm", "agent: quoting_llm")
        )
        done = project.run(
            "backfill",
            "--config",
            str(config),
            "--start",
            "2012-01-03",
            "--end",
            "2012-01-31",
            **{KEY_ENV: KEY, "PYTHONPATH": str(plugin)},
        )
        asked = len(s.requests)

    assert asked > 0 and done.returncode == 1, done.stderr[-3000:]
    output = done.stdout + done.stderr
    assert "cannot act on the answer" in output  # the failure is shown, without the key
    assert leaks(output) == []
    instance = b"".join(p.read_bytes() for p in project.home.rglob("*") if p.is_file())
    assert b"cannot act on the answer" in instance  # the step's Failure is in the event log
    assert leaks(instance.decode("latin-1")) == []
    [day] = [
        d
        for d in table_rows(ResultStore(project.store, read_only=True), "model_days")
        if d["status"] == "failed"
    ]
    assert "cannot act on the answer" in day["error_message"] and "***" in day["error_message"]
    assert leaks(day["error_message"]) == []


# -- the legacy import -------------------------------------------------------------------

LEGACY_KEY = "sk-legacy-Hq3Jd8Ws2Ke5Rb7Tn1Vm4"  # in the legacy config (gpt-5's openai_api_key)
DOTENV_KEY = "sk-or-v1-Pd6Lf9Ga3Xc8Nz2Qe5Wy7"  # in the checkout's .env


def test_legacy_import_with_logs_echoing_keys_stores_none_of_them(tmp_path, monkeypatch):
    from trading_assets.legacy.importer import import_legacy
    from trading_assets_tests.legacy_fixture import fixture_copy

    monkeypatch.setenv(KEY_ENV, KEY)  # ours, often the one the legacy agent used too
    root = fixture_copy(tmp_path)
    config_path = root / "configs" / "default_config.json"
    legacy_config = json.loads(config_path.read_text())
    [gpt5] = [m for m in legacy_config["models"] if m["signature"] == "gpt-5"]
    gpt5["openai_api_key"] = LEGACY_KEY
    config_path.write_text(json.dumps(legacy_config))
    (root / ".env").write_text(
        f"OPENAI_API_BASE=https://openrouter.ai/api/v1\nOPENAI_API_KEY='{DOTENV_KEY}'\n"
    )
    echoes = [
        f"Error code: 401 - Incorrect API key provided: {LEGACY_KEY}",
        f"retrying with {DOTENV_KEY.upper()}",
        f"my key is {' '.join(KEY)}",
    ]
    log = root / "data" / "agent_data" / "gpt-5" / "log" / "2025-10-07" / "log.jsonl"
    with log.open("a") as f:
        for echo in echoes:
            message = {"role": "assistant", "content": echo}
            f.write(json.dumps({"signature": "gpt-5", "new_messages": [message]}) + "\n")
    store = ResultStore(tmp_path / "store.duckdb")

    report = import_legacy(store, root)

    assert "gpt-5" in report.accepted
    logs = table_rows(store, "legacy_logs")
    said = [r["content"] for r in logs if r["model"] == "gpt-5" and "***" in r["content"]]
    assert sorted(text.split(" ")[0] for text in said) == ["Error", "my", "retrying"]
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("store.duckdb*") if p.is_file())
    assert b"Read yesterday" in stored  # the store's bytes hold the logs' text
    for key in (KEY, LEGACY_KEY, DOTENV_KEY):
        assert leaks(stored.decode("latin-1"), key) == []
