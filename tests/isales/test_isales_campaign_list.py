"""``isales.campaigns.list``: every campaign of a VDN, page by page and lazily, over every
reading of the undocumented page shape, with the query signed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from isales_helpers import FAST_RETRY

from ozoasync import Campaign, ISalesClient, RequestValidationError, ResponseDecodeError
from ozoasync.isales import wire
from ozoasync.testing import FakeISales
from ozoasync.transport.call import Answer


async def listed(client: ISalesClient, vdn_id: int, **options: Any) -> list[Campaign]:
    return [c async for c in client.campaigns.list(vdn_id, **options)]


def client_for(url: str, fake: FakeISales | None = None) -> ISalesClient:
    return ISalesClient(
        url,
        fake.app_key if fake else "AK-demo",
        fake.app_secret if fake else "SK-demo",
        retry=FAST_RETRY,
        timeout=2.0,
    )


@pytest.fixture
async def fake_list(request: pytest.FixtureRequest) -> AsyncIterator[FakeISales]:
    async with FakeISales(campaign_list_reading=request.param) as fake:
        for campaign_id in range(1, 8):
            fake.add_campaign(12, campaign_id, [f"55500{campaign_id}"], name=f"c{campaign_id}")
        fake.add_campaign(13, 99, ["1"])
        yield fake


@pytest.mark.parametrize("fake_list", ["result_data", "data", "paged"], indirect=True)
@pytest.mark.parametrize(("rows", "requests"), [(3, 3), (7, 2), (100, 1)])
async def test_every_page_of_every_reading(fake_list: FakeISales, rows: int, requests: int) -> None:
    async with client_for(fake_list.url, fake_list) as client:
        campaigns = await listed(client, 12, rows_per_page=rows)
    assert [c.campaign_id for c in campaigns] == list(range(1, 8))
    assert campaigns[0].name == "c1"
    assert campaigns[0].caller_numbers == ("555001",)
    sent = fake_list.requests_to(wire.LIST_CAMPAIGNS)
    # A short page ends the listing; a full last page needs one more (empty) page, unless
    # the server announced its total.
    expected = 1 if rows == 7 and fake_list.campaign_list_reading == "paged" else requests
    assert len(sent) == expected
    assert sent[0].path == "/rest/isales/v1/openapi/campaigns/12"
    assert fake_list.counters["unauthorized"] == 0  # the query was signed as sent


@pytest.mark.parametrize("fake_list", ["result_data"], indirect=True)
async def test_pages_are_fetched_lazily(fake_list: FakeISales) -> None:
    async with client_for(fake_list.url, fake_list) as client:
        stream = client.campaigns.list(12, rows_per_page=2)
        async for campaign in stream:
            assert campaign.campaign_id == 1
            break
    assert len(fake_list.requests) == 1


@pytest.mark.parametrize("fake_list", ["paged"], indirect=True)
async def test_an_empty_vdn_lists_nothing(fake_list: FakeISales) -> None:
    async with client_for(fake_list.url, fake_list) as client:
        assert await listed(client, 14) == []


@pytest.mark.parametrize("bad", [0, 10000, "12", None, True, 2**70])
async def test_bad_vdn_raises_before_sending(bad: Any) -> None:
    async with client_for("http://127.0.0.1:1") as client:
        with pytest.raises(RequestValidationError):
            client.campaigns.list(bad)


@pytest.mark.parametrize(
    ("body", "items", "total"),
    [
        (b'{"resultCode":"0200000","resultData":[{"campaignId":1}]}', 1, None),
        (b'{"resultCode":"0200000","data":[{"id":2}],"total":9}', 1, 9),
        (b'{"resultCode":"0200000","resultData":{"totalCount":4,"campaigns":[]}}', 0, 4),
        (b'{"resultCode":"0200000"}', 0, None),
    ],
)
def test_page_readings(body: bytes, items: int, total: int | None) -> None:
    page = wire.interpret_campaign_page(Answer(wire.LIST_CAMPAIGNS, 200, {}, body))
    assert (len(page.items), page.total) == (items, total)


def test_a_page_without_a_list_is_undecodable() -> None:
    body = b'{"resultCode":"0200000","resultData":"nope"}'
    with pytest.raises(ResponseDecodeError):
        wire.interpret_campaign_page(Answer(wire.LIST_CAMPAIGNS, 200, {}, body))


def test_a_listed_campaign_needs_an_id() -> None:
    with pytest.raises(ResponseDecodeError):
        wire.listed_campaign(12, {"name": "x"})
    assert wire.listed_campaign(12, {"campaignId": "7", "name": "x"}).campaign_id == 7
