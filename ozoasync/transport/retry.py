"""RetryPolicy: which failures are retried and how long to wait. The decisions are small
methods a subclass can override (``should_retry``, ``retry_delay``); tenacity runs them."""

from __future__ import annotations

import email.utils
import random
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


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)


@dataclass(frozen=True)
class RetryPolicy:
    """Retries connection errors, timeouts, HTTP 5xx, HTTP 429 and "Max limit exceeded" with
    capped exponential backoff and full jitter; obeys ``Retry-After`` up to
    ``max_retry_after`` (a longer one is raised at once). ``max_attempts=1`` turns retries
    off. Undecodable answers are retried only for requests safe to repeat (deletes)."""

    max_attempts: int = 5
    initial_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0

    def __post_init__(self) -> None:
        if isinstance(self.max_attempts, bool) or self.max_attempts < 1:
            raise ValueError("RetryPolicy.max_attempts must be at least 1")
        if self.initial_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("RetryPolicy delays must not be negative")

    def should_retry(self, error: BaseException, *, repeatable: bool) -> bool:
        """Whether ``error`` from one attempt deserves another. ``repeatable``: the request is
        safe to send again even if the server may have acted on it."""
        if isinstance(error, TokenBudgetExhaustedError):
            return False
        if isinstance(error, RateLimitError):
            return error.retry_after is None or error.retry_after <= self.max_retry_after
        if isinstance(error, TransportError | ServerError):
            return True
        if isinstance(error, ResponseDecodeError):
            return repeatable
        return False

    def retry_delay(self, error: BaseException, attempt: int) -> float:
        """Seconds to sleep after failed attempt number ``attempt`` (1-based)."""
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        ceiling = min(self.max_delay, self.initial_delay * 2 ** (attempt - 1))
        # Full jitter: retrying clients spread out instead of returning together.
        return random.uniform(ceiling / 2, ceiling)


def is_token_rejection(error: BaseException) -> bool:
    """The server rejected the token itself: one fresh token and one repeat may help."""
    return isinstance(error, AuthenticationError) and error.token_rejected


def describe(error: BaseException) -> str:
    """A short, secret-free description of an attempt's failure for logs."""
    if isinstance(error, OzoError):
        return f"{type(error).__name__}: {error}"
    return type(error).__name__
