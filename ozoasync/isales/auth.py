"""C2 AK/SK authentication of every attempt: signed afresh, with a fresh timestamp, just
before it is sent (after its rate-limit slot), so a retried request is re-signed."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from urllib.parse import SplitResult, urlsplit

from ..errors import AuthenticationError
from ..transport.call import Call
from . import signing

_DEFAULT_PORTS = {"http": 80, "https": 443}


def utc_now() -> datetime:
    return datetime.now(UTC)


def host_header(url: SplitResult) -> str:
    """``host:port`` of ``url``, with the scheme's default port spelled out: the vendor's
    demo always signs ``host:port``, and the same value is sent as the Host header."""
    netloc = url.netloc.rpartition("@")[2]
    if url.port is not None:
        return netloc
    return f"{netloc}:{_DEFAULT_PORTS.get(url.scheme, 443)}"


class C2Auth:
    """Signs every attempt with the app key and secret (the ``host`` header signed)."""

    def __init__(
        self, app_key: str, app_secret: str, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._app_key = app_key
        self._app_secret = app_secret
        self._clock = clock or utc_now

    def __repr__(self) -> str:
        return "C2Auth(app_key=<redacted>, app_secret=<redacted>)"

    async def prepare(self) -> None:
        return None

    def headers(self, call: Call, url: str) -> Mapping[str, str]:
        parts = urlsplit(url)
        host = host_header(parts)
        request = signing.Signable(
            method=call.method,
            path=parts.path,
            query=call.query,
            headers={"host": host},
            body=call.body or b"",
        )
        value = signing.authorization(
            request,
            app_key=self._app_key,
            app_secret=self._app_secret,
            timestamp=signing.format_timestamp(self._clock()),
        )
        # The Host header is set explicitly so the server receives exactly what was signed.
        return {"Host": host, "Authorization": value}

    def rejected(self, error: AuthenticationError, headers: Mapping[str, str]) -> bool:
        # A refused signature is not cured by signing again: the keys or the clock are wrong.
        return False

    def secrets(self, headers: Mapping[str, str]) -> Collection[str]:
        # This attempt's header and its signature: a server may echo either.
        authorization = headers.get("Authorization", "")
        parsed = signing.parse_authorization(authorization)
        signature = (parsed.signature,) if parsed is not None else ()
        return (self._app_key, self._app_secret, authorization, *signature)
