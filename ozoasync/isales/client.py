"""ISalesClient: Huawei CC-iSales outbound campaigns (calling numbers, campaign details)."""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import ssl as ssl_module
from collections.abc import Mapping
from urllib.parse import urlsplit

import aiohttp

from .. import validation
from ..errors import RequestValidationError
from ..transport.client_base import TransportClient, check_shared_options
from ..transport.coordination import PROCESS_COORDINATION, Coordination
from ..transport.http import Transport
from ..transport.ratelimit import RateLimit
from ..transport.retry import RetryPolicy
from .auth import C2Auth
from .caller_numbers import CallerNumbers
from .campaigns import Campaigns

log = logging.getLogger("ozoasync")

SSLOption = ssl_module.SSLContext | bool | None


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_base_url(base_url: object) -> str:
    """An ``https://`` URL of the server (``http://`` only for a loopback address: an
    emulator or a tunnel), without credentials, query or fragment."""
    text = validation.base_url(base_url)
    parts = urlsplit(text)
    assert parts.hostname is not None, "validation.base_url checked it"
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise RequestValidationError(
            "base_url",
            "plain http:// is allowed only for a loopback address (127.0.0.1, ::1, localhost); "
            "use https://",
        )
    return text


def checked_ssl(ssl: object, session: aiohttp.ClientSession | None) -> ssl_module.SSLContext | bool:
    """What the connection pool verifies TLS with: True (the system's CAs), the caller's
    context (a private CA), or False (no verification: only when asked explicitly)."""
    if ssl is not None and session is not None:
        raise RequestValidationError(
            "ssl",
            "cannot be combined with session: set it on the session's connector "
            "(aiohttp.TCPConnector(ssl=...))",
        )
    if ssl is None:
        return True
    if isinstance(ssl, bool | ssl_module.SSLContext):
        return ssl
    raise RequestValidationError("ssl", "must be None (verify), an ssl.SSLContext or False")


def checked_app_key(app_key: object) -> str:
    text = validation.header_value(app_key, "app_key")
    if "/" in text:
        # The key is a field of the "auth-v2/{AK}/..." header, which '/' separates.
        raise RequestValidationError("app_key", "must not contain '/'")
    return text


class ISalesClient(TransportClient):
    """An async client for one CC-iSales server and one AK/SK pair.

    TLS is verified by default; pass ``ssl=`` an :class:`ssl.SSLContext` that trusts the
    customer's private CA (the usual case for an on-premises server), or ``ssl=False`` to turn
    verification off (only if you must). Plain ``http://`` is accepted only for a loopback
    address. Every attempt is signed afresh (C2 AK/SK, fresh timestamp). One client serves many
    concurrent coroutines; use it as an async context manager or call :meth:`aclose`. A
    ``session`` you pass is used and never closed (configure its TLS on its connector).

    ``rate_limits`` (``{endpoint: RateLimit}``; endpoints ``deleteCallerNo``, ``addCallerNo``,
    ``getCampaign``, ``listCampaigns``) are off by default: the vendor documents none for
    these endpoints.
    """

    def __init__(
        self,
        base_url: str,
        app_key: str,
        app_secret: str,
        *,
        ssl: SSLOption = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        session: aiohttp.ClientSession | None = None,
        rate_limits: Mapping[str, RateLimit | None] | None = None,
        coordination: Coordination | None = None,
    ) -> None:
        self.base_url = checked_base_url(base_url)
        app_key = checked_app_key(app_key)
        app_secret = validation.non_empty_text(app_secret, "app_secret")
        tls = checked_ssl(ssl, session)
        timeout = validation.seconds(timeout, "timeout")
        check_shared_options(rate_limits, coordination, retry, session)
        if tls is False and self.base_url.startswith("https://"):
            log.warning("TLS certificate verification is OFF for %s (ssl=False)", self.base_url)
        self._transport = Transport(
            base_url=self.base_url,
            # The rate-limit scope names the key pair without revealing it.
            scope="ak-" + hashlib.sha256(app_key.encode()).hexdigest()[:16],
            authenticator=C2Auth(app_key, app_secret),
            coordination=coordination or PROCESS_COORDINATION,
            rate_limits={k: v for k, v in (rate_limits or {}).items() if v is not None},
            retry=retry or RetryPolicy(),
            timeout=timeout,
            session=session,
            ssl=tls,
        )
        #: Calling numbers: ``add`` and ``delete``, 100 per request.
        self.caller_numbers = CallerNumbers(self._transport)
        #: Campaign details: ``get``.
        self.campaigns = Campaigns(self._transport)

    def __repr__(self) -> str:
        return f"ISalesClient(base_url={self.base_url!r})"
