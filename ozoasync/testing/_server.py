"""What every emulator shares: a real loopback HTTP server, a record of every request,
strict per-endpoint rate limits counted on arrival, and fault injection."""

from __future__ import annotations

import asyncio
import math
import random
import ssl
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Literal, Self

import msgspec
from aiohttp import web

from .faults import Fault, FaultPlan
from .readings import SlidingLog

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
RateLimitAnswer = Literal["429", "body"]

_GATEWAY_PAGE = (
    "<html><head><title>503 Service Temporarily Unavailable</title></head><body>"
    "<center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
)
_GATEWAY_TIMEOUT_PAGE = (
    "<html><head><title>504 Gateway Time-out</title></head><body>"
    "<center><h1>504 Gateway Time-out</h1></center></body></html>"
)
_PROXY_PAGE = "<html><body><h1>Please wait while we check your browser...</h1></body></html>"


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the emulator saw it. ``arrived`` is ``time.monotonic()`` when the whole
    request had arrived (after the emulator's arrival jitter, if any); ``fault`` is the fault
    injected into it, ``rejected`` whether the rate limit refused it."""

    method: str
    path: str
    endpoint: str
    headers: dict[str, str]
    body: bytes
    arrived: float
    fault: Fault | None = None
    rejected: bool = False

    def json(self) -> Any:
        """The body decoded as JSON (None when it is not JSON)."""
        try:
            return msgspec.json.decode(self.body)
        except msgspec.DecodeError:
            return None


class EmulatorServer:
    """Base of the emulators: ``async with Fake(...) as fake: fake.url``."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limits: dict[str, tuple[int, float]] | None = None,
        rate_limit_answer: RateLimitAnswer = "429",
        faults: FaultPlan | None = None,
        ssl_context: ssl.SSLContext | None = None,
        arrival_jitter: float = 0.0,
    ) -> None:
        if not arrival_jitter >= 0:
            raise ValueError("arrival_jitter must be a non-negative number of seconds")
        self.host = host
        self.port = port
        #: Serve HTTPS with this context (HTTP when None).
        self.ssl_context = ssl_context
        #: Strict limits: every arrival counts, rejected ones too.
        self.limits = {
            name: SlidingLog(count, period, count_rejected=True)
            for name, (count, period) in (rate_limits or {}).items()
        }
        #: Each request is held up to this many seconds (uniformly drawn) before it counts as
        #: arrived: the varying network delay between a client's send and the server.
        self.arrival_jitter = arrival_jitter
        self.rate_limit_answer = rate_limit_answer
        self.faults = faults or FaultPlan()
        self.requests: list[RecordedRequest] = []
        self.counters: Counter[str] = Counter()
        self._runner: web.AppRunner | None = None

    # --- for subclasses ---------------------------------------------------------------------

    def routes(self) -> list[web.RouteDef]:
        raise NotImplementedError

    def endpoint_of(self, request: web.Request) -> str:
        """The endpoint name a request is counted under (the last path segment by default)."""
        return request.path.rstrip("/").rsplit("/", 1)[-1]

    def too_many_requests(self, retry_after: str) -> web.Response:
        """The vendor's HTTP 429, with ``retry_after`` as its ``Retry-After`` header."""
        raise NotImplementedError

    def rate_limited_answer(self, retry_after: float) -> web.Response:
        """The answer to an arrival over the strict limit, ``retry_after`` s from a free slot."""
        return self.too_many_requests(retry_after_header(retry_after))

    # --- lifecycle --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The base URL to give a client."""
        if self._runner is None:
            raise RuntimeError("the emulator is not running: use 'async with'")
        scheme = "https" if self.ssl_context is not None else "http"
        return f"{scheme}://{self.host}:{self.port}"

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port, ssl_context=self.ssl_context)
        await site.start()
        server = site._server
        assert server is not None
        assert isinstance(server, asyncio.Server)
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def requests_to(self, endpoint: str) -> list[RecordedRequest]:
        """The recorded requests to one endpoint, in arrival order."""
        return [r for r in self.requests if r.endpoint == endpoint]

    # --- the pipeline every request goes through ----------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        if self.arrival_jitter:
            await asyncio.sleep(random.uniform(0, self.arrival_jitter))
        # No await from here to the limit: arrivals are counted in the order they are timed.
        arrived = time.monotonic()
        endpoint = self.endpoint_of(request)
        self.counters["requests"] += 1
        limit = self.limits.get(endpoint)
        retry_after = None
        if limit is not None and not limit.admit(arrived):
            retry_after = limit.retry_after(arrived)
        fault = None if retry_after is not None else self.faults.choose(endpoint)
        self.requests.append(
            RecordedRequest(
                request.method,
                request.path,
                endpoint,
                dict(request.headers),
                body,
                arrived,
                fault,
                rejected=retry_after is not None,
            )
        )
        if retry_after is not None:
            self.counters["rejected"] += 1
            return self.rate_limited_answer(retry_after)
        if fault is None:
            return await handler(request)
        self.counters[f"fault:{fault.value}"] += 1
        if fault is Fault.SERVER_ERROR:
            page = web.Response(status=503, text=_GATEWAY_PAGE, content_type="text/html")
            if self.faults.retry_after is not None:
                page.headers["Retry-After"] = self.faults.retry_after
            return page
        if fault is Fault.RATE_LIMITED:
            return self.too_many_requests(self.faults.retry_after or "1")
        if fault is Fault.HTML:
            return web.Response(status=200, text=_PROXY_PAGE, content_type="text/html")
        if fault is Fault.DROP_BEFORE:
            return _drop(request)
        response = await handler(request)
        if fault is Fault.DROP_AFTER:
            return _drop(request)
        if fault is Fault.SLOW:
            await asyncio.sleep(self.faults.slow_delay)
            return response
        if fault is Fault.GATEWAY_TIMEOUT:
            return web.Response(status=504, text=_GATEWAY_TIMEOUT_PAGE, content_type="text/html")
        assert fault is Fault.TRUNCATED
        assert isinstance(response, web.Response)
        full = response.body if isinstance(response.body, bytes) else b"{}"
        return web.Response(
            status=response.status, body=full[: len(full) // 2], content_type="application/json"
        )


def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer."""
    if request.transport is not None:
        request.transport.close()
    return web.Response(status=500)


def retry_after_header(seconds: float) -> str:
    """Whole seconds, rounded up (never 0: a client would retry at once)."""
    return str(max(1, math.ceil(seconds - 1e-6)))


def json_response(payload: object, status: int = 200) -> web.Response:
    return web.Response(
        status=status, body=msgspec.json.encode(payload), content_type="application/json"
    )
