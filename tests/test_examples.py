"""The recipes in examples/ work as their users run them: the bulk script as a process, the
FastAPI app under uvicorn with two worker processes sharing one account through Redis, the
aiohttp app in an aiohttp server; all against the CloudAgent emulator over loopback HTTP."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
import redis.asyncio
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from examples_helpers import EXAMPLES, environment, redis_is_up, run, uvicorn

from examples.aiohttp_app import CLOUDAGENT, create_app
from ozoasync.testing import FakeCloudAgent, Fault

# --- examples/bulk_cleanup.py ---------------------------------------------------------------


def write_numbers(path: Path, numbers: list[str]) -> str:
    path.write_text("".join(f"{number}\n" for number in numbers))
    return str(path)


async def test_the_bulk_script_deletes_a_file_of_numbers_and_sums_up(tmp_path: Path) -> None:
    numbers = [str(9_800_000_000 + i) for i in range(40)]
    async with FakeCloudAgent(rate_limits={"deleteCampaignData": (100, 1.0)}) as fake:
        fake.add_campaign("spring", numbers[:35])
        fake.faults.queue(Fault.SERVER_ERROR, endpoint="deleteCampaignData")
        path = write_numbers(tmp_path / "numbers.txt", [*numbers, "", "not-a-number"])
        done = await run(
            str(EXAMPLES / "bulk_cleanup.py"),
            path,
            "--campaign",
            "spring",
            "--rate-limit",
            "100/1",
            env=environment(fake),
        )
        assert fake.campaigns["spring"] == set()
        assert fake.counters["rejected"] == 0
    assert done.returncode == 1, done.stderr  # one number failed
    lines = done.stdout.splitlines()
    assert lines[0].startswith("failed: not-a-number: ")
    assert lines[-1] == "41 numbers: 35 deleted, 5 already gone, 1 failed"
    assert done.stderr.splitlines()[-1].startswith(
        "41 done: 35 deleted, 5 already gone, 1 failed, "
    )


async def test_the_bulk_script_stops_on_refused_credentials(tmp_path: Path) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring", ["9876543210"])
        path = write_numbers(tmp_path / "numbers.txt", ["9876543210", "9876543211"])
        env = environment(fake, OZONETEL_API_KEY="KK-wrong", OZONETEL_CAMPAIGN="spring")
        done = await run(str(EXAMPLES / "bulk_cleanup.py"), path, env=env)
        assert fake.campaigns["spring"] == {"9876543210"}
    assert done.returncode == 2, done.stderr
    assert done.stdout.splitlines()[-1].startswith("stopped early: ")
    assert "KK-wrong" not in done.stdout + done.stderr


async def test_the_bulk_script_wants_a_campaign_and_credentials(tmp_path: Path) -> None:
    path = write_numbers(tmp_path / "numbers.txt", ["9876543210"])
    async with FakeCloudAgent() as fake:
        no_campaign = await run(str(EXAMPLES / "bulk_cleanup.py"), path, env=environment(fake))
        env = environment(fake)
        del env["OZONETEL_API_KEY"]
        no_key = await run(str(EXAMPLES / "bulk_cleanup.py"), path, "--campaign", "c", env=env)
        assert fake.requests == []
    assert no_campaign.returncode == 2
    assert "--campaign (or OZONETEL_CAMPAIGN) is required" in no_campaign.stderr
    assert no_key.returncode == 2
    assert "set OZONETEL_API_KEY in the environment" in no_key.stderr


# --- examples/aiohttp_app.py ----------------------------------------------------------------


@asynccontextmanager
async def aiohttp_app(
    monkeypatch: pytest.MonkeyPatch, fake: FakeCloudAgent, **settings: str
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    for name, value in environment(fake, **settings).items():
        monkeypatch.setenv(name, value)
    async with TestClient(TestServer(create_app())) as client:
        yield client


async def test_the_aiohttp_app_erases_numbers_and_answers_errors_as_http(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with FakeCloudAgent(auth_mode="token") as fake:
        fake.add_campaign("spring", ["9876543210"])
        async with aiohttp_app(monkeypatch, fake, CAMPAIGN_DATA_RATE_LIMIT="100/1") as client:
            answers = []
            for campaign, number in [
                ("spring", "9876543210"),
                ("spring", "9876543210"),
                ("spring", "not-a-number"),
                ("autumn", "9876543210"),
            ]:
                response = await client.post(
                    "/erasures", json={"campaign": campaign, "phone_number": number}
                )
                answers.append((response.status, await response.json()))
            ca = client.app[CLOUDAGENT]
        assert fake.campaigns["spring"] == set()
        assert fake.tokens_generated == 1
    (deleted, deleted_body), (gone, gone_body), (invalid, invalid_body), (unknown, unknown_body) = (
        answers
    )
    assert (deleted, deleted_body["outcome"]) == (200, "deleted")
    assert (gone, gone_body["outcome"]) == (200, "not_found")
    assert (invalid, invalid_body["error"]) == (422, "RequestValidationError")
    assert (unknown, unknown_body["error"]) == (422, "InvalidParameterError")
    # cleanup_ctx closed the client with the application.
    with pytest.raises(RuntimeError, match="closed"):
        await ca.campaign_data.delete("spring", "9876543210")


async def test_the_aiohttp_app_answers_503_unsent_when_the_deadline_cannot_be_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    numbers = [str(9_800_000_000 + i) for i in range(4)]
    async with FakeCloudAgent(rate_limits={"deleteCampaignData": (2, 1.0)}) as fake:
        fake.add_campaign("spring", numbers)
        settings = {"CAMPAIGN_DATA_RATE_LIMIT": "2/1", "ERASURE_DEADLINE": "0.8"}
        async with aiohttp_app(monkeypatch, fake, **settings) as client:
            responses = await asyncio.gather(
                *(
                    client.post("/erasures", json={"campaign": "spring", "phone_number": n})
                    for n in numbers
                )
            )
            statuses = sorted(response.status for response in responses)
        sent = [r for r in fake.requests if r.endpoint == "deleteCampaignData"]
        assert fake.counters["rejected"] == 0
    # A slot every 0.51 s, the first one interval after start: one fits in 0.8 s, the
    # later ones would not and are refused without being sent.
    assert statuses.count(200) >= 1
    assert statuses.count(503) >= 2
    assert set(statuses) <= {200, 503}
    assert len(sent) == statuses.count(200)
    assert len(fake.campaigns["spring"]) == statuses.count(503)


# --- examples/fastapi_app.py under uvicorn ---------------------------------------------------


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    if not redis_is_up():
        pytest.skip("no redis-server on 127.0.0.1:6379")
    prefix = f"ozoasync-test-{uuid.uuid4().hex}"
    yield prefix
    client = redis.asyncio.Redis(host="127.0.0.1", port=6379)
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.mark.redis
async def test_the_fastapi_app_under_uvicorn_with_two_workers_keeps_one_limit_and_one_token(
    tmp_path: Path, redis_prefix: str
) -> None:
    seeded = [str(9_800_000_000 + i) for i in range(400)]
    job_numbers, numbers = seeded[:30], iter(seeded[30:])
    limit = (20, 1.0)  # the emulator rejects the 21st arrival in any second
    async with FakeCloudAgent(auth_mode="token", rate_limits={"deleteCampaignData": limit}) as fake:
        fake.add_campaign("spring", seeded)
        env = environment(
            fake,
            OZOASYNC_REDIS_URL="redis://127.0.0.1:6379/0",
            OZOASYNC_REDIS_PREFIX=redis_prefix,
            CAMPAIGN_DATA_RATE_LIMIT="20/1",
            ERASURE_DEADLINE="60",
            ERASURE_JOBS=str(tmp_path / "jobs.db"),
        )
        log = tmp_path / "uvicorn.log"
        async with (
            uvicorn("examples.fastapi_app:app", workers=2, env=env, log=log) as url,
            # A connection per request: the two workers take them in turn from one socket.
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as http,
        ):

            async def erase(number: str) -> tuple[int, str, str]:
                body = {"campaign": "spring", "phone_number": number}
                async with http.post(f"{url}/erasures", json=body) as response:
                    answer = await response.json()
                    return response.status, answer.get("outcome"), response.headers["X-Worker-Pid"]

            # A bulk job, worked in the background by the worker that took it...
            body = {"campaign": "spring", "phone_numbers": job_numbers}
            async with http.post(f"{url}/erasure-jobs", json=body) as response:
                assert response.status == 202, await response.text()
                job = (await response.json())["job"]
            # ... while erasures arrive at both workers, all at once.
            answers = await asyncio.gather(*(erase(next(numbers)) for _ in range(40)))
            # Until both workers have answered (the kernel decides who accepts), more waves.
            for _ in range(10):
                if len({pid for _, _, pid in answers}) >= 2:
                    break
                answers += await asyncio.gather(*(erase(next(numbers)) for _ in range(10)))
            async with asyncio.timeout(60):
                while True:
                    async with http.get(f"{url}/erasure-jobs/{job}") as response:
                        status = await response.json()
                    if status["done"]:
                        break
                    await asyncio.sleep(0.2)
        sent = [r for r in fake.requests if r.endpoint == "deleteCampaignData"]
        assert fake.tokens_generated == 1, log.read_text()
        assert fake.counters["rejected"] == 0
        assert not [r for r in fake.requests if r.rejected]
        assert fake.campaigns["spring"] == set(seeded[30 + len(answers) :])
    assert {(status, outcome) for status, outcome, _ in answers} == {(200, "deleted")}
    assert len({pid for _, _, pid in answers}) == 2
    assert (status["total"], status["finished"], status["outcomes"]) == (30, 30, {"deleted": 30})
    assert len(sent) == len(answers) + len(job_numbers)
    # The emulator counts on arrival in a sliding window; check it from the arrivals too.
    busiest = max(
        sum(1 for r in sent if first.arrived <= r.arrived < first.arrived + limit[1])
        for first in sent
    )
    assert busiest <= limit[0]
