"""The transport: one aiohttp session, per-attempt authentication, rate limit and retry.

Every attempt (retries included) waits for its own rate-limit slot, is authenticated afresh
(a retried iSales request is re-signed, a rejected token is replaced), and is sent exactly
once: aiohttp's silent re-send of idempotent requests on a dropped kept-alive connection and
redirects are turned off, because such hidden sends would pass neither the rate limiter nor
the retry budget.
"""

from __future__ import annotations

import asyncio
import logging
import ssl as ssl_module
import time
from collections.abc import Mapping
from typing import Protocol, TypeVar

import aiohttp
import msgspec
from tenacity import AsyncRetrying, RetryCallState

from ..errors import (
    APIError,
    AuthenticationError,
    OzoError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    TransportError,
)
from .call import Answer, Call, Delivered, Interpreter
from .coordination import ScheduleStore
from .ratelimit import RateLimit
from .retry import RetryPolicy, describe, is_token_rejection, parse_retry_after

T = TypeVar("T")

log = logging.getLogger("ozoasync")


class Authenticator(Protocol):
    """Adds credentials to one attempt: ``prepare`` may be slow (a token generation) and runs
    before the rate-limit slot is taken; ``headers`` is instant and runs after it, so nothing
    slow sits between the slot and the send, and a signature's timestamp is fresh."""

    async def prepare(self, transport: Transport) -> None:
        """Make sure credentials are at hand (e.g. a token that is not due for refresh);
        ``transport`` sends whatever requests that takes (a token generation)."""
        ...

    def headers(self, call: Call, url: str) -> Mapping[str, str]:
        """Credential headers for this attempt of ``call`` sent to ``url``."""
        ...

    def rejected(self, error: AuthenticationError, headers: Mapping[str, str]) -> bool:
        """The server refused the credentials in ``headers``; True when a repeat with fresh
        credentials may succeed (it then discards them)."""
        ...


def _disable_hidden_resend(session: aiohttp.ClientSession) -> None:
    # aiohttp re-sends an idempotent request once on a dropped kept-alive connection
    # (ClientSession._retry_connection, RFC 9112 section 9.3.1). There is no public switch.
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False


# Failures that another attempt might have cured: raising one is a give-up, logged as such.
_TRANSIENT = (TransportError, ServerError, RateLimitError, ResponseDecodeError)


class _FailedBeforeSending(Exception):
    """Carries an error raised before the attempt's request went out (credentials could not
    be prepared, the coordination store failed) past the retry predicate: it is final (a
    token generation has its own retry budget already, which the outer loop must not
    multiply), and ``attempts`` counts only the requests actually sent."""

    def __init__(self, error: OzoError, sent: int) -> None:
        super().__init__(str(error))
        error.attempts = sent
        self.error = error


def _transport_error(endpoint: str, exc: BaseException) -> TransportError:
    lost = not isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError)
    tls = isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError)
    if tls:
        kind = "TLS verification failed (pass ssl= a context that trusts the server's CA)"
    elif isinstance(exc, asyncio.TimeoutError):
        kind = "timed out"
    else:
        kind = "connection failed"
    error = TransportError(f"{endpoint}: {kind} ({type(exc).__name__})")
    error.answer_lost = lost
    error.retryable = not tls
    return error


def _vendor_message(body: bytes) -> str | None:
    """The ``message`` of a JSON body, if it has a textual one."""
    try:
        decoded = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    message = decoded.get("message") if isinstance(decoded, dict) else None
    if not isinstance(message, str) or not message.strip():
        return None
    return message.strip()


def _cut_off_json(answer: Answer) -> bool:
    """An undecodable success that begins as JSON: the vendor answered, so it acted on the
    request, and the rest of its answer was lost on the way (a truncated body). A foreign
    page (HTML from a proxy) says nothing about the vendor and does not count."""
    return answer.http_status < 300 and answer.body.lstrip()[:1] in (b"{", b"[")


def _http_error(answer: Answer) -> APIError | None:
    """The vendor-independent reading of an HTTP status: 5xx, 429, and redirects."""
    status = answer.http_status
    error: APIError
    if status >= 500:
        error = ServerError(
            f"server error {status}",
            endpoint=answer.endpoint,
            http_status=status,
            body=answer.body,
        )
        error.retry_after = parse_retry_after(answer.headers.get("Retry-After"))
        # A gateway that timed out on (504) or lost (502) the backend, or a backend that
        # failed mid-way (500), may have acted; a 503 means the request was not taken.
        error.answer_lost = status in (500, 502, 504)
        return error
    if status == 429:
        error = RateLimitError(
            _vendor_message(answer.body) or "Too Many Requests",
            endpoint=answer.endpoint,
            http_status=status,
            body=answer.body,
        )
        error.retry_after = parse_retry_after(answer.headers.get("Retry-After"))
        return error
    if 300 <= status < 400:
        return APIError(
            f"unexpected redirect {status}",
            endpoint=answer.endpoint,
            http_status=status,
            body=answer.body,
        )
    return None


class Transport:
    """Sends :class:`Call` objects to one base URL on behalf of one account (``scope``)."""

    def __init__(
        self,
        *,
        base_url: str,
        scope: str,
        authenticator: Authenticator,
        coordination: ScheduleStore,
        rate_limits: Mapping[str, RateLimit],
        retry: RetryPolicy,
        timeout: float,
        session: aiohttp.ClientSession | None = None,
        ssl: ssl_module.SSLContext | bool | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._scope = scope
        self.authenticator = authenticator
        self._coordination = coordination
        self._rate_limits = dict(rate_limits)
        self._retry = retry
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._ssl: ssl_module.SSLContext | bool = True if ssl is None else ssl
        self._session = session
        self._owns_session = session is None
        self._closed = False
        if session is not None:
            _disable_hidden_resend(session)

    def limit_key(self, endpoint: str) -> str:
        return f"{self.base_url}|{self._scope}|{endpoint}"

    def _client_session(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("the client is closed")
        if self._session is None:
            # Created lazily so the client can be built outside a running event loop.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, ssl=self._ssl)
            )
            _disable_hidden_resend(self._session)
        return self._session

    async def aclose(self) -> None:
        self._closed = True
        if self._owns_session and self._session is not None:
            await self._session.close()
        self._session = None

    async def send(
        self, call: Call, interpret: Interpreter[T], *, authenticator: Authenticator | None = None
    ) -> Delivered[T]:
        """Send ``call`` with retries; the interpreted value, or the last attempt's error.
        ``authenticator`` replaces the client's for this call (token generation)."""
        auth = authenticator or self.authenticator
        policy = self._retry
        limit = self._rate_limits.get(call.endpoint)
        key = self.limit_key(call.endpoint)
        token_repeats = 0
        answer_lost = False

        def retry_predicate(state: RetryCallState) -> bool:
            nonlocal token_repeats
            error = state.outcome.exception() if state.outcome else None
            if error is None:
                return False
            if is_token_rejection(error) and token_repeats == 0:
                token_repeats = 1
                return True
            return policy.should_retry(error, repeatable=call.repeatable)

        def stop(state: RetryCallState) -> bool:
            # A repeat after a token refresh is owed to the credentials, not the retry budget.
            return state.attempt_number >= policy.max_attempts + token_repeats

        def wait(state: RetryCallState) -> float:
            error = state.outcome.exception() if state.outcome else None
            if error is None or (is_token_rejection(error) and token_repeats == 1):
                return 0.0
            return policy.retry_delay(error, state.attempt_number)

        async def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.info(
                "retrying %s %s after attempt %d in %.2fs: %s",
                call.method,
                call.endpoint,
                state.attempt_number,
                state.upcoming_sleep,
                describe(error) if error else "",
            )

        retrying = AsyncRetrying(
            stop=stop, wait=wait, retry=retry_predicate, before_sleep=before_sleep, reraise=True
        )
        attempt_number = 0
        try:
            async for attempt in retrying:
                with attempt:
                    attempt_number = attempt.retry_state.attempt_number
                    try:
                        value = await self._attempt(
                            call, interpret, auth, limit, key, attempt_number
                        )
                    except OzoError as error:
                        answer_lost = answer_lost or error.answer_lost
                        error.answer_lost = answer_lost
                        error.attempts = attempt_number
                        if isinstance(error, RateLimitError) and limit is not None:
                            # Everyone sharing the schedule backs off, whether or not this
                            # request will be retried.
                            delay = error.retry_after
                            if delay is None:
                                delay = policy.retry_delay(error, attempt_number)
                            await self._coordination.push_back(key, limit, delay)
                        raise
                    return Delivered(value, attempt_number, answer_lost)
        except _FailedBeforeSending as failed:
            raise failed.error from None
        except OzoError as error:
            if isinstance(error, _TRANSIENT):
                log.warning(
                    "giving up on %s %s after %d attempt(s): %s",
                    call.method,
                    call.endpoint,
                    attempt_number,
                    describe(error),
                )
            raise
        raise AssertionError("unreachable: tenacity either returns or re-raises")

    async def _attempt(
        self,
        call: Call,
        interpret: Interpreter[T],
        auth: Authenticator,
        limit: RateLimit | None,
        key: str,
        attempt_number: int,
    ) -> T:
        url = self.base_url + call.path
        session = self._client_session()
        try:
            await auth.prepare(self)
            if limit is not None:
                waited = await self._coordination.acquire(key, limit)
                if waited > 0.05:
                    log.info("rate limit: waited %.2fs for %s", waited, call.endpoint)
        except OzoError as failure:
            raise _FailedBeforeSending(failure, sent=attempt_number - 1) from None
        credentials = auth.headers(call, url)
        headers = {"Content-Type": "application/json", **call.headers, **credentials}
        started = time.monotonic()
        try:
            async with session.request(
                call.method,
                url,
                params=call.query or None,
                data=call.body,
                headers=headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                body = await response.read()
                answer = Answer(call.endpoint, response.status, response.headers, body)
        except (TimeoutError, aiohttp.ClientError) as exc:
            log.debug(
                "%s %s attempt %d: %s after %.3fs",
                call.method,
                call.endpoint,
                attempt_number,
                type(exc).__name__,
                time.monotonic() - started,
            )
            raise _transport_error(call.endpoint, exc) from None
        duration = time.monotonic() - started
        try:
            http_error = _http_error(answer)
            if http_error is not None:
                raise http_error
            value = interpret(answer)
        except (APIError, ResponseDecodeError) as error:
            log.debug(
                "%s %s attempt %d: HTTP %d, %s %r in %.3fs",
                call.method,
                call.endpoint,
                attempt_number,
                answer.http_status,
                type(error).__name__,
                error.status or error.code if isinstance(error, APIError) else None,
                duration,
            )
            if isinstance(error, ResponseDecodeError):
                error.answer_lost = _cut_off_json(answer)
            if isinstance(error, AuthenticationError) and error.token_rejected:
                error.token_rejected = auth.rejected(error, credentials)
            raise
        log.debug(
            "%s %s attempt %d: HTTP %d ok in %.3fs",
            call.method,
            call.endpoint,
            attempt_number,
            answer.http_status,
            duration,
        )
        return value
