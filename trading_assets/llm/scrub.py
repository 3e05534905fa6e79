"""Secrets out of stored and shown text: the one scrub, applied where text is stored.

A provider may echo what it received: the key it rejected, the whole request with its
`Authorization` header, a debug page with `api_key=...`, or an "answer" that spells the
key out. Whatever it sends can end up in `signals.reasoning`, `signals.source_diagnostics`
and the LLM cache, so the store scrubs every text it writes for a run
(`ResultStore.write_results(..., secrets=)`), after the answer's JSON was decoded; the
HTTP client also scrubs a response body before it quotes it in an error. The same rule
covers the other ways text leaves: what a model_day run tells the Dagster instance
(`runs/model_day.py: RangeOutcome.scrub`), the legacy import's logs
(`store/legacy_import.py: write_import(secrets=)`) and the CLI's error line
(`environment_secrets`); a key pasted into a config field is refused (`holds_secret`).

The key is found in any of these forms (`secret_pattern`):
- as sent, in any letter case, with up to three separators (spaces, dashes, dots,
  newlines, ...) between its letters and digits, and reversed;
- each character JSON- or Python-escaped (`\\u0073`, `\\x73`, with any number of
  backslashes: JSON inside JSON), URL-encoded (`%73`) or an HTML character reference;
- base64 (standard or URL-safe, at any of the three byte alignments) and hex of the key.

Its punctuation counts as a separator, so `sk-proj-abc` also matches `SKPROJABC`. Scrub
whole texts before truncating them: a key cut in half by a preview no longer matches.
"""

from __future__ import annotations

import base64
import functools
import re
import string
from collections.abc import Iterable, Mapping
from typing import TypeVar

T = TypeVar("T")

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

# Printable ASCII punctuation and space, as separators between the key's characters.
_PUNCTUATION = " " + string.punctuation
_MAX_SEPARATORS = 3
# A key's letters and digits must number at least this many for the loose (spaced, any
# case, reversed) match; a shorter key is matched only as written and escaped.
_MIN_LOOSE = 8


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` without the given secrets (in any form above) and credential values."""
    for secret in secrets:
        if secret:  # even a short key goes: a mangled word beats a leaked key
            text = secret_pattern(secret).sub(REDACTED, text)
    text = _BEARER.sub(rf"\1{REDACTED}", text)
    return _NAMED_VALUE.sub(rf"\1\2{REDACTED}", text)


def scrub_all(value: T, secrets: Iterable[str | None] = ()) -> T:
    """`value` with every text in it scrubbed: a str, or the str values (at any depth) of
    a dict, list or tuple (a store row, Dagster metadata); other values are kept."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return scrub(value, secrets)  # type: ignore[return-value]
    if isinstance(value, Mapping):
        return {k: scrub_all(v, secrets) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list | tuple):
        return type(value)(scrub_all(v, secrets) for v in value)  # type: ignore[return-value]
    return value


def holds_secret(text: str, secret: str | None) -> bool:
    """Whether `text` holds `secret` in any form `scrub` removes (a key pasted into a
    field, spaced out, escaped, ...). Keys of fewer than 8 letters and digits never match:
    a placeholder such as `none` or `local` must not refuse a config that uses the word."""
    if not secret or sum(c.isalnum() for c in secret) < _MIN_LOOSE:
        return False
    return secret_pattern(secret).search(text) is not None


def environment_secrets(environ: Mapping[str, str]) -> list[str]:
    """Values of the environment's secret-looking variables (a name ending in KEY, TOKEN,
    SECRET or PASSWORD, such as OPENAI_API_KEY), for scrubbing what a command prints."""
    return [
        value
        for name, value in environ.items()
        if _SECRET_NAME.search(name) and sum(c.isalnum() for c in value) >= _MIN_LOOSE
    ]


_SECRET_NAME = re.compile(r"(?i)(KEY|TOKEN|SECRET|PASSWORD)$")


@functools.lru_cache(maxsize=64)
def secret_pattern(secret: str) -> re.Pattern[str]:
    """One regex for every form of `secret` this module knows (see the module doc)."""
    core = [c for c in secret if c.isalnum()]
    forms = [_exact(secret)]
    if len(core) >= _MIN_LOOSE:
        forms += [_loose(core), _loose(core[::-1])]
    encoded = secret.encode("utf-8")
    forms.append(f"(?i:{re.escape(encoded.hex())})")
    forms += [re.escape(piece) for piece in _base64_pieces(encoded)]
    return re.compile("|".join(forms))


def _char(c: str) -> str:
    """One character of the key: itself or an escape of it (case-insensitive)."""
    codes = sorted({ord(c), ord(c.lower()), ord(c.upper())})
    escapes = [] if c.isalnum() else [rf"\\+{re.escape(c)}"]  # `\/` in JSON
    for code in codes:
        hex2 = f"{code:02x}" if code < 0x100 else None
        escapes.append(rf"\\+u{code:04x}")
        escapes.append(rf"&\#(?:0*{code}|x0*{code:x});")
        if hex2:
            escapes += [rf"\\+x{hex2}", rf"%{hex2}"]
    return f"(?:{re.escape(c)}|(?i:{'|'.join(escapes)}))"


@functools.cache
def _separator() -> str:
    """Up to three separators between two characters of the key, possessive (no
    backtracking). Punctuation, whitespace and their JSON / URL escapes; never a
    backslash, `%` or `&`, which begin escapes of the key's own characters."""
    plain = re.escape("".join(c for c in _PUNCTUATION if c not in "\\%&")) + r"\s"
    codes = "|".join(f"{ord(c):02x}" for c in _PUNCTUATION + "\n\r\t")
    escaped = re.escape(_PUNCTUATION.replace("\\", ""))
    return (
        rf"(?:[{plain}]|\\+[nrt{escaped}]|\\+u00(?:{codes})|%(?:{codes}))"
        rf"{{0,{_MAX_SEPARATORS}}}+"
    )


def _loose(core: list[str]) -> str:
    return "(?i:" + _separator().join(_char(c) for c in core) + ")"


def _exact(secret: str) -> str:
    """The key's characters in order (punctuation too), each possibly escaped."""
    return "(?:" + "".join(_char(c) for c in secret) + ")"


def _base64_pieces(raw: bytes) -> list[str]:
    """The part of base64(text) that only the key's bytes determine, for each of the
    three alignments the key can have in the encoded text, standard and URL-safe."""
    pieces = set()
    for pad in range(3):
        encoded = base64.b64encode(b"\0" * pad + raw).decode("ascii")
        start, end = -(-pad * 8 // 6), (pad + len(raw)) * 8 // 6
        piece = encoded[start:end]
        if len(piece) >= 8:  # short pieces would match ordinary words
            pieces |= {piece, piece.translate(str.maketrans("+/", "-_"))}
    return sorted(pieces, key=len, reverse=True)
