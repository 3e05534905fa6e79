"""Secrets out of provider text: the one scrub every text leaving the LLM lane goes through.

A provider may echo what it received: the key it rejected, the whole request with its
`Authorization` header, a debug page with `api_key=...`. Whatever the provider sends
back can end up in `signals.source_diagnostics`, the LLM cache, Dagster's event log or
an error on the terminal, so it is scrubbed before it leaves the lane (`LLMLane`) and
before an error is built from a response body (`HttpChatClient`). Scrub whole texts
before truncating them: a key cut in half by a preview no longer matches.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from urllib.parse import quote

REDACTED = "***"

# `Bearer <token>` anywhere (an echoed header, a curl line, a log line). Tokens are long;
# the length keeps prose such as "bearer of bad news" intact.
_BEARER = re.compile(r"(?i)\b(bearer\s+)(?!\*\*\*)[A-Za-z0-9._~+/=:-]{8,}")
# `authorization: Basic x`, `api_key=x`, `"x-api-key": "x"`, `access_token=x`: the name,
# its separator, quote and scheme word are kept, the value goes.
_NAMED_VALUE = re.compile(
    r"""(?ix)
    \b((?:proxy-)?authorization|x-api-key|api[-_]?key|api[-_]?token|access[-_]?token
       |client[-_]?secret|secret[-_]?key)
    (["']?\s*[:=]\s*["']?(?:(?:bearer|basic|token)\s+)?+)
    (?!\*\*\*)
    [^\s"'&,;}<>]+
    """
)


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` without the given secrets (also URL- or JSON-escaped) and credential values."""
    for secret in secrets:
        if not secret:  # even a short key goes: a mangled word beats a leaked key
            continue
        escaped = json.dumps(secret)[1:-1]
        # as sent, URL-encoded, JSON-escaped, and JSON with escaped slashes (PHP and others)
        for form in {secret, quote(secret, safe=""), escaped, escaped.replace("/", "\\/")}:
            text = text.replace(form, REDACTED)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _NAMED_VALUE.sub(rf"\1\2{REDACTED}", text)
