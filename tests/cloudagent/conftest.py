"""Fixtures of the CloudAgent tests: a client factory and a scripted loopback server.

The scripted server (``stub``) answers whatever body a test quotes, over real HTTP, for the
cases the emulator is not meant to produce (a server that keeps rejecting fresh tokens, an
undocumented body shape); everything else runs against ``FakeCloudAgent``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from ozoasync import CloudAgentClient, InProcessCoordination, RetryPolicy
from ozoasync.testing._server import EmulatorServer

USERNAME = "demo"
API_KEY = "KK-demo-key"

Body = bytes | Callable[[], bytes]


class StubServer(EmulatorServer):
    """Answers each endpoint (last path segment) with the body scripted for it; records every
    request like the emulators do. An endpoint with no script answers 404."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: dict[str, tuple[int, Body]] = {}

    def answer(self, endpoint: str, body: Body, status: int = 200) -> None:
        """Answer ``endpoint`` with ``body`` (bytes, or a function making them per request)."""
        self.scripts[endpoint] = (status, body)

    def routes(self) -> list[web.RouteDef]:
        return [web.route("*", "/{tail:.*}", self._answer)]

    async def _answer(self, request: web.Request) -> web.Response:
        script = self.scripts.get(self.endpoint_of(request))
        if script is None:
            raise web.HTTPNotFound()
        status, body = script
        payload = body() if callable(body) else body
        return web.Response(status=status, body=payload, content_type="application/json")


@pytest.fixture
async def stub() -> AsyncIterator[StubServer]:
    async with StubServer() as server:
        yield server


ClientFactory = Callable[..., CloudAgentClient]


@pytest.fixture
async def make_client() -> AsyncIterator[ClientFactory]:
    """``make_client(url, **overrides)``: a client with test defaults (fast retries, no
    client-side rate limit, its own coordination), closed after the test."""
    made: list[CloudAgentClient] = []

    def factory(url: str, **overrides: Any) -> CloudAgentClient:
        options: dict[str, Any] = {
            "base_url": url,
            "retry": RetryPolicy(max_attempts=5, initial_delay=0.01, max_delay=0.05),
            "timeout": 2.0,
            "rate_limits": {"deleteCampaignData": None},
            "coordination": InProcessCoordination(),
        }
        options.update(overrides)
        client = CloudAgentClient(
            options.pop("username", USERNAME), options.pop("api_key", API_KEY), **options
        )
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()
