"""Huawei "C2" AK/SK request signing (CC-iSales, CC-CMS, CC-iKBS, CC-FS), as pure functions.

The ``Authorization`` header is ``auth-v2/{AK}/{timestamp}/{signedHeaders}/{signature}``:

1. ``timestamp``: UTC, ``YYYY-MM-DDTHH:MM:SSZ`` (no fraction).
2. ``signedHeaders``: the signed header names, lower-cased, sorted, joined by ``;``.
3. ``signingKey = hex(HMAC-SHA256(SK, "auth-v2/{AK}/{timestamp}/{signedHeaders}"))``.
4. ``canonicalRequest`` = ``METHOD\\n`` + ``path\\n`` + (with a query only: the sorted
   ``enc(k)=enc(v)`` pairs joined by ``&`` + ``\\n``) + ``signedHeaders\\n`` + the sorted
   ``enc(name):enc(value)`` lines joined by ``\\n`` + ``\\n`` + (with a body only: ``enc(body)``).
5. ``signature = hex(HMAC-SHA256(signingKey as UTF-8, canonicalRequest))``.

``enc`` percent-encodes every byte except ``A-Z a-z 0-9 - . _ ~`` with upper-case hex. The body
is signed byte for byte as sent, so a body changed after signing fails verification.
The emulator verifies with these same functions.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

PREFIX = "auth-v2"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"

Query = Mapping[str, str] | Iterable[tuple[str, str]]


def encode(value: str | bytes) -> str:
    """Percent-encode every byte but the RFC 3986 unreserved characters (upper-case hex)."""
    return quote(value, safe="")


def format_timestamp(moment: datetime) -> str:
    """``moment`` in UTC as ``YYYY-MM-DDTHH:MM:SSZ`` (a naive datetime is taken as UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(TIMESTAMP_FORMAT)


def parse_timestamp(text: str) -> datetime:
    """The aware UTC datetime of a C2 timestamp; ValueError when it is not one."""
    return datetime.strptime(text, TIMESTAMP_FORMAT).replace(tzinfo=UTC)


def signed_header_names(headers: Mapping[str, str]) -> str:
    return ";".join(sorted(name.lower() for name in headers))


def canonical_query(query: Query) -> str:
    """The sorted ``enc(k)=enc(v)`` pairs joined by ``&`` ('' when there is no query)."""
    pairs = query.items() if isinstance(query, Mapping) else query
    return "&".join(sorted(f"{encode(key)}={encode(value)}" for key, value in pairs))


def canonical_headers(headers: Mapping[str, str]) -> str:
    return "\n".join(
        sorted(f"{encode(name.lower())}:{encode(value.strip())}" for name, value in headers.items())
    )


@dataclass(frozen=True, slots=True)
class Signable:
    """What a signature covers. ``headers``: the signed headers with their values as sent (the
    vendor's demo signs only ``host``, as ``host:port``); ``body``: the exact bytes sent."""

    method: str
    path: str
    query: Query
    headers: Mapping[str, str]
    body: bytes = b""


def canonical_request(request: Signable) -> str:
    query_line = canonical_query(request.query)
    return (
        f"{request.method.upper()}\n{request.path}\n"
        + (f"{query_line}\n" if query_line else "")
        + f"{signed_header_names(request.headers)}\n"
        + f"{canonical_headers(request.headers)}\n"
        + (encode(request.body) if request.body else "")
    )


def _hmac_hex(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def signature(request: Signable, *, app_key: str, app_secret: str, timestamp: str) -> str:
    """The hex signature of ``request``."""
    auth_prefix = f"{PREFIX}/{app_key}/{timestamp}/{signed_header_names(request.headers)}"
    signing_key = _hmac_hex(app_secret.encode(), auth_prefix)
    return _hmac_hex(signing_key.encode(), canonical_request(request))


def authorization(request: Signable, *, app_key: str, app_secret: str, timestamp: str) -> str:
    """The ``Authorization`` header value for ``request``."""
    signed = signature(request, app_key=app_key, app_secret=app_secret, timestamp=timestamp)
    return f"{PREFIX}/{app_key}/{timestamp}/{signed_header_names(request.headers)}/{signed}"


@dataclass(frozen=True, slots=True)
class ParsedAuthorization:
    """The parts of a C2 ``Authorization`` header (what a server reads back)."""

    app_key: str
    timestamp: str
    signed_headers: tuple[str, ...]
    signature: str

    def __repr__(self) -> str:
        return f"ParsedAuthorization(timestamp={self.timestamp!r}, signature=<redacted>)"


def parse_authorization(value: str) -> ParsedAuthorization | None:
    """The parts of ``value``, or None when it is not a C2 ``auth-v2`` header."""
    parts = value.strip().split("/")
    if len(parts) != 5 or parts[0] != PREFIX or not all(parts[1:]):
        return None
    _, app_key, timestamp, names, signed = parts
    return ParsedAuthorization(app_key, timestamp, tuple(names.split(";")), signed)
