"""``with_options`` views share the client's limit and token; hooks see attempts, waits and
give-ups, and never a phone number or a secret."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from hostile import HostileServer

from ozoasync import (
    AttemptInfo,
    CloudAgentClient,
    GiveUpInfo,
    Hooks,
    InProcessCoordination,
    RateLimit,
    RateLimitWaitInfo,
    RetryPolicy,
    ServerError,
)
from ozoasync.testing import FakeCloudAgent

CAMPAIGN = "spring"
NUMBERS = [str(9_000_000_000 + i) for i in range(12)]


async def test_views_share_one_limit_and_one_token() -> None:
    async with FakeCloudAgent(
        auth_mode="token", rate_limits={"deleteCampaignData": (4, 1.0)}
    ) as fake:
        fake.add_campaign(CAMPAIGN, NUMBERS)
        async with CloudAgentClient(
            fake.username,
            fake.api_key,
            auth="token",
            base_url=fake.url,
            rate_limits={"deleteCampaignData": RateLimit(4, 1.0)},
            coordination=InProcessCoordination(),
        ) as ca:
            views = [
                ca,
                ca.with_options(timeout=5.0),
                ca.with_options(retry=RetryPolicy(max_attempts=2)),
                ca.with_options(deadline=30.0),
            ]
            results = await asyncio.gather(
                *(
                    views[i % len(views)].campaign_data.delete(CAMPAIGN, number)
                    for i, number in enumerate(NUMBERS)
                )
            )
        deletes = fake.requests_to("deleteCampaignData")
    assert all(result.ok for result in results)
    assert not any(request.rejected for request in deletes)
    assert len(deletes) == len(NUMBERS)
    assert len(fake.requests_to("generateToken")) == 1


async def test_a_view_keeps_the_clients_other_options() -> None:
    async with CloudAgentClient("acme", "k3y-0f-the-acc0unt", deadline=9.0) as ca:
        view = ca.with_options(timeout=1.0)
        assert view.username == ca.username
        assert view.campaign_data is not ca.campaign_data
        assert view.with_options(retry=RetryPolicy()).base_url == ca.base_url


async def test_hooks_see_attempts_waits_and_give_ups_without_numbers_or_secrets() -> None:
    facts: list[Any] = []
    key = "Secret-Api-Key-0123456789"

    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=503, text=f"busy for {key} and 9000000007")

    hooks = Hooks(on_attempt=facts.append, on_rate_limit_wait=facts.append, on_give_up=facts.append)
    async with (
        HostileServer(handle) as server,
        CloudAgentClient(
            "acme",
            key,
            base_url=server.url,
            retry=RetryPolicy(max_attempts=3, initial_delay=0.01, max_delay=0.02),
            rate_limits={"deleteCampaignData": RateLimit(1000, 1.0)},
            coordination=InProcessCoordination(),
            hooks=hooks,
        ) as ca,
    ):
        with pytest.raises(ServerError):
            await ca.campaign_data.delete(CAMPAIGN, "9000000007")
    attempts = [f for f in facts if isinstance(f, AttemptInfo)]
    waits = [f for f in facts if isinstance(f, RateLimitWaitInfo)]
    give_ups = [f for f in facts if isinstance(f, GiveUpInfo)]
    assert [a.attempt for a in attempts] == [1, 2, 3]
    assert [a.will_retry for a in attempts] == [True, True, False]
    assert {a.http_status for a in attempts} == {503}
    assert {a.outcome for a in attempts} == {"ServerError"}
    assert len(waits) == 3
    assert [(g.attempts, g.error_type) for g in give_ups] == [(3, "ServerError")]
    for fact in facts:
        for value in _fields(fact):
            assert "9000000007" not in str(value)
            assert key not in str(value)


def _fields(fact: object) -> list[object]:
    return [getattr(fact, name) for name in fact.__slots__]  # type: ignore[attr-defined]
