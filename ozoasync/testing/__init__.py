"""Emulators of the vendors on real loopback HTTP, for your own tests and the demo.

async with FakeCloudAgent() as fake:
    fake.add_campaign("spring", ["9876543210"])
    async with CloudAgentClient(fake.username, fake.api_key, base_url=fake.url) as ca:
        await ca.campaign_data.delete("spring", "9876543210")
    assert fake.campaigns["spring"] == set()
"""

from __future__ import annotations

from ._cloudagent import BULK_DATA_BUSY, FakeCloudAgent, FakePhone, FakeScheduledRow
from ._isales import FakeCampaign, FakeISales
from ._server import RecordedRequest
from .faults import TRANSPORT_FAULTS, Fault, FaultPlan

__all__ = [
    "BULK_DATA_BUSY",
    "TRANSPORT_FAULTS",
    "FakeCampaign",
    "FakeCloudAgent",
    "FakeISales",
    "FakePhone",
    "FakeScheduledRow",
    "Fault",
    "FaultPlan",
    "RecordedRequest",
]
