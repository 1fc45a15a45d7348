"""aiohttp.web: the client opened and closed with the application through ``cleanup_ctx``.

    pip install ozoasync
    export OZONETEL_USERNAME=acme OZONETEL_API_KEY=...
    python -m aiohttp.web -H 127.0.0.1 -P 8080 examples.aiohttp_app:create_app

    curl -X POST localhost:8080/erasures -H 'Content-Type: application/json' \\
         -d '{"campaign": "spring", "phone_number": "9876543210"}'

Environment: ``OZONETEL_USERNAME``, ``OZONETEL_API_KEY``, ``OZONETEL_AUTH`` (``api_key`` or
``token``), ``OZONETEL_REGION`` or ``OZONETEL_BASE_URL``, ``ERASURE_DEADLINE`` (seconds a
request may take, rate-limit queue included; default 10) and ``CAMPAIGN_DATA_RATE_LIMIT``
(``N/SECONDS``; default the vendor's ``100/60``). With ``OZOASYNC_REDIS_URL`` (and
``pip install 'ozoasync[redis]'``), every process on that Redis shares the account's rate
limit and token; without it, keep to one process.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from typing import Any

from aiohttp import web

from ozoasync import (
    CloudAgentClient,
    Coordination,
    InvalidParameterError,
    OzoError,
    RateLimit,
    RateLimitError,
    RequestValidationError,
)

CLOUDAGENT = web.AppKey("cloudagent", CloudAgentClient)
DEADLINE = web.AppKey("deadline", float)


def rate_limit(text: str) -> RateLimit:
    """``"100/60"``: 100 requests per 60 seconds."""
    count, _, seconds = text.partition("/")
    return RateLimit(int(count), float(seconds))


async def shared_coordination(stack: AsyncExitStack, redis_url: str) -> Coordination:
    import redis.asyncio

    from ozoasync import RedisCoordination

    redis_client = redis.asyncio.Redis.from_url(redis_url)
    stack.push_async_callback(redis_client.aclose)
    coordination = RedisCoordination(
        redis_client, prefix=os.environ.get("OZOASYNC_REDIS_PREFIX", "ozoasync")
    )
    stack.push_async_callback(coordination.aclose)
    return coordination


async def cloudagent(app: web.Application) -> AsyncIterator[None]:
    """Opens the client when the application starts, closes it when it stops."""
    env = os.environ
    async with AsyncExitStack() as stack:
        redis_url = env.get("OZOASYNC_REDIS_URL")
        coordination = await shared_coordination(stack, redis_url) if redis_url else None
        app[CLOUDAGENT] = await stack.enter_async_context(
            CloudAgentClient(
                env["OZONETEL_USERNAME"],
                env["OZONETEL_API_KEY"],
                auth="token" if env.get("OZONETEL_AUTH") == "token" else "api_key",
                region="international"
                if env.get("OZONETEL_REGION") == "international"
                else "domestic",
                base_url=env.get("OZONETEL_BASE_URL"),
                coordination=coordination,
                rate_limits={
                    "deleteCampaignData": rate_limit(env.get("CAMPAIGN_DATA_RATE_LIMIT", "100/60"))
                },
            )
        )
        app[DEADLINE] = float(env.get("ERASURE_DEADLINE", "10"))
        yield


async def erase(request: web.Request) -> web.Response:
    """POST {"campaign": ..., "phone_number": ...}: delete one number, within the deadline."""
    erasure: dict[str, Any] = await request.json()
    ca = request.app[CLOUDAGENT].with_options(deadline=request.app[DEADLINE])
    result = await ca.campaign_data.delete(erasure["campaign"], erasure["phone_number"])
    return web.json_response(
        {"outcome": result.outcome, "message": result.message, "attempts": result.attempts}
    )


@web.middleware
async def ozoasync_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """ozoasync's errors as HTTP answers (their text never holds a key or token)."""
    try:
        response: web.StreamResponse = await handler(request)
    except OzoError as error:
        headers = {}
        if isinstance(error, RequestValidationError | InvalidParameterError):
            status = 422  # a bad number, an unknown campaign
        elif isinstance(error, RateLimitError):
            # The deadline passed before a slot was free (nothing was sent), or the vendor
            # kept refusing: come back later.
            status = 503
            if error.retry_after is not None:
                headers["Retry-After"] = str(max(1, round(error.retry_after)))
        else:
            status = 502  # the vendor, or the way to it, failed (our credentials included)
        body = {"error": type(error).__name__, "message": str(error)}
        return web.json_response(body, status=status, headers=headers)
    return response


def create_app(argv: list[str] | None = None) -> web.Application:
    """The application (``argv`` is what ``python -m aiohttp.web`` passes; unused)."""
    app = web.Application(middlewares=[ozoasync_errors])
    app.cleanup_ctx.append(cloudagent)
    app.router.add_post("/erasures", erase)
    return app


if __name__ == "__main__":
    web.run_app(create_app(), host="127.0.0.1", port=8080)
