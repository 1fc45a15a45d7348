"""What every vendor client shares: it owns a Transport, offers per-call option views of
itself, and closes it."""

from __future__ import annotations

import copy
import math
from types import TracebackType
from typing import Self

from ..errors import RequestValidationError
from .http import Transport
from .retry import RetryPolicy


def checked_deadline(deadline: object) -> float | None:
    """None (no bound) or a positive, finite number of seconds."""
    if deadline is None:
        return None
    if isinstance(deadline, bool) or not isinstance(deadline, int | float):
        raise RequestValidationError("deadline", "must be None or a number of seconds")
    if not 0 < deadline < math.inf:
        raise RequestValidationError("deadline", "must be a positive, finite number of seconds")
    return float(deadline)


def checked_timeout(timeout: object) -> float:
    """A positive, finite number of seconds."""
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise RequestValidationError("timeout", "must be a positive number of seconds")
    if not 0 < timeout < math.inf:
        raise RequestValidationError("timeout", "must be a positive, finite number of seconds")
    return float(timeout)


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
        if retry is not None and not isinstance(retry, RetryPolicy):
            raise RequestValidationError("retry", "must be a RetryPolicy")
        view = copy.copy(self)
        view._transport = self._transport.with_options(
            timeout=None if timeout is None else checked_timeout(timeout),
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
