"""``deadline=``: a bound on a call's whole time, rate-limit wait included; per call through
``with_options``; in one process and through Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio
from aiohttp import web
from hostile import HostileServer, success

from ozoasync import (
    CloudAgentClient,
    Coordination,
    DeadlineExceededError,
    Hooks,
    InProcessCoordination,
    RateLimit,
    RateLimitWaitInfo,
    RedisCoordination,
    RetryPolicy,
    ServerError,
    TransportError,
)

USER, KEY, CAMPAIGN = "acme", "k3y-0f-the-acc0unt", "spring"
ONE_PER_SECOND = RateLimit(1, 1.0)
NO_LIMIT: dict[str, RateLimit | None] = {"deleteCampaignData": None}


@pytest.fixture(params=["in-process", "redis"])
async def coordination(request: pytest.FixtureRequest) -> AsyncIterator[Coordination]:
    if request.param == "in-process":
        yield InProcessCoordination()
        return
    connection = redis.asyncio.Redis(host="127.0.0.1", port=6379)
    try:
        await connection.ping()
    except (redis.exceptions.ConnectionError, OSError):
        pytest.skip("no redis-server on 127.0.0.1:6379")
    prefix = f"ozoasync-test-{uuid.uuid4().hex}"
    shared = RedisCoordination(connection, prefix=prefix)
    yield shared
    await shared.aclose()
    keys = [key async for key in connection.scan_iter(match=f"{prefix}:*")]
    if keys:
        await connection.delete(*keys)
    await connection.aclose()


async def test_a_deadline_before_the_slot_raises_unsent_and_frees_the_slot(
    coordination: Coordination,
) -> None:
    waits: list[RateLimitWaitInfo] = []
    async with (
        HostileServer() as server,
        CloudAgentClient(
            USER,
            KEY,
            base_url=server.url,
            rate_limits={"deleteCampaignData": ONE_PER_SECOND},
            coordination=coordination,
            hooks=Hooks(on_rate_limit_wait=waits.append),
        ) as ca,
    ):
        await ca.campaign_data.delete(CAMPAIGN, "9000000001")
        with pytest.raises(DeadlineExceededError) as raised:
            await ca.with_options(deadline=0.2).campaign_data.delete(CAMPAIGN, "9000000002")
        assert (raised.value.attempts, len(server.requests)) == (0, 1)
        # The next caller takes the slot the abandoned one would have had (about one
        # interval after the first send), not the one after it.
        result = await ca.campaign_data.delete(CAMPAIGN, "9000000003")
    assert result.ok
    assert len(server.requests) == 2
    assert waits[-1].waited < 1.5 * ONE_PER_SECOND.window


async def test_retries_stop_before_the_deadline() -> None:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=503, text="busy")

    patient = RetryPolicy(max_attempts=50, initial_delay=0.1, max_delay=0.1)
    async with (
        HostileServer(handle) as server,
        CloudAgentClient(
            USER, KEY, base_url=server.url, retry=patient, deadline=0.5, rate_limits=NO_LIMIT
        ) as ca,
    ):
        with pytest.raises(ServerError) as raised:
            await ca.campaign_data.delete(CAMPAIGN, "9000000001")
    # Sleeps of at least 0.05 s each: no more than ten fit before the deadline.
    assert 1 < raised.value.attempts <= 10
    assert len(server.requests) == raised.value.attempts


async def test_an_attempts_timeout_is_cut_to_the_time_left() -> None:
    async def handle(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return success()

    async with (
        HostileServer(handle) as server,
        CloudAgentClient(
            USER,
            KEY,
            base_url=server.url,
            timeout=60.0,
            retry=RetryPolicy(max_attempts=1),
            rate_limits=NO_LIMIT,
        ) as ca,
    ):
        with pytest.raises(TransportError, match="timed out"):
            await asyncio.wait_for(
                ca.with_options(deadline=0.3).campaign_data.delete(CAMPAIGN, "9000000001"), 20
            )


@pytest.mark.parametrize("deadline", [0, -1, float("inf"), float("nan"), True, "5"])
def test_impossible_deadlines_are_refused(deadline: object) -> None:
    from ozoasync import RequestValidationError

    with pytest.raises(RequestValidationError, match="deadline"):
        CloudAgentClient(USER, KEY, deadline=deadline)  # type: ignore[arg-type]
    with pytest.raises(RequestValidationError, match="deadline"):
        CloudAgentClient(USER, KEY).with_options(deadline=deadline)  # type: ignore[arg-type]
