"""What every vendor client shares: it owns a Transport and closes it."""

from __future__ import annotations

from types import TracebackType
from typing import Self

from .http import Transport


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
