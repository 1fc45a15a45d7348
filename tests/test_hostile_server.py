"""The client against a hostile server on loopback: absurd Retry-After values, huge and
compressed bodies, a caller's session that raises for status, and a dead server."""

from __future__ import annotations

import asyncio
import gzip
import tracemalloc
import uuid
import zlib
from collections.abc import AsyncIterator

import aiohttp
import pytest
import redis.asyncio
from aiohttp import web
from hostile import HostileServer, closed_port, success

from ozoasync import (
    APIError,
    AuthenticationError,
    CampaignDataDeletion,
    CloudAgentClient,
    Hooks,
    InProcessCoordination,
    Outcome,
    RateLimit,
    RateLimitError,
    RateLimitWaitInfo,
    RedisCoordination,
    ResponseDecodeError,
    RetryPolicy,
    ServerError,
    ServerUnreachableError,
    TransportError,
)
from ozoasync.errors import MESSAGE_LIMIT

USER, KEY, CAMPAIGN = "acme", "k3y-0f-the-acc0unt", "spring"
MAX_RETRY_AFTER = 0.2
POLICY = RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.02, max_retry_after=0.2)
ONE_ATTEMPT = RetryPolicy(max_attempts=1, max_retry_after=MAX_RETRY_AFTER)
LIMIT = RateLimit(1000, 1.0)

# Retry-After values no client should obey: far too long, unreadable or impossible.
TOO_LONG = ["1000000000000", "Fri, 31 Dec 9999 23:59:59 GMT", "121"]
UNREADABLE = ["9" * 400, "-5", "inf", "nan", "garbage", "1e309"]


def numbers(count: int) -> list[str]:
    return [str(9_000_000_000 + i) for i in range(count)]


async def collect(
    stream: AsyncIterator[CampaignDataDeletion], into: list[CampaignDataDeletion]
) -> None:
    async for result in stream:
        into.append(result)


def client(server: HostileServer, **options: object) -> CloudAgentClient:
    settings: dict[str, object] = {
        "base_url": server.url,
        "retry": POLICY,
        "timeout": 2.0,
        "rate_limits": {"deleteCampaignData": LIMIT},
        "coordination": InProcessCoordination(),
        **options,
    }
    return CloudAgentClient(USER, KEY, **settings)  # type: ignore[arg-type]


class RateLimited(HostileServer):
    """429 with ``retry_after`` for the first ``times`` requests, or while ``limited``."""

    def __init__(self, retry_after: str, times: int = 1) -> None:
        super().__init__(self._answer)
        self.retry_after = retry_after
        self.times = times
        self.limited = False

    async def _answer(self, request: web.Request) -> web.Response:
        if self.limited or len(self.requests) <= self.times:
            return web.json_response(
                {"status": "error", "message": "Max limit exceeded"},
                status=429,
                headers={"Retry-After": self.retry_after},
            )
        return success()


# --- Retry-After --------------------------------------------------------------------------


@pytest.mark.parametrize("retry_after", TOO_LONG)
async def test_a_retry_after_longer_than_allowed_raises_at_once_and_holds_back_briefly(
    retry_after: str,
) -> None:
    waits: list[RateLimitWaitInfo] = []
    server = RateLimited(retry_after)
    async with server, client(server, hooks=Hooks(on_rate_limit_wait=waits.append)) as ca:
        with pytest.raises(RateLimitError) as raised:
            await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
        assert raised.value.attempts == 1
        assert raised.value.retry_after is not None
        assert raised.value.retry_after > 120
        # The next send waits for the push-back, which is at most max_retry_after.
        result = await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
    assert result.outcome is Outcome.DELETED
    assert waits[-1].waited <= MAX_RETRY_AFTER + 1.0


@pytest.mark.parametrize("retry_after", UNREADABLE)
async def test_an_unreadable_retry_after_falls_back_to_the_policys_back_off(
    retry_after: str,
) -> None:
    async with RateLimited(retry_after) as server, client(server) as ca:
        result = await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
    assert (result.outcome, result.attempts) == (Outcome.DELETED, 2)


@pytest.mark.parametrize("retry_after", TOO_LONG + UNREADABLE)
async def test_a_503_with_any_retry_after_raises_a_typed_error(retry_after: str) -> None:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=503, text="busy", headers={"Retry-After": retry_after})

    async with HostileServer(handle) as server, client(server) as ca:
        with pytest.raises(ServerError) as raised:
            await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
    assert raised.value.retry_after is None or raised.value.retry_after >= 0


async def test_delete_many_reports_every_input_under_absurd_retry_afters() -> None:
    async def handle(request: web.Request) -> web.Response:
        header = (TOO_LONG + UNREADABLE)[len(server.requests) % 9]
        return web.json_response(
            {"status": "error", "message": "Max limit exceeded"},
            status=429,
            headers={"Retry-After": header},
        )

    server = HostileServer(handle)
    async with server, client(server, retry=ONE_ATTEMPT) as ca:
        results = [r async for r in ca.campaign_data.delete_many(CAMPAIGN, numbers(30))]
    assert sorted(r.phone_number for r in results) == numbers(30)
    assert all(isinstance(r.error, RateLimitError) for r in results)


async def test_delete_many_stopped_after_absurd_retry_afters_carries_partial() -> None:
    async def handle(request: web.Request) -> web.Response:
        if len(server.requests) > 10:
            return web.json_response({"status": "error", "message": "Invalid User Details"})
        return web.json_response(
            {"status": "error", "message": "Max limit exceeded"},
            status=429,
            headers={"Retry-After": "9" * 400 if len(server.requests) % 2 else "1000000000000"},
        )

    server = HostileServer(handle)
    async with server, client(server, retry=ONE_ATTEMPT) as ca:
        results: list[CampaignDataDeletion] = []
        with pytest.raises(AuthenticationError) as raised:
            await collect(ca.campaign_data.delete_many(CAMPAIGN, numbers(100)), results)
    partial = raised.value.partial
    assert partial is not None
    assert partial.done == len(results)  # type: ignore[union-attr]
    assert len(results) == len(server.requests)


@pytest.fixture
async def redis_coordination() -> AsyncIterator[tuple[RedisCoordination, redis.asyncio.Redis, str]]:
    connection = redis.asyncio.Redis(host="127.0.0.1", port=6379)
    try:
        await connection.ping()
    except (redis.exceptions.ConnectionError, OSError):
        pytest.skip("no redis-server on 127.0.0.1:6379")
    prefix = f"ozoasync-test-{uuid.uuid4().hex}"
    coordination = RedisCoordination(connection, prefix=prefix)
    yield coordination, connection, prefix
    await coordination.aclose()
    keys = [key async for key in connection.scan_iter(match=f"{prefix}:*")]
    if keys:
        await connection.delete(*keys)
    await connection.aclose()


@pytest.mark.redis
@pytest.mark.parametrize(
    "retry_after", ["1000000000000", "9" * 400, "Fri, 31 Dec 9999 23:59:59 GMT"]
)
async def test_the_shared_push_back_is_bounded_on_redis(
    retry_after: str, redis_coordination: tuple[RedisCoordination, redis.asyncio.Redis, str]
) -> None:
    coordination, connection, prefix = redis_coordination
    server = RateLimited(retry_after)
    server.limited = True
    async with server, client(server, coordination=coordination) as ca:
        with pytest.raises(RateLimitError):
            await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
        server.limited = False
        state = [key async for key in connection.scan_iter(match=f"{prefix}:rate:*:state")]
        assert len(state) == 1
        ttl_ms = await connection.pttl(state[0])
        not_before = float(await connection.hget(state[0], "not_before") or 0)
        seconds, micros = await connection.time()
        # The state lives for the push-back plus the limit's horizon, never for years.
        assert 0 < ttl_ms <= (MAX_RETRY_AFTER + LIMIT.period + 2) * 1000
        assert not_before - (seconds * 1_000_000 + micros) <= MAX_RETRY_AFTER * 1_000_000
        result = await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
    assert result.ok


# --- bodies -------------------------------------------------------------------------------


def bomb(encoding: str, size: int = 200 * 1024 * 1024) -> bytes:
    """``size`` bytes of a JSON-looking body, compressed."""
    wbits = {"gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS, "raw": -zlib.MAX_WBITS}
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits[encoding])
    block = b" " * (1024 * 1024)
    parts = [compressor.compress(b'{"status":"success","message":"')]
    parts += [compressor.compress(block) for _ in range(size // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw"])
async def test_a_compression_bomb_stops_at_the_cap_with_memory_bounded(encoding: str) -> None:
    payload = bomb(encoding)

    async def handle(request: web.Request) -> web.Response:
        header = "deflate" if encoding == "raw" else encoding
        return web.Response(body=payload, headers={"Content-Encoding": header})

    server = HostileServer(handle)
    # A caller's session that would decompress on its own changes nothing.
    async with (
        server,
        aiohttp.ClientSession(auto_decompress=True) as session,
        client(server, session=session, retry=ONE_ATTEMPT) as ca,
    ):
        tracemalloc.start()
        try:
            with pytest.raises(ResponseDecodeError) as raised:
                await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert "max_response_bytes" in str(raised.value)
    assert len(raised.value.body) < 1000
    assert peak < 16 * 1024 * 1024


async def test_a_body_over_the_configured_cap_is_refused() -> None:
    async def handle(request: web.Request) -> web.Response:
        return web.json_response({"status": "success", "message": "x" * 5000})

    async with HostileServer(handle) as server:
        async with client(server, max_response_bytes=4096, retry=ONE_ATTEMPT) as ca:
            with pytest.raises(ResponseDecodeError) as raised:
                await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
        # A success body cut at the cap began as JSON: the server may have acted.
        assert raised.value.answer_lost
        async with client(server, max_response_bytes=8192) as ca:
            result = await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
    assert result.ok


async def test_compressed_answers_within_the_cap_are_read() -> None:
    async def handle(request: web.Request) -> web.Response:
        body = gzip.compress(b'{"status": "success", "message": "Deleted Successfully"}')
        return web.Response(body=body, headers={"Content-Encoding": "gzip"})

    async with HostileServer(handle) as server, client(server) as ca:
        result = await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
    assert (result.outcome, result.message) == (Outcome.DELETED, "Deleted Successfully")


async def test_an_unknown_content_encoding_is_a_decode_error() -> None:
    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=b"\x00\x01", headers={"Content-Encoding": "zstd"})

    async with HostileServer(handle) as server, client(server, retry=ONE_ATTEMPT) as ca:
        with pytest.raises(ResponseDecodeError, match="Content-Encoding"):
            await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])


async def test_huge_messages_are_truncated_in_results_and_errors() -> None:
    async def handle(request: web.Request) -> web.Response:
        failing = len(server.requests) % 2 == 0
        status = "error" if failing else "success"
        return web.json_response({"status": status, "message": "m" * 2_000_000})

    server = HostileServer(handle)
    async with server, client(server, max_response_bytes=4 * 1024 * 1024) as ca:
        result = await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
        with pytest.raises(APIError) as raised:
            await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
    assert result.ok
    assert len(result.message) < MESSAGE_LIMIT + 100
    assert len(str(raised.value)) < MESSAGE_LIMIT + 200
    assert len(raised.value.message) < MESSAGE_LIMIT + 100


async def test_the_attempt_timeout_covers_a_trickling_body() -> None:
    async def handle(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        await response.write(b'{"status": "success", "message": "')
        for _ in range(600):
            await response.write(b"x")
            await asyncio.sleep(0.05)
        return response

    server = HostileServer(handle)
    async with server, client(server, timeout=0.3, retry=ONE_ATTEMPT) as ca:
        with pytest.raises(TransportError, match="timed out"):
            await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])


# --- a caller's session that raises for status ----------------------------------------------


async def raise_on_error(response: aiohttp.ClientResponse) -> None:
    response.raise_for_status()


@pytest.mark.parametrize("raise_for_status", [True, raise_on_error])
async def test_a_sessions_raise_for_status_changes_nothing(raise_for_status: object) -> None:
    answers = {
        "401": lambda: web.json_response(
            {"status": "error", "message": "Invalid User Details"}, status=401
        ),
        "429": lambda: web.json_response(
            {"status": "error", "message": "Max limit exceeded"},
            status=429,
            headers={"Retry-After": "0.05"},
        ),
        "404": lambda: web.json_response(
            {"status": "error", "message": "No Record Found"}, status=404
        ),
    }
    kind = "401"

    async def handle(request: web.Request) -> web.Response:
        return answers[kind]()

    async with (
        HostileServer(handle) as server,
        aiohttp.ClientSession(raise_for_status=raise_for_status) as session,  # type: ignore[arg-type]
        client(server, session=session) as ca,
    ):
        with pytest.raises(AuthenticationError) as refused:
            await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
        assert (refused.value.attempts, len(server.requests)) == (1, 1)

        kind = "429"
        with pytest.raises(RateLimitError) as limited:
            await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
        assert limited.value.retry_after == 0.05
        assert limited.value.attempts == POLICY.max_attempts

        kind = "404"
        result = await ca.campaign_data.delete(CAMPAIGN, numbers(1)[0])
    assert result.outcome is Outcome.NOT_FOUND


# --- a dead server ---------------------------------------------------------------------------


# The rule is about failures, not pace: at the vendor's pace the same sends take 0.6 s each.
NO_LIMIT = {"deleteCampaignData": None}


def client_of_a_closed_port() -> CloudAgentClient:
    """A client of a loopback port nothing listens on, retrying fast, with no rate limit."""
    return CloudAgentClient(
        USER,
        KEY,
        base_url=f"http://127.0.0.1:{closed_port()}",
        retry=RetryPolicy(max_attempts=5, initial_delay=0.01, max_delay=0.05),
        timeout=2.0,
        rate_limits=NO_LIMIT,
    )


async def test_delete_many_against_a_closed_port_stops_as_unreachable() -> None:
    async with client_of_a_closed_port() as ca:
        results: list[CampaignDataDeletion] = []
        with pytest.raises(ServerUnreachableError) as raised:
            await collect(ca.campaign_data.delete_many(CAMPAIGN, numbers(200)), results)
    assert raised.value.partial is not None
    assert raised.value.partial.done == len(results)  # type: ignore[union-attr]
    # Stopped early: a few calls retried in full, then one attempt each.
    assert len(results) < 20
    assert all(isinstance(r.error, TransportError) for r in results)


async def test_after_three_unreachable_calls_the_next_fails_after_one_attempt() -> None:
    async with client_of_a_closed_port() as ca:
        errors = []
        for number in numbers(4):
            with pytest.raises(TransportError) as raised:
                await ca.campaign_data.delete(CAMPAIGN, number)
            errors.append(raised.value)
    assert [type(e) for e in errors] == [TransportError, TransportError] + [
        ServerUnreachableError
    ] * 2
    assert [e.attempts for e in errors] == [5, 5, 5, 1]


async def test_a_flaky_gateway_does_not_count_as_unreachable() -> None:
    async def handle(request: web.Request) -> web.Response:
        if len(server.requests) % 3 == 0:
            await asyncio.sleep(1.0)  # a timeout
        return web.Response(status=503, text="<html>busy</html>")

    server = HostileServer(handle)
    fast = RetryPolicy(max_attempts=2, initial_delay=0.01, max_delay=0.02)
    async with server, client(server, retry=fast, timeout=0.2) as ca:
        results = [r async for r in ca.campaign_data.delete_many(CAMPAIGN, numbers(40))]
    assert len(results) == 40
    assert not any(isinstance(r.error, ServerUnreachableError) for r in results)


# --- the first request goes alone ------------------------------------------------------------


async def test_delete_many_sends_one_request_when_the_key_is_wrong() -> None:
    async def handle(request: web.Request) -> web.Response:
        return web.json_response({"status": "error", "message": "Invalid User Details"})

    server = HostileServer(handle)
    async with server, client(server) as ca:
        with pytest.raises(AuthenticationError) as raised:
            await collect(ca.campaign_data.delete_many(CAMPAIGN, numbers(100), concurrency=8), [])
    assert len(server.requests) == 1
    assert raised.value.partial is not None
    assert raised.value.partial.done == 1  # type: ignore[union-attr]
