"""The emulator's own check of Huawei "C2" AK/SK signatures.

Written afresh from the vendor's description, with constants of its own, and sharing no code
with the client's ``ozoasync.isales.signing``: the emulator is an independent oracle, so a
canonicalisation bug in the client fails every signed request instead of passing unseen.

The server's side of the scheme: read ``Authorization: auth-v2/{AK}/{timestamp}/{names}/{sig}``;
``signingKey`` = lower-case hex of HMAC-SHA256(key = SK, msg = ``auth-v2/{AK}/{timestamp}/
{names}``); the canonical request is the method, the path, the sorted encoded query pairs
(a line only when there is a query), the names, the sorted encoded ``name:value`` lines of
the signed headers, and the encoded body (only when there is one), joined by newlines; the
signature is the lower-case hex of HMAC-SHA256(key = signingKey as UTF-8, msg = canonical
request). Encoding keeps ``A-Z a-z 0-9 - . _ ~`` and writes every other UTF-8 byte as ``%XY``
in upper-case hex.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

SCHEME = "auth-v2"
TIME_LAYOUT = "%Y-%m-%dT%H:%M:%SZ"
_KEPT = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
# One entry per byte value: the byte itself when kept, else its upper-case escape.
_ESCAPES = tuple(chr(byte) if byte in _KEPT else f"%{byte:02X}" for byte in range(256))


def escape(data: str | bytes) -> str:
    """``data`` (text as UTF-8) with every byte but the kept ones escaped."""
    raw = data.encode() if isinstance(data, str) else data
    return "".join([_ESCAPES[byte] for byte in raw])


@dataclass(frozen=True)
class C2Header:
    """The parts of an ``Authorization`` header as a server reads them."""

    app_key: str
    timestamp: str
    names: str
    signature: str

    def __repr__(self) -> str:
        return f"C2Header(timestamp={self.timestamp!r}, names={self.names!r})"

    @property
    def signed_headers(self) -> list[str]:
        return self.names.split(";")


def read_header(value: str) -> C2Header | None:
    """The parts of ``value``, or None when it is not a C2 header."""
    parts = value.strip().split("/")
    if len(parts) != 5 or parts[0] != SCHEME or not all(parts[1:]):
        return None
    return C2Header(app_key=parts[1], timestamp=parts[2], names=parts[3], signature=parts[4])


def read_timestamp(text: str) -> datetime:
    """The moment a C2 timestamp names; ValueError when it is not one."""
    return datetime.strptime(text, TIME_LAYOUT).replace(tzinfo=UTC)


def _hex_hmac(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def expected_signature(
    header: C2Header,
    *,
    secret: str,
    method: str,
    path: str,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    body: bytes,
) -> str:
    """The signature a request must carry: ``headers`` holds the values of the signed
    headers as received, ``query`` the decoded pairs of the query string."""
    pairs = sorted(escape(key) + "=" + escape(value) for key, value in query)
    lines = sorted(
        escape(name.lower()) + ":" + escape(value.strip()) for name, value in headers.items()
    )
    parts = [method.upper(), path]
    if pairs:
        parts.append("&".join(pairs))
    parts += [header.names, "\n".join(lines), escape(body) if body else ""]
    canonical = "\n".join(parts)
    prefix = f"{SCHEME}/{header.app_key}/{header.timestamp}/{header.names}"
    signing_key = _hex_hmac(secret.encode(), prefix)
    return _hex_hmac(signing_key.encode(), canonical)


def names_problem(header: C2Header) -> str | None:
    """Why the list of signed header names is refused, or None."""
    names = header.signed_headers
    if "host" not in names:
        return "the host header must be signed"
    if names != sorted(name.lower() for name in names):
        return "signed header names must be lower-case and sorted"
    return None
