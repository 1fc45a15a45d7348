"""The transport: one aiohttp session, per-attempt authentication, rate limit and retry.

Every attempt (retries included) waits for its own rate-limit slot, is authenticated afresh
(a retried iSales request is re-signed, a rejected token is replaced), and is sent exactly
once: aiohttp's silent re-send of idempotent requests on a dropped kept-alive connection and
redirects are turned off, because such hidden sends would pass neither the rate limiter nor
the retry budget. Every answer is read here, whatever a caller's session says
(``raise_for_status``, ``auto_decompress``): bodies are capped, decompressed here, and cleaned
of the client's own secrets before anything else reads them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl as ssl_module
import sys
import time
from collections.abc import AsyncIterator, Collection, Mapping
from typing import Any, Generic, Protocol, TypeVar

import aiohttp
import msgspec
from tenacity import DoAttempt, DoSleep, RetryCallState, Retrying

from ..errors import (
    APIError,
    AuthenticationError,
    DeadlineExceededError,
    OzoError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    ServerUnreachableError,
    TransportError,
)
from .body import ACCEPT_ENCODING, DEFAULT_MAX_RESPONSE_BYTES, read_capped
from .call import Answer, Call, Delivered, Interpreter
from .coordination import ScheduleStore
from .observe import AttemptInfo, CallObserver, GiveUpInfo, Observer, RateLimitWaitInfo
from .ratelimit import RateLimit
from .redact import redact
from .retry import RetryPolicy, describe, is_token_rejection, parse_retry_after

T = TypeVar("T")

log = logging.getLogger("ozoasync")

# Every request's own headers; a call's and its credentials are laid over them.
_BASE_HEADERS = {"Content-Type": "application/json", "Accept-Encoding": ACCEPT_ENCODING}


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

    def secrets(self, headers: Mapping[str, str]) -> Collection[str]:
        """Every secret value a server could echo back after an attempt sent with
        ``headers``: keys, current and past tokens, this attempt's signature."""
        ...


def _disable_hidden_resend(session: aiohttp.ClientSession) -> None:
    # aiohttp re-sends an idempotent request once on a dropped kept-alive connection
    # (ClientSession._retry_connection, RFC 9112 section 9.3.1). There is no public switch.
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False


# Failures that another attempt might have cured: raising one is a give-up, logged as such.
_TRANSIENT = (TransportError, ServerError, RateLimitError, ResponseDecodeError)

UNREACHABLE_AFTER = 3
"""Consecutive calls that failed to connect on every attempt, with no answer from the server
between them, after which the server is taken as unreachable (see :class:`_Reachability`)."""


class _Reachability:
    """Whether the server is taken as unreachable. A call whose every attempt failed to
    connect (refused, no such host, TLS refused) counts one; any answer from the server, of
    any HTTP status, resets the count. Timeouts neither count nor reset: a slow or flaky
    gateway is not a dead server. Once :data:`UNREACHABLE_AFTER` calls in a row have counted,
    a call whose attempt fails to connect raises ServerUnreachableError at once instead of
    retrying, until an answer arrives."""

    def __init__(self) -> None:
        self._failed_calls = 0

    @property
    def unreachable(self) -> bool:
        return self._failed_calls >= UNREACHABLE_AFTER

    def answered(self) -> None:
        self._failed_calls = 0

    def call_failed_to_connect(self) -> None:
        self._failed_calls += 1


def _transport_error(endpoint: str, exc: BaseException) -> TransportError:
    connect_failed = isinstance(exc, aiohttp.ClientConnectorError)
    tls = isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError)
    if tls:
        kind = "TLS verification failed (pass ssl= a context that trusts the server's CA)"
    elif isinstance(exc, asyncio.TimeoutError):
        kind = "timed out"
    else:
        kind = "connection failed"
    return TransportError(
        f"{endpoint}: {kind} ({type(exc).__name__})",
        retryable=not tls,
        connect_failed=connect_failed,
        answer_lost=not (connect_failed or isinstance(exc, aiohttp.ConnectionTimeoutError)),
    )


def _unreachable(error: TransportError) -> ServerUnreachableError:
    return ServerUnreachableError(
        f"{error} - the server is unreachable: {UNREACHABLE_AFTER} calls in a row failed to "
        "connect; check the base URL and the network",
        retryable=False,
        connect_failed=True,
        attempts=error.attempts,
        answer_lost=error.answer_lost,
    )


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
    if status >= 500:
        return ServerError(
            f"server error {status}",
            endpoint=answer.endpoint,
            http_status=status,
            body=answer.body,
            retry_after=parse_retry_after(answer.headers.get("Retry-After")),
            # A gateway that timed out on (504) or lost (502) the backend, or a backend that
            # failed mid-way (500), may have acted; a 503 means the request was not taken.
            answer_lost=status in (500, 502, 504),
        )
    if status == 429:
        return RateLimitError(
            _vendor_message(answer.body) or "Too Many Requests",
            endpoint=answer.endpoint,
            http_status=status,
            body=answer.body,
            retry_after=parse_retry_after(answer.headers.get("Retry-After")),
        )
    if 300 <= status < 400:
        return APIError(
            f"unexpected redirect {status}",
            endpoint=answer.endpoint,
            http_status=status,
            body=answer.body,
        )
    return None


class _Connection:
    """What every view of one client shares: the session and what is known of the server."""

    def __init__(
        self, session: aiohttp.ClientSession | None, ssl: ssl_module.SSLContext | bool
    ) -> None:
        self.session = session
        self.owns_session = session is None
        self.ssl = ssl
        self.closed = False
        self.reachability = _Reachability()
        if session is not None:
            _disable_hidden_resend(session)

    def client_session(self) -> aiohttp.ClientSession:
        if self.closed:
            raise RuntimeError("the client is closed")
        if self.session is None:
            # Created lazily so the client can be built outside a running event loop.
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, ssl=self.ssl)
            )
            _disable_hidden_resend(self.session)
        return self.session

    async def aclose(self) -> None:
        self.closed = True
        if self.owns_session and self.session is not None:
            await self.session.close()
        self.session = None


class Transport:
    """Sends :class:`Call` objects to one base URL on behalf of one account (``scope``).

    ``timeout`` bounds one attempt, ``deadline`` (seconds, None: no bound) a whole call:
    rate-limit waits, attempts and the sleeps between them. ``max_response_bytes`` caps an
    answer's decompressed body."""

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
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        observer: Observer | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._scope = scope
        self.authenticator = authenticator
        self._coordination = coordination
        self._rate_limits = dict(rate_limits)
        self._retry = retry
        self._timeout = timeout
        self._deadline = deadline
        self._max_response_bytes = max_response_bytes
        self.observer = observer
        self._connection = _Connection(session, True if ssl is None else ssl)
        self._retrying = _retrying()

    def with_options(
        self,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        deadline: float | None = None,
    ) -> Transport:
        """A view of this transport with other per-call options; it shares the session, the
        rate limits, the coordination, the authenticator (and so the token) and what is known
        of the server's reachability."""
        view = object.__new__(Transport)
        vars(view).update(vars(self))
        if timeout is not None:
            view._timeout = timeout
        if retry is not None:
            view._retry = retry
        if deadline is not None:
            view._deadline = deadline
        return view

    def limit_key(self, endpoint: str) -> str:
        return f"{self.base_url}|{self._scope}|{endpoint}"

    async def aclose(self) -> None:
        await self._connection.aclose()

    async def send(
        self, call: Call, interpret: Interpreter[T], *, authenticator: Authenticator | None = None
    ) -> Delivered[T]:
        """Send ``call`` with retries; the interpreted value, or the last attempt's error.
        ``authenticator`` replaces the client's for this call (token generation)."""
        run = _Run(self, call, interpret, authenticator or self.authenticator)
        try:
            value: T = await run.attempts(self._retrying)
        except OzoError as error:
            raise run.failed(error) from None
        except BaseException as interrupted:
            # Cancelled (a caller's timeout, a task group's sibling failed) or broken by
            # a hook: the call still ends for its observers, with what stopped it.
            run.interrupted(interrupted)
            raise
        run.succeeded()
        return Delivered(value, run.sent, run.answer_lost)


def _retrying() -> Retrying:
    """The retry decisions of a transport and its views, built once. tenacity decides
    (``Retrying.iter``: attempt, sleep, or the outcome) and :meth:`_Run.attempts` awaits the
    attempts and the sleeps, as tenacity's ``AsyncRetrying`` does, without wrapping each
    decision in a coroutine per attempt. The callbacks find the call they answer for in
    ``state.args``. Sharing one object across concurrent calls is sound: its per-decision
    bookkeeping (thread-local) is used only within ``iter``, which never yields."""
    return Retrying(stop=_stop, wait=_wait, retry=_retry, before_sleep=_before_sleep, reraise=True)


def _run_of(state: RetryCallState) -> _Run[Any]:
    run: _Run[Any] = state.args[0]
    return run


def _retry(state: RetryCallState) -> bool:
    return _run_of(state).retry(state)


def _wait(state: RetryCallState) -> float:
    return _run_of(state).wait(state)


def _stop(state: RetryCallState) -> bool:
    return _run_of(state).stop(state)


def _before_sleep(state: RetryCallState) -> None:
    _run_of(state).before_sleep(state)


class _Run(Generic[T]):
    """One call's way through its attempts. The transport's tenacity loop drives it and
    asks it the questions (retry? stop? how long to wait?); the answers come from the
    RetryPolicy, the deadline and what the attempts so far have seen."""

    def __init__(
        self, transport: Transport, call: Call, interpret: Interpreter[T], auth: Authenticator
    ) -> None:
        self.transport = transport
        self.call = call
        self.interpret = interpret
        self.auth = auth
        self.policy = transport._retry
        self.limit = transport._rate_limits.get(call.endpoint)
        self.key = transport.limit_key(call.endpoint)
        self.deadline_at = (
            None if transport._deadline is None else time.monotonic() + transport._deadline
        )
        self.observer: CallObserver | None = (
            None
            if transport.observer is None
            else transport.observer.call(call.endpoint, call.method)
        )
        #: Requests actually sent.
        self.sent = 0
        #: A repeat owed to a rejected token (not counted against the retry budget).
        self.token_repeats = 0
        self.answer_lost = False
        #: Some attempt got an answer from the server.
        self.answered = False
        #: The last failure happened before its request went out: final, never retried.
        self.unsent = False
        #: The last sent attempt's HTTP status, duration and rate-limit wait, reported to the
        #: observer once it is known whether another attempt follows.
        self.pending: tuple[int | None, float, float] | None = None

    async def attempts(self, retrying: Retrying) -> T:
        """The call's value after as many attempts as ``retrying`` decides; raises the last
        attempt's error (or whatever stopped the call)."""
        # tenacity's first decision is always to attempt (there is no ``before`` hook and no
        # stop before an attempt), so it is asked only once an attempt has failed: a call
        # answered at once builds no call state.
        try:
            return await self.attempt()
        except BaseException:
            first_failure = sys.exc_info()
        # tenacity's statistics (unused here) are per object and thread; ``iter`` needs
        # them started on this thread.
        retrying.begin()
        state = RetryCallState(retrying, fn=None, args=(self,), kwargs={})
        state.set_exception(first_failure)  # type: ignore[arg-type]
        while True:
            do = retrying.iter(state)
            if isinstance(do, DoAttempt):
                try:
                    state.set_result(await self.attempt())
                except BaseException:
                    state.set_exception(sys.exc_info())  # type: ignore[arg-type]
            elif isinstance(do, DoSleep):
                state.prepare_for_next_attempt()
                await asyncio.sleep(do)
            else:
                value: T = do
                return value

    # --- one attempt --------------------------------------------------------------------

    async def attempt(self) -> T:
        started = time.monotonic()
        answer: Answer | None = None
        self.unsent = True
        try:
            await self.auth.prepare(self.transport)
            async with self._slot() as waited:
                self.unsent = False
                try:
                    answer, credentials = await self._exchange()
                finally:
                    if self.observer is not None:
                        status = None if answer is None else answer.http_status
                        self.pending = (status, time.monotonic() - started, waited)
            return self._read(answer, credentials)
        except OzoError as error:
            failure = self._attempt_failed(error, answer)
            await self._push_back(failure)
            raise failure from None

    @contextlib.asynccontextmanager
    async def _slot(self) -> AsyncIterator[float]:
        remaining = self._remaining()
        if remaining is not None and remaining <= 0:
            raise DeadlineExceededError(
                f"{self.call.endpoint}: the call's deadline passed; nothing more was sent",
                endpoint=self.call.endpoint,
                http_status=0,
            )
        if self.limit is None:
            yield 0.0
            return
        coordination = self.transport._coordination
        async with coordination.slot(self.key, self.limit, max_wait=remaining) as waited:
            if waited > 0.05:
                log.info("rate limit: waited %.2fs for %s", waited, self.call.endpoint)
            if self.observer is not None:
                self.observer.rate_limit_wait(RateLimitWaitInfo(self.call.endpoint, waited))
            yield waited

    async def _exchange(self) -> tuple[Answer, Mapping[str, str]]:
        transport = self.transport
        call = self.call
        url = transport.base_url + call.path
        session = transport._connection.client_session()
        credentials = self.auth.headers(call, url)
        headers = {**_BASE_HEADERS, **call.headers, **credentials}
        remaining = self._remaining()
        timeout = transport._timeout if remaining is None else min(transport._timeout, remaining)
        self.sent += 1
        started = time.monotonic()
        try:
            # The whole exchange, body included, is bounded by the attempt's timeout: aiohttp's
            # total timeout covers the body's reads too, and tells a connect that timed out
            # (nothing sent) from a request that did.
            async with session.request(
                call.method,
                url,
                params=call.query or None,
                data=call.body,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=timeout),
                allow_redirects=False,
                raise_for_status=False,
                auto_decompress=False,
            ) as response:
                transport._connection.reachability.answered()
                self.answered = True
                body = await read_capped(response, transport._max_response_bytes)
                status = response.status
                answer_headers = response.headers
        except (TimeoutError, aiohttp.ClientError) as exc:
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "%s %s attempt %d: %s after %.3fs",
                    call.method,
                    call.endpoint,
                    self.sent,
                    type(exc).__name__,
                    time.monotonic() - started,
                )
            raise _transport_error(call.endpoint, exc) from None
        data = redact(body.data, self.auth.secrets(credentials))
        answer = Answer(call.endpoint, status, answer_headers, data)
        if body.problem is not None:
            raise ResponseDecodeError(
                call.endpoint,
                body.problem,
                data,
                status,
                answer_lost=_cut_off_json(answer),
            )
        return answer, credentials

    def _read(self, answer: Answer, credentials: Mapping[str, str]) -> T:
        http_error = _http_error(answer)
        if http_error is not None:
            raise http_error
        try:
            value = self.interpret(answer)
        except ResponseDecodeError as error:
            raise error.replace(answer_lost=_cut_off_json(answer)) from None
        except AuthenticationError as error:
            if error.token_invalid:
                may_help = self.auth.rejected(error, credentials)
                raise error.replace(fresh_token_may_help=may_help) from None
            raise
        if log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s attempt %d: HTTP %d ok",
                self.call.method,
                self.call.endpoint,
                self.sent,
                answer.http_status,
            )
        return value

    def _attempt_failed(self, error: OzoError, answer: Answer | None) -> OzoError:
        """The error of this attempt with the call's facts so far; the shared schedule pushed
        back when the server said slow down."""
        self.answer_lost = self.answer_lost or error.answer_lost
        if answer is not None and log.isEnabledFor(logging.DEBUG):
            log.debug(
                "%s %s attempt %d: HTTP %d, %s",
                self.call.method,
                self.call.endpoint,
                self.sent,
                answer.http_status,
                type(error).__name__,
            )
        return error.replace(attempts=self.sent, answer_lost=self.answer_lost)

    async def _push_back(self, error: OzoError) -> None:
        if isinstance(error, RateLimitError) and error.http_status and self.limit is not None:
            # Everyone sharing the schedule backs off, whether or not this request will be
            # retried, but never longer than the policy's max_retry_after.
            delay = self.policy.push_back_delay(error, max(self.sent, 1))
            await self.transport._coordination.push_back(self.key, self.limit, delay)

    def _unreachable(self) -> bool:
        return self.transport._connection.reachability.unreachable

    def _remaining(self) -> float | None:
        return None if self.deadline_at is None else self.deadline_at - time.monotonic()

    def _report_attempt(self, error: BaseException | None, will_retry: bool) -> None:
        if self.observer is None or self.pending is None:
            return
        http_status, duration, waited = self.pending
        self.pending = None
        self.observer.attempt(
            AttemptInfo(
                endpoint=self.call.endpoint,
                method=self.call.method,
                attempt=self.sent,
                http_status=http_status,
                vendor_status=error.status or error.code if isinstance(error, APIError) else None,
                outcome="ok" if error is None else type(error).__name__,
                duration=duration,
                rate_limit_wait=waited,
                will_retry=will_retry,
            )
        )

    # --- what tenacity asks -------------------------------------------------------------

    def retry(self, state: RetryCallState) -> bool:
        error = state.outcome.exception() if state.outcome else None
        if error is None or self.unsent:
            return False
        if isinstance(error, TransportError) and error.connect_failed and self._unreachable():
            return False
        if is_token_rejection(error) and self.token_repeats == 0:
            self.token_repeats = 1
            return True
        return self.policy.should_retry(error, repeatable=self.call.repeatable)

    def wait(self, state: RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if error is None or (is_token_rejection(error) and self.token_repeats == 1):
            return 0.0
        return self.policy.retry_delay(error, state.attempt_number - self.token_repeats)

    def stop(self, state: RetryCallState) -> bool:
        # A repeat after a token refresh is owed to the credentials, not the retry budget.
        if state.attempt_number >= self.policy.max_attempts + self.token_repeats:
            return True
        remaining = self._remaining()
        # No retry whose sleep would leave no time for its attempt.
        return remaining is not None and state.upcoming_sleep >= remaining

    def before_sleep(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        self._report_attempt(error, will_retry=True)
        if log.isEnabledFor(logging.INFO):
            log.info(
                "retrying %s %s after attempt %d in %.2fs: %s",
                self.call.method,
                self.call.endpoint,
                self.sent,
                state.upcoming_sleep,
                describe(error) if error else "",
            )

    # --- how the call ends --------------------------------------------------------------

    def succeeded(self) -> None:
        self._report_attempt(None, will_retry=False)
        if self.observer is not None:
            self.observer.end("ok")

    def interrupted(self, cause: BaseException) -> None:
        """The call was stopped by ``cause`` (a cancellation, most often), not by an
        answer: its attempt in flight and the call end for the observers under its name."""
        self._report_attempt(cause, will_retry=False)
        if self.observer is not None:
            self.observer.end(type(cause).__name__)

    def failed(self, error: OzoError) -> OzoError:
        """The error the call raises: the last attempt's, or ServerUnreachableError when this
        call completes a run of calls that could not connect."""
        self._report_attempt(error, will_retry=False)
        reachability = self.transport._connection.reachability
        # A call that failed before sending (its token could not be fetched) was counted by
        # the token call itself.
        tried = not self.unsent and not self.answered
        if isinstance(error, TransportError) and error.connect_failed and tried:
            if not reachability.unreachable:
                reachability.call_failed_to_connect()
            if reachability.unreachable:
                error = _unreachable(error)
        if isinstance(error, _TRANSIENT) and not self.unsent:
            log.warning(
                "giving up on %s %s after %d attempt(s): %s",
                self.call.method,
                self.call.endpoint,
                self.sent,
                describe(error),
            )
            if self.observer is not None:
                self.observer.give_up(
                    GiveUpInfo(
                        self.call.endpoint,
                        self.call.method,
                        self.sent,
                        type(error).__name__,
                        str(error),
                    )
                )
        if self.observer is not None:
            self.observer.end(type(error).__name__)
        return error
