"""Helpers of the iSales tests: fast retries and hand-made signed requests."""

from __future__ import annotations

from datetime import UTC, datetime

import aiohttp

from ozoasync import RetryPolicy
from ozoasync.isales import signing
from ozoasync.testing import FakeISales

FAST_RETRY = RetryPolicy(max_attempts=4, initial_delay=0.01, max_delay=0.05)


class RawSender:
    """Signs like the client, then sends whatever body and query it is told to."""

    def __init__(self, fake: FakeISales, session: aiohttp.ClientSession) -> None:
        self.fake = fake
        self.session = session

    def authorization(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        query: dict[str, str] | None = None,
        *,
        secret: str | None = None,
        timestamp: str | None = None,
    ) -> str:
        return signing.authorization(
            signing.Signable(method, path, query or {}, {"host": self.host}, body),
            app_key=self.fake.app_key,
            app_secret=secret or self.fake.app_secret,
            timestamp=timestamp or signing.format_timestamp(datetime.now(UTC)),
        )

    @property
    def host(self) -> str:
        return f"{self.fake.host}:{self.fake.port}"

    async def send(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        query: dict[str, str] | None = None,
        authorization: str | None = None,
    ) -> tuple[int, dict[str, str]]:
        """Send a request signed for exactly what is sent unless ``authorization`` is given;
        the HTTP status and the decoded answer."""
        header = authorization or self.authorization(method, path, body, query)
        async with self.session.request(
            method,
            self.fake.url + path,
            data=body or None,
            params=query,
            headers={
                "Host": self.host,
                "Authorization": header,
                "Content-Type": "application/json; charset=UTF-8",
            },
        ) as response:
            return response.status, await response.json(content_type=None)
