"""What every vendor client shares: it owns a Transport, offers per-call option views of
itself, and closes it."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from types import TracebackType
from typing import Self

import aiohttp

from .. import validation
from ..errors import RequestValidationError
from .coordination import SCHEDULE_STORE_METHODS
from .http import Transport
from .ratelimit import RateLimit
from .retry import RetryPolicy


def check_shared_options(
    rate_limits: object, coordination: object, retry: object, session: object
) -> None:
    """The options both clients take, checked at construction (not at the first request)."""
    if rate_limits is not None:
        if not isinstance(rate_limits, Mapping):
            raise RequestValidationError("rate_limits", "must be a mapping {endpoint: RateLimit}")
        for endpoint, limit in rate_limits.items():
            validation.non_empty_text(endpoint, "rate_limits")
            validation.instance(limit, "rate_limits", RateLimit)
    validation.has_methods(coordination, "coordination", SCHEDULE_STORE_METHODS)
    validation.instance(retry, "retry", RetryPolicy)
    validation.instance(session, "session", aiohttp.ClientSession)


def checked_deadline(deadline: object) -> float | None:
    """None (no bound) or a positive, finite number of seconds."""
    return None if deadline is None else validation.seconds(deadline, "deadline")


class TransportClient:
    """An async context manager around one :class:`Transport`."""

    _transport: Transport

    def _bind(self, transport: Transport) -> None:
        """Build the endpoint groups over ``transport`` (a client's own, or a view's)."""
        raise NotImplementedError

    def with_options(
        self,
        *,
        timeout: float | None = None,
        retry: RetryPolicy | None = None,
        deadline: float | None = None,
    ) -> Self:
        """A light view of this client with other options for the calls made through it:
        ``client.with_options(deadline=2.0).campaign_data.delete(...)``. The view shares the
        session, the rate limits, the coordination and the token with the client (nothing is
        copied that would split a limit or a token); closing either closes both."""
        validation.instance(retry, "retry", RetryPolicy)
        view = copy.copy(self)
        view._transport = self._transport.with_options(
            timeout=None if timeout is None else validation.seconds(timeout, "timeout"),
            retry=retry,
            deadline=checked_deadline(deadline),
        )
        view._bind(view._transport)
        return view

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client's own HTTP session (never one you passed in)."""
        await self._transport.aclose()
