"""FastAPI: one CloudAgentClient per worker process, every worker sharing the account's rate
limit and API token through Redis.

    pip install 'ozoasync[redis]' fastapi uvicorn
    export OZONETEL_USERNAME=acme OZONETEL_API_KEY=... OZONETEL_AUTH=token
    export OZOASYNC_REDIS_URL=redis://localhost:6379/0
    uvicorn examples.fastapi_app:app --workers 4

    curl -X POST localhost:8000/erasures -H 'Content-Type: application/json' \\
         -d '{"campaign": "spring", "phone_number": "9876543210"}'
    curl -X POST localhost:8000/erasure-jobs -H 'Content-Type: application/json' \\
         -d '{"campaign": "spring", "phone_numbers": ["9876543210", "9876543211"]}'
    curl localhost:8000/erasure-jobs/JOB-NAME

``POST /erasures`` deletes one number while the caller waits, within a deadline.
``POST /erasure-jobs`` stores a bulk erasure as a durable job (``ozoasync.jobs``) and answers
at once; the worker process that took it works it in the background at the account's limit,
and a worker that restarts resumes every unfinished job. ``GET /erasure-jobs/{name}`` shows
its progress.

Environment: ``OZONETEL_USERNAME``, ``OZONETEL_API_KEY``, ``OZONETEL_AUTH`` (``api_key`` or
``token``), ``OZONETEL_REGION`` or ``OZONETEL_BASE_URL``, ``OZOASYNC_REDIS_URL``,
``OZOASYNC_REDIS_PREFIX`` (default ``ozoasync``), ``ERASURE_DEADLINE`` (seconds a request
may take, rate-limit queue included; default 10), ``ERASURE_JOBS`` (the job store: a SQLite
file, default ``erasure-jobs.db``, or a ``postgresql://`` URL for workers on several hosts)
and ``CAMPAIGN_DATA_RATE_LIMIT`` (``N/SECONDS``; default the vendor's ``100/60``; the same
in every worker).

The phone number travels in the request body, not the path, so that access logs do not
collect the numbers being erased.
"""

from __future__ import annotations

import asyncio
import logging
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
from ozoasync.jobs import Account, DeleteCampaignData, Job, JobNotFoundError, JobStore, open_store

log = logging.getLogger(__name__)


class Background:
    """Works jobs in this process, in the background, until the process stops (a stopped
    worker hands its numbers back to the store, for whoever works the job next)."""

    def __init__(self, store: JobStore, cloudagent: CloudAgentClient) -> None:
        self.store = store
        self.cloudagent = cloudagent
        self.tasks: set[asyncio.Task[object]] = set()

    def work(self, job: Job) -> None:
        task = asyncio.create_task(self.store.work(job, self.cloudagent))
        self.tasks.add(task)
        task.add_done_callback(self.finished)

    def finished(self, task: asyncio.Task[object]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("an erasure job stopped: %s", task.exception())

    async def resume(self) -> None:
        """Join every job that is not done yet (after a restart, say)."""
        for job in await self.store.jobs():
            if not (await self.store.status(job)).done:
                self.work(job)

    async def aclose(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


class State(TypedDict):
    cloudagent: CloudAgentClient
    deadline: float
    jobs: JobStore
    background: Background


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
        jobs = await open_store(env.get("ERASURE_JOBS", "erasure-jobs.db"))
        stack.push_async_callback(jobs.close)
        background = Background(jobs, cloudagent)
        stack.push_async_callback(background.aclose)  # first of all: stop working jobs
        await background.resume()
        yield {
            "cloudagent": cloudagent,
            "deadline": float(env.get("ERASURE_DEADLINE", "10")),
            "jobs": jobs,
            "background": background,
        }


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


class ErasureJob(BaseModel):
    campaign: str
    phone_numbers: list[str]
    name: str | None = None  # default: one job per campaign and account


@app.post("/erasure-jobs", status_code=202)
async def submit(erasure: ErasureJob, ca: CloudAgent, request: Request) -> dict[str, str]:
    """Store the numbers as a durable job and work it in the background. Submitting the
    same numbers again adds nothing: the store keeps each number of a job once."""
    state = request.state
    job = await state.jobs.submit(
        DeleteCampaignData(campaign=erasure.campaign),
        erasure.phone_numbers,
        account=Account.of(ca),
        name=erasure.name,
    )
    state.background.work(job)
    return {"job": job.name}


@app.get("/erasure-jobs/{name}")
async def job_status(name: str, request: Request) -> dict[str, Any]:
    status = await request.state.jobs.status(name)
    return {
        "done": status.done,
        "total": status.total,
        "finished": status.finished,
        "outcomes": {outcome.value: count for outcome, count in status.outcomes.items()},
        "eta_seconds": status.eta_seconds,
    }


@app.get("/healthz")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@app.exception_handler(OzoError)
async def ozoasync_error(request: Request, error: OzoError) -> JSONResponse:
    """ozoasync's errors as HTTP answers (their text never holds a key or token)."""
    headers = {}
    if isinstance(error, RequestValidationError | InvalidParameterError):
        status = 422  # a bad number, an unknown campaign
    elif isinstance(error, JobNotFoundError):
        status = 404
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
