"""The ozoasync error tree.

Every exception the SDK raises is an :class:`OzoError`. Exception text never contains an
API key, token, app secret or signature: messages are built from the vendor's status and
message, the endpoint name and the HTTP status only.
"""

from __future__ import annotations

_BODY_LIMIT = 500


def truncate_body(body: bytes | str, limit: int = _BODY_LIMIT) -> str:
    """The body as text, cut to ``limit`` characters so an HTML error page stays readable."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more]"


class OzoError(Exception):
    """Base class of every error raised by ozoasync."""

    #: How many attempts were made before this error was raised (0: nothing was sent).
    attempts: int = 0
    #: An attempt's answer was lost (timeout, dropped connection, cut-off JSON, HTTP
    #: 500/502/504): the server may have acted on the request.
    answer_lost: bool = False
    #: For a bulk call stopped by this error: the result of what was done before it.
    partial: object = None


class RequestValidationError(OzoError, ValueError):
    """Bad input, raised before any request is sent. ``field`` names the bad argument."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class TransportError(OzoError):
    """The connection failed or timed out, after every retry."""

    #: False when another attempt cannot help (the server's TLS certificate was refused).
    retryable: bool = True


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

    def __init__(self, endpoint: str, problem: str, body: bytes | str, http_status: int = 0):
        self.endpoint = endpoint
        self.http_status = http_status
        self.body = truncate_body(body)
        super().__init__(f"{endpoint}: undecodable answer (HTTP {http_status}): {problem}")


class APIError(OzoError):
    """The server said no.

    ``status`` and ``message`` are the vendor's (CloudAgent), ``code`` the vendor's error code
    (iSales ``resultCode``), ``body`` the raw answer (truncated).
    """

    #: Seconds the server asked to wait before trying again (``Retry-After``), if it said.
    retry_after: float | None = None

    def __init__(
        self,
        message: str,
        *,
        endpoint: str,
        http_status: int,
        status: str | None = None,
        code: str | None = None,
        body: bytes | str = b"",
    ) -> None:
        self.endpoint = endpoint
        self.http_status = http_status
        self.status = status
        self.message = message
        self.code = code
        self.body = truncate_body(body)
        detail = f" [{code}]" if code else ""
        super().__init__(f"{endpoint}: {message}{detail} (HTTP {http_status})")


class AuthenticationError(APIError):
    """Bad apiKey, userName, token or signature."""

    #: True when the server rejected a token as expired or invalid: a fresh token may help.
    token_rejected: bool = False


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


class ServerError(APIError):
    """HTTP 5xx, after every retry."""


_DOOMING = (
    AuthenticationError,
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
