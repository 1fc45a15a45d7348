"""RetryPolicy: which failures are retried and how long to wait. The decisions are small
methods a subclass can override (``should_retry``, ``retry_delay``); tenacity runs them."""

from __future__ import annotations

import email.utils
import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ..errors import (
    AuthenticationError,
    OzoError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    TokenBudgetExhaustedError,
    TransportError,
)

_DELTA_SECONDS = re.compile(r"\d+(?:\.\d+)?")


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds (``"120"``; a fraction
    such as ``"1.5"`` is accepted too) or an HTTP date in any of its three formats (a date
    in the past gives 0). None when the header is absent or unreadable (garbage, negative,
    too large to be a finite number): the caller then backs off on its own schedule. A huge
    but finite value (``"1000000000000"``, a date in year 9999) is returned as it is; the
    policy refuses to wait that long (see :meth:`RetryPolicy.retry_delay`)."""
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        seconds = float(value)  # a 400-digit number is inf here, not an OverflowError
        return seconds if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
        if when.tzinfo is None:
            # asctime dates carry no zone; HTTP dates are always GMT.
            when = when.replace(tzinfo=UTC)
        return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
    except (TypeError, ValueError, OverflowError):
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """Retries connection errors, timeouts, HTTP 5xx, HTTP 429 and "Max limit exceeded" with
    capped exponential backoff and jitter; obeys ``Retry-After`` up to
    ``max_retry_after`` (a longer one is raised at once). ``max_attempts=1`` turns retries
    off. Undecodable answers are retried only for requests safe to repeat (deletes). Every
    delay must be a finite number of seconds, at least 0."""

    max_attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        delays = (self.initial_delay, self.max_delay, self.max_retry_after)
        if not all(0 <= delay < math.inf for delay in delays):  # also refuses NaN
            raise ValueError("RetryPolicy delays must be finite and not negative")

    def should_retry(self, error: BaseException, *, repeatable: bool) -> bool:
        """Whether ``error`` from one attempt deserves another. ``repeatable``: the request is
        safe to send again even if the server may have acted on it."""
        if isinstance(error, TokenBudgetExhaustedError):
            return False
        if isinstance(error, RateLimitError | ServerError):
            # A Retry-After longer than we are willing to wait is raised at once.
            return error.retry_after is None or error.retry_after <= self.max_retry_after
        if isinstance(error, TransportError):
            return error.retryable
        if isinstance(error, ResponseDecodeError):
            return repeatable
        return False

    def retry_delay(self, error: BaseException, attempt: int) -> float:
        """Seconds to sleep after failed attempt number ``attempt`` (1-based): the server's
        ``Retry-After`` when it gave one (never more than ``max_retry_after``), else the
        back-off. Also how far a rate-limit answer pushes back the shared schedule, so a
        ``Retry-After`` longer than ``max_retry_after`` (raised at once) pushes it back by
        ``max_retry_after`` only."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(float(retry_after), self.max_retry_after)
        return self.backoff(attempt)

    def backoff(self, attempt: int) -> float:
        """The policy's own delay after failed attempt number ``attempt``: capped
        exponential, with jitter."""
        # min() on the exponent first: 2 ** 2000 would overflow a float.
        ceiling = min(self.max_delay, self.initial_delay * 2 ** min(attempt - 1, 64))
        # Jitter over the upper half: retrying clients spread out instead of returning
        # together, and none comes back sooner than half its back-off.
        return random.uniform(ceiling / 2, ceiling)


def is_token_rejection(error: BaseException) -> bool:
    """The server rejected a token the client has since discarded: one fresh token and one
    repeat may help."""
    return isinstance(error, AuthenticationError) and error.fresh_token_may_help


def describe(error: BaseException) -> str:
    """A short, secret-free description of an attempt's failure for logs."""
    if isinstance(error, OzoError):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__
