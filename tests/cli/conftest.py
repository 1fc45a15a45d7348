"""Fixtures of the command-line tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ozoasync.testing import FakeISales


@pytest.fixture
async def isales_fake() -> AsyncIterator[FakeISales]:
    async with FakeISales() as server:
        yield server
