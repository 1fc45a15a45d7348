"""RetryPolicy: which failures are retried and how long to wait. The decisions are small
methods a subclass can override (``should_retry``, ``retry_delay``); tenacity runs them."""

from __future__ import annotations

import email.utils
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
    in the past gives 0). None when the header is absent or unreadable: the caller then
    backs off on its own schedule."""
    if value is None:
        return None
    value = value.strip()
    if _DELTA_SECONDS.fullmatch(value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        # asctime dates carry no zone; HTTP dates are always GMT.
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries connection errors, timeouts, HTTP 5xx, HTTP 429 and "Max limit exceeded" with
    capped exponential backoff and jitter; obeys ``Retry-After`` up to
    ``max_retry_after`` (a longer one is raised at once). ``max_attempts=1`` turns retries
    off. Undecodable answers are retried only for requests safe to repeat (deletes)."""

    max_attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        delays = (self.initial_delay, self.max_delay, self.max_retry_after)
        if not all(delay >= 0 for delay in delays):  # also refuses NaN
            raise ValueError("RetryPolicy delays must not be negative")

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
        """Seconds to sleep after failed attempt number ``attempt`` (1-based)."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        ceiling = min(self.max_delay, self.initial_delay * 2 ** (attempt - 1))
        # Jitter over the upper half: retrying clients spread out instead of returning
        # together, and none comes back sooner than half its back-off.
        return random.uniform(ceiling / 2, ceiling)


def is_token_rejection(error: BaseException) -> bool:
    """The server rejected the token itself: one fresh token and one repeat may help."""
    return isinstance(error, AuthenticationError) and error.token_rejected


def describe(error: BaseException) -> str:
    """A short, secret-free description of an attempt's failure for logs."""
    if isinstance(error, OzoError):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__
