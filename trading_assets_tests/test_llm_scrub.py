"""The one scrub of provider text: keys and credential values never reach the store.

Expected texts are written out by hand. The end-to-end proofs (a real server echoing the
key, the DuckDB bytes, the instance and the output scanned) are
`test_llm_lane_dagster.py::test_quant_llm_with_api_key_keeps_it_out_of_store_logs_...` and
`test_secrets.py` (every form of the key the scrub knows, through a real CLI backfill).
"""

from __future__ import annotations

import pytest

from trading_assets.llm.client import HttpChatClient, LLMError
from trading_assets.llm.endpoint import LLMEndpoint
from trading_assets.llm.scrub import scrub

try:  # package layout (trading_assets_tests/__init__.py) or the repo root on sys.path
    from trading_assets_tests.openai_server import OpenAIServer, Reply
except ImportError:  # pytest's default "prepend" import of this folder
    from openai_server import OpenAIServer, Reply

KEY = "sk-live-Abc/123+xyz"


@pytest.mark.parametrize(
    "text, expected",
    [
        (f"Incorrect API key provided: {KEY}", "Incorrect API key provided: ***"),
        ("Authorization: Bearer tok-1234567890\nHost: x", "Authorization: Bearer ***\nHost: x"),
        ('{"Authorization": "Bearer abcdefgh123"}', '{"Authorization": "Bearer ***"}'),
        ("authorization: Basic dXNlcjpwYXNz", "authorization: Basic ***"),
        ("GET /v1/models?api_key=zzz999&page=2", "GET /v1/models?api_key=***&page=2"),
        ('{"api_key": "k-1", "x-api-key": "k-2"}', '{"api_key": "***", "x-api-key": "***"}'),
        ("curl -H 'Authorization: Bearer abcdefgh123'", "curl -H 'Authorization: Bearer ***'"),
        # the configured key, also URL- and JSON-escaped
        ("key=sk-live-Abc%2F123%2Bxyz", "key=***"),
        ('{"echo": "sk-live-Abc\\/123+xyz"}', '{"echo": "***"}'),
        # already scrubbed text stays as it is (scrubbing twice is harmless)
        ("Authorization: Bearer ***", "Authorization: Bearer ***"),
        # prose is left alone
        ("Basic materials are weak; the bearer of bad news.", None),
        ('{"rating": "BUY", "rationale": "Token volumes rose."}', None),
    ],
)
def test_scrub_with_echoed_credentials_redacts_only_the_secret_values(text, expected):
    assert scrub(text, [KEY]) == (text if expected is None else expected)


def test_scrub_with_no_configured_key_still_redacts_credential_values():
    assert scrub("Authorization: Bearer tok-1234567890", [None, ""]) == (
        "Authorization: Bearer ***"
    )


def test_client_error_with_key_at_the_preview_cut_holds_no_part_of_the_key():
    # The body's 200-character preview used to be cut first and scrubbed after, so a key
    # straddling the cut slipped through in part ("... Bearer sk").
    body = "x" * 190 + f" {KEY} trailing"
    with OpenAIServer(Reply(status=400, body=body.encode())) as server:
        endpoint = LLMEndpoint(base_url=server.base_url, model="m", api_key=KEY)
        with HttpChatClient(endpoint) as client, pytest.raises(LLMError) as failure:
            client.complete([{"role": "user", "content": "hi"}])
    assert "HTTP 400" in str(failure.value)
    assert "x" * 190 + " ***" in str(failure.value)
    assert "sk-live" not in str(failure.value)
