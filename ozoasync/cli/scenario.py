"""The demo's data: a campaign with thousands of numbers, a cleanup list where some are
already gone, a block-number group, scheduled rows, a phone and an iSales campaign. Seeded
into the emulators by ``ozoasync demo`` and ``ozoasync emulator``; the same every run."""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cached_property

from ..testing import FakeCloudAgent, FakeISales

CAMPAIGN = "spring-sale"
BLOCK_GROUP = 7
SCHEDULED_ROWS = range(1, 501)
SCHEDULED_DELETE = "1-200,250,300-310"
PHONE = ("9811112222", "front-desk")
PHONE_NEW = ("9811113333", "reception")
SKILLS = ("support", "sales")
ISALES_VDN = 1
ISALES_CAMPAIGN = 1001


@dataclass(frozen=True)
class Scenario:
    """``campaign_size`` numbers in the campaign; the cleanup list holds all of them plus
    ``gone`` numbers that are no longer there."""

    campaign_size: int
    gone: int
    block_size: int
    isales_size: int
    isales_delete: int
    isales_add: int
    seed: int = 2024

    @cached_property
    def _numbers(self) -> list[str]:
        """Distinct Indian mobile numbers, always the same ones."""
        count = self.campaign_size + self.gone + self.block_size + self.isales_size
        count += self.isales_add
        draws = random.Random(self.seed).sample(range(7_000_000_000, 10_000_000_000), count)
        return [str(n) for n in draws]

    def _slice(self, start: int, size: int) -> list[str]:
        return self._numbers[start : start + size]

    @property
    def campaign_numbers(self) -> list[str]:
        return self._slice(0, self.campaign_size)

    @property
    def cleanup_list(self) -> list[str]:
        """What the user asks to delete: the campaign's numbers and some already gone, in an
        order that mixes them."""
        listed = self._slice(0, self.campaign_size + self.gone)
        random.Random(self.seed + 1).shuffle(listed)
        return listed

    @property
    def block_numbers(self) -> list[str]:
        return self._slice(self.campaign_size + self.gone, self.block_size)

    @property
    def isales_numbers(self) -> list[str]:
        """The calling numbers of the iSales campaign."""
        return self._slice(self.campaign_size + self.gone + self.block_size, self.isales_size)

    @property
    def isales_additions(self) -> list[str]:
        start = self.campaign_size + self.gone + self.block_size + self.isales_size
        return self._slice(start, self.isales_add)

    def seed_cloudagent(self, fake: FakeCloudAgent) -> None:
        fake.add_campaign(CAMPAIGN, self.campaign_numbers)
        fake.add_block_group(BLOCK_GROUP, self.block_numbers)
        fake.add_scheduled_rows(SCHEDULED_ROWS)
        fake.add_skills(*SKILLS)
        fake.add_phone(PHONE[0], PHONE[1], skills=[SKILLS[0]])

    def seed_isales(self, fake: FakeISales) -> None:
        fake.add_campaign(ISALES_VDN, ISALES_CAMPAIGN, self.isales_numbers, name="renewals")


FULL = Scenario(
    campaign_size=2_400, gone=100, block_size=250, isales_size=150, isales_delete=120, isales_add=20
)
FAST = Scenario(
    campaign_size=240, gone=10, block_size=120, isales_size=60, isales_delete=40, isales_add=10
)
