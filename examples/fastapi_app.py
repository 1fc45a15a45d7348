"""FastAPI: one CloudAgentClient per worker process, every worker sharing the account's rate
limit and API token through Redis.

    pip install 'ozoasync[redis]' fastapi uvicorn
    export OZONETEL_USERNAME=acme OZONETEL_API_KEY=... OZONETEL_AUTH=token
    export OZOASYNC_REDIS_URL=redis://localhost:6379/0
    uvicorn examples.fastapi_app:app --workers 4

    curl -X POST localhost:8000/erasures -H 'Content-Type: application/json' \\
         -d '{"campaign": "spring", "phone_number": "9876543210"}'

Environment: ``OZONETEL_USERNAME``, ``OZONETEL_API_KEY``, ``OZONETEL_AUTH`` (``api_key`` or
``token``), ``OZONETEL_REGION`` or ``OZONETEL_BASE_URL``, ``OZOASYNC_REDIS_URL``,
``OZOASYNC_REDIS_PREFIX`` (default ``ozoasync``), ``ERASURE_DEADLINE`` (seconds a request
may take, rate-limit queue included; default 10) and ``CAMPAIGN_DATA_RATE_LIMIT``
(``N/SECONDS``; default the vendor's ``100/60``; the same in every worker).

The phone number travels in the request body, not the path, so that access logs do not
collect the numbers being erased.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Annotated, Any, TypedDict, cast

import redis.asyncio
from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ozoasync import (
    CloudAgentClient,
    InvalidParameterError,
    OzoError,
    RateLimit,
    RateLimitError,
    RedisCoordination,
    RequestValidationError,
)


class State(TypedDict):
    cloudagent: CloudAgentClient
    deadline: float


def rate_limit(text: str) -> RateLimit:
    """``"100/60"``: 100 requests per 60 seconds."""
    count, _, seconds = text.partition("/")
    return RateLimit(int(count), float(seconds))


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[State]:
    # Runs once in every worker process: one client (one HTTP session, one schedule) per
    # process, shared by all its requests; Redis makes the workers one sender.
    env = os.environ
    async with AsyncExitStack() as stack:
        redis_client = redis.asyncio.Redis.from_url(env["OZOASYNC_REDIS_URL"])
        stack.push_async_callback(redis_client.aclose)
        coordination = RedisCoordination(
            redis_client, prefix=env.get("OZOASYNC_REDIS_PREFIX", "ozoasync")
        )
        stack.push_async_callback(coordination.aclose)
        cloudagent = await stack.enter_async_context(
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
        yield {"cloudagent": cloudagent, "deadline": float(env.get("ERASURE_DEADLINE", "10"))}


app = FastAPI(lifespan=lifespan)


def cloudagent(request: Request) -> CloudAgentClient:
    return cast(CloudAgentClient, request.state.cloudagent)


CloudAgent = Annotated[CloudAgentClient, Depends(cloudagent)]


class Erasure(BaseModel):
    campaign: str
    phone_number: str


@app.post("/erasures")
async def erase(erasure: Erasure, ca: CloudAgent, request: Request, response: Response) -> Any:
    """Delete one number from a campaign's dialer data, within the deadline."""
    result = await ca.with_options(deadline=request.state.deadline).campaign_data.delete(
        erasure.campaign, erasure.phone_number
    )
    # Which worker answered: lets you watch the load spread over the processes.
    response.headers["X-Worker-Pid"] = str(os.getpid())
    return {"outcome": result.outcome, "message": result.message, "attempts": result.attempts}


@app.get("/healthz")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.exception_handler(OzoError)
async def ozoasync_error(request: Request, error: OzoError) -> JSONResponse:
    """ozoasync's errors as HTTP answers (their text never holds a key or token)."""
    headers = {}
    if isinstance(error, RequestValidationError | InvalidParameterError):
        status = 422  # a bad number, an unknown campaign
    elif isinstance(error, RateLimitError):
        # The deadline passed before a slot was free (nothing was sent), or the vendor kept
        # refusing: come back later.
        status = 503
        if error.retry_after is not None:
            headers["Retry-After"] = str(max(1, round(error.retry_after)))
    else:
        status = 502  # the vendor, or the way to it, failed (our credentials included)
    body = {"error": type(error).__name__, "message": str(error)}
    return JSONResponse(body, status_code=status, headers=headers)
