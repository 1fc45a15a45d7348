"""The ozoasync error tree.

Every exception the SDK raises is an :class:`OzoError`. Exception text never contains an
API key, token, app secret or signature: messages are built from the vendor's status and
message, the endpoint name and the HTTP status only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self, TypeAlias

if TYPE_CHECKING:
    from .results import BlockNumberDeletion, CallerNumberAddition, CallerNumberDeletion, Progress

    Partial: TypeAlias = (
        Progress | BlockNumberDeletion | CallerNumberDeletion | CallerNumberAddition
    )

_BODY_LIMIT = 500
MESSAGE_LIMIT = 1000
"""Characters of a server's message kept in errors and results (a hostile server's 50 MB
message must not become a 50 MB ``result.message``)."""


def truncate_body(body: bytes | str, limit: int = _BODY_LIMIT) -> str:
    """The body as text, cut to ``limit`` characters so an HTML error page stays readable."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more]"


def truncate_message(message: str) -> str:
    """A server's message cut to :data:`MESSAGE_LIMIT` characters."""
    return truncate_body(message, MESSAGE_LIMIT)


class OzoError(Exception):
    """Base class of every error raised by ozoasync.

    Its facts are set when it is built; :meth:`replace` returns a copy with some of them
    changed (the transport adds the attempt count, a bulk call the partial result)."""

    def __init__(
        self,
        message: str,
        *,
        attempts: int = 0,
        answer_lost: bool = False,
        partial: Partial | None = None,
    ) -> None:
        super().__init__(message)
        #: How many attempts were made before this error was raised (0: nothing was sent).
        self.attempts = attempts
        #: An attempt's answer was lost (timeout, dropped connection, cut-off JSON, HTTP
        #: 500/502/504): the server may have acted on the request.
        self.answer_lost = answer_lost
        #: For a bulk call stopped by this error: the result of what was done before it.
        self.partial = partial

    def replace(self, **facts: Any) -> Self:
        """A copy of this error with ``facts`` (attribute names, e.g. ``attempts=3``,
        ``partial=progress``) changed; the original is left as it was."""
        unknown = set(facts) - set(vars(self))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no fact {sorted(unknown)}")
        copy = type(self).__new__(type(self))
        copy.args = self.args
        vars(copy).update(vars(self), **facts)
        copy.__traceback__ = self.__traceback__
        copy.__cause__ = self.__cause__
        copy.__context__ = self.__context__
        copy.__suppress_context__ = self.__suppress_context__
        return copy


class RequestValidationError(OzoError, ValueError):
    """Bad input, raised before any request is sent. ``field`` names the bad argument."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class TransportError(OzoError):
    """The connection failed or timed out, after every retry."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        connect_failed: bool = False,
        attempts: int = 0,
        answer_lost: bool = False,
        partial: Partial | None = None,
    ) -> None:
        super().__init__(message, attempts=attempts, answer_lost=answer_lost, partial=partial)
        #: False when another attempt cannot help (the server's TLS certificate was refused).
        self.retryable = retryable
        #: No connection could be made at all (refused, no such host, TLS refused): the
        #: request never reached the server.
        self.connect_failed = connect_failed


class ServerUnreachableError(TransportError):
    """Every recent call failed to connect at all (refused, no such host, TLS refused) with
    no answer in between: every later request would fail too, so bulk calls stop and raise
    this instead of retrying number by number. Check the base URL and the network."""


class CoordinationError(OzoError):
    """The shared coordination store (Redis) could not be reached or answered wrongly.

    Raised instead of silently falling back to a per-process limit, which would multiply
    the rate by the number of processes.
    """


class ResponseDecodeError(OzoError):
    """The body is not what the vendor documents. ``body`` keeps it (truncated)."""

    def __init__(
        self,
        endpoint: str,
        problem: str,
        body: bytes | str,
        http_status: int = 0,
        *,
        attempts: int = 0,
        answer_lost: bool = False,
        partial: Partial | None = None,
    ) -> None:
        super().__init__(
            f"{endpoint}: undecodable answer (HTTP {http_status}): {problem}",
            attempts=attempts,
            answer_lost=answer_lost,
            partial=partial,
        )
        self.endpoint = endpoint
        self.http_status = http_status
        self.body = truncate_body(body)


class APIError(OzoError):
    """The server said no.

    ``status`` and ``message`` are the vendor's (CloudAgent), ``code`` the vendor's error code
    (iSales ``resultCode``), ``body`` the raw answer (truncated), ``retry_after`` the seconds
    the server asked to wait before trying again (``Retry-After``), if it said.
    """

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        http_status: int,
        status: str | None = None,
        code: str | None = None,
        body: bytes | str = b"",
        retry_after: float | None = None,
        attempts: int = 0,
        answer_lost: bool = False,
        partial: Partial | None = None,
    ) -> None:
        message = truncate_message(message)
        detail = f" [{code}]" if code else ""
        super().__init__(
            f"{endpoint}: {message}{detail} (HTTP {http_status})",
            attempts=attempts,
            answer_lost=answer_lost,
            partial=partial,
        )
        self.endpoint = endpoint
        self.http_status = http_status
        self.status = status
        self.message = message
        self.code = code
        self.body = truncate_body(body)
        self.retry_after = retry_after


class AuthenticationError(APIError):
    """Bad apiKey, userName, token or signature.

    ``token_invalid``: the server said the token itself is invalid or expired.
    ``fresh_token_may_help``: the client has discarded the token it sent, so one repeat with a
    fresh token may succeed (only for a token the client's own token store issued)."""

    def __init__(
        self,
        message: str,
        *,
        token_invalid: bool = False,
        fresh_token_may_help: bool = False,
        **facts: Any,
    ) -> None:
        super().__init__(message, **facts)
        self.token_invalid = token_invalid
        self.fresh_token_may_help = fresh_token_may_help


class RateLimitError(APIError):
    """The server said "Max limit exceeded" or HTTP 429, after every retry.

    ``retry_after``: the seconds the server asked for, if it said."""


class TokenBudgetExhaustedError(RateLimitError):
    """The account's token-generation budget (10 per hour) is spent; ``retry_after`` says when
    the next generation is allowed. Raised locally: generating another token would have
    invalidated the one every other process is using."""


class DeadlineExceededError(RateLimitError):
    """The call's ``deadline`` passed before a rate-limit slot could be had: nothing was sent
    and no slot was consumed (``attempts`` counts what an earlier attempt sent)."""


class NotFoundError(APIError):
    """The server said "No Record Found" / "No data found" / iSales 0200007."""


class InvalidParameterError(APIError):
    """The server rejected a parameter."""


class ConflictError(APIError):
    """The server said "phone_name or phone_number already exist"."""


class LimitExceededError(APIError):
    """The server said "Phone Number Limit Exceeded"."""


class BulkDataUnavailableError(APIError):
    """The account does not offer DeleteBulkData: the server answered HTTP 404 or 405 to it,
    or said the API is not enabled (allowed, permitted) for the account. Every later
    DeleteBulkData request would hit it too; deleteCampaignData remains (the CLI's
    ``forget`` falls back to it)."""


class ServerError(APIError):
    """HTTP 5xx, after every retry."""


_DOOMING = (
    AuthenticationError,
    BulkDataUnavailableError,
    TokenBudgetExhaustedError,
    CoordinationError,
    ServerUnreachableError,
)


def dooms_later_requests(error: BaseException) -> bool:
    """An error every later request of a bulk call would hit too (refused credentials, the
    token budget spent, an unreachable coordination store): the call stops and raises
    instead of sending them."""
    return isinstance(error, _DOOMING)


__all__ = [
    "APIError",
    "AuthenticationError",
    "BulkDataUnavailableError",
    "ConflictError",
    "CoordinationError",
    "DeadlineExceededError",
    "InvalidParameterError",
    "LimitExceededError",
    "NotFoundError",
    "OzoError",
    "RateLimitError",
    "RequestValidationError",
    "ResponseDecodeError",
    "ServerError",
    "ServerUnreachableError",
    "TokenBudgetExhaustedError",
    "TransportError",
]
