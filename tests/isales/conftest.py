"""iSales fixtures: the emulator over real loopback HTTP, a client pointed at it, and a sender
of hand-made signed requests (to reach the emulator's checks that the client never trips)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from isales_helpers import FAST_RETRY, RawSender

from ozoasync import ISalesClient
from ozoasync.testing import FakeISales


@pytest.fixture
async def fake_isales() -> AsyncIterator[FakeISales]:
    async with FakeISales() as server:
        yield server


@pytest.fixture
async def isales(fake_isales: FakeISales) -> AsyncIterator[ISalesClient]:
    async with ISalesClient(
        fake_isales.url,
        fake_isales.app_key,
        fake_isales.app_secret,
        retry=FAST_RETRY,
        timeout=2.0,
    ) as client:
        yield client


@pytest.fixture
async def raw(fake_isales: FakeISales) -> AsyncIterator[RawSender]:
    async with aiohttp.ClientSession() as session:
        yield RawSender(fake_isales, session)
