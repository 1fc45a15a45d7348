"""Shared fixtures: the emulator over real loopback HTTP and a client pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ozoasync import CloudAgentClient, RetryPolicy
from ozoasync.testing import FakeCloudAgent

# Fast retries: tests assert behaviour, not the production back-off.
FAST_RETRY = RetryPolicy(max_attempts=5, initial_delay=0.01, max_delay=0.05)


@pytest.fixture
async def fake() -> AsyncIterator[FakeCloudAgent]:
    async with FakeCloudAgent() as server:
        yield server


@pytest.fixture
async def ca(fake: FakeCloudAgent) -> AsyncIterator[CloudAgentClient]:
    async with CloudAgentClient(
        fake.username,
        fake.api_key,
        base_url=fake.url,
        retry=FAST_RETRY,
        timeout=2.0,
        rate_limits={"deleteCampaignData": None},
        coordination=None,
    ) as client:
        yield client
