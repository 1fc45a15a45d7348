"""Removing the client's own secrets from what a server sends back.

A gateway that reflects request headers, or an error page that quotes the apiKey, would put
the client's secrets into every text made from the answer: error messages and bodies, result
messages, logs. The transport passes every body through :func:`redact` before anything reads
it, with the secret values its authenticator knows (api key, current and past tokens, app
key and secret, this attempt's signature), so nothing downstream can leak them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

REDACTED = b"<redacted>"

MIN_SECRET_LENGTH = 4
"""Shorter values are not redacted: replacing every "ab" of a body would make it unreadable
while hiding nothing a guess would not find."""


@functools.lru_cache(maxsize=64)  # a client's few secrets, asked for on every answer
def _spellings(secret: str) -> frozenset[bytes]:
    raw = secret.encode()
    # JSON may escape '/' (a JWT or a base64 secret), and a reflected query is percent-encoded.
    return frozenset(
        (raw, raw.replace(b"/", b"\\/"), raw.replace(b"+", b"%2B").replace(b"/", b"%2F"))
    )


def redact(body: bytes, secrets: Iterable[str]) -> bytes:
    """``body`` with every spelling of every secret replaced by ``<redacted>``; longer
    secrets first, so a token that contains the api key is hidden whole."""
    for secret in sorted(secrets, key=len, reverse=True):
        if len(secret) < MIN_SECRET_LENGTH:
            continue
        for spelling in _spellings(secret):
            if spelling in body:
                body = body.replace(spelling, REDACTED)
    return body
