"""What every vendor client shares: it owns a Transport and closes it."""

from __future__ import annotations

from collections.abc import Mapping
from types import TracebackType
from typing import Self

import aiohttp

from .. import validation
from ..errors import RequestValidationError
from .coordination import COORDINATION_METHODS
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
    validation.has_methods(coordination, "coordination", COORDINATION_METHODS)
    validation.instance(retry, "retry", RetryPolicy)
    validation.instance(session, "session", aiohttp.ClientSession)


class TransportClient:
    """An async context manager around one :class:`Transport`."""

    _transport: Transport

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
