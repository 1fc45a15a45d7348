"""CloudAgentClient as a whole: where it sends, the session it owns (or borrows and never
closes), sharing one client between many coroutines, and secrets kept out of every repr,
exception and log record."""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

import aiohttp
import pytest

from ozoasync import (
    CloudAgentClient,
    Outcome,
    OzoError,
    RetryPolicy,
)
from ozoasync.testing import FakeCloudAgent, Fault


def numbers(count: int) -> list[str]:
    return [f"98{n:08d}" for n in range(count)]


@pytest.mark.parametrize(
    ("options", "base_url"),
    [
        ({}, "https://in1-ccaas-api.ozonetel.com"),
        ({"region": "domestic"}, "https://in1-ccaas-api.ozonetel.com"),
        ({"region": "international"}, "https://api.ccaas.ozonetel.com"),
        (
            {"region": "international", "base_url": "https://partner.example/"},
            "https://partner.example",
        ),
        ({"base_url": "http://127.0.0.1:8080"}, "http://127.0.0.1:8080"),
    ],
)
def test_region_or_base_url_decides_where_requests_go(
    options: dict[str, Any], base_url: str
) -> None:
    client = CloudAgentClient("acme", "KK-key", **options)
    assert client.base_url == base_url
    assert (
        repr(client) == f"CloudAgentClient(username='acme', base_url='{base_url}', auth='api_key')"
    )


async def test_the_client_owns_one_session_and_closes_it(
    fake: FakeCloudAgent, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[aiohttp.ClientSession] = []
    real = aiohttp.ClientSession

    def counting(*args: Any, **kwargs: Any) -> aiohttp.ClientSession:
        session = real(*args, **kwargs)
        made.append(session)
        return session

    monkeypatch.setattr(aiohttp, "ClientSession", counting)
    fake.add_campaign("spring", numbers(30))
    fake.add_scheduled_rows([1])
    async with CloudAgentClient(
        fake.username, fake.api_key, base_url=fake.url, rate_limits={"deleteCampaignData": None}
    ) as ca:
        await ca.campaign_data.delete("spring", numbers(30)[0])
        await asyncio.gather(*(ca.campaign_data.delete("spring", n) for n in numbers(30)[1:]))
        await ca.scheduled_data.delete(1)
        assert len(made) == 1
        assert not made[0].closed
    assert made[0].closed
    with pytest.raises(RuntimeError):
        await ca.campaign_data.delete("spring", "9876543210")
    await ca.aclose()  # closing twice is harmless


async def test_a_session_you_pass_is_used_and_never_closed(fake: FakeCloudAgent) -> None:
    fake.add_campaign("spring", numbers(2))
    async with aiohttp.ClientSession(headers={"X-Caller": "acme-billing"}) as session:
        async with CloudAgentClient(
            fake.username, fake.api_key, base_url=fake.url, session=session
        ) as ca:
            await ca.campaign_data.delete("spring", numbers(2)[0])
        assert not session.closed
        other = CloudAgentClient(fake.username, fake.api_key, base_url=fake.url, session=session)
        await other.campaign_data.delete("spring", numbers(2)[1])
        await other.aclose()
        assert not session.closed
    assert [r.headers.get("X-Caller") for r in fake.requests] == ["acme-billing"] * 2


async def test_one_client_serves_many_coroutines(fake: FakeCloudAgent, make_client: Any) -> None:
    fake.add_campaign("spring", numbers(200))
    fake.add_block_group(1, numbers(300))
    fake.add_scheduled_rows(range(1, 41))
    ca = make_client(fake.url)

    campaign = [ca.campaign_data.delete("spring", n) for n in numbers(200)]
    blocks = [ca.block_numbers.delete(1, numbers(300)[i : i + 30]) for i in range(0, 300, 30)]
    rows = [ca.scheduled_data.delete(range(i, i + 4)) for i in range(1, 41, 4)]
    results = await asyncio.gather(*campaign, *blocks, *rows)

    assert all(r.outcome is Outcome.DELETED for r in results[:200])  # type: ignore[union-attr]
    assert all(r.ok for r in results)
    assert sum(r.deleted_count for r in results[200:210]) == 300  # type: ignore[union-attr]
    assert fake.block_groups[1] == set()
    assert fake.campaigns["spring"] == set()
    assert fake.scheduled_rows == set()
    assert len(fake.requests_to("deleteCampaignData")) == 200


async def test_no_secret_in_any_repr_exception_or_log(
    make_client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    key, wrong_key = "KK-secret-0123456789abcdef", "KK-wrong-fedcba9876543210"
    shown: list[object] = []
    errors: list[BaseException] = []

    async def attempt(operation: Any) -> None:
        try:
            shown.append(await operation)
        except OzoError as error:
            errors.append(error)

    async with FakeCloudAgent(auth_mode="token", api_key=key) as fake:
        issued: list[str] = []
        issue = fake.issue_token

        def recording() -> str:
            issued.append(issue())
            return issued[-1]

        fake.issue_token = recording  # type: ignore[method-assign]
        fake.add_campaign("spring", numbers(5))
        fake.add_phone("9876543210", "desk")
        retry = RetryPolicy(max_attempts=2, initial_delay=0.01)
        ca = make_client(fake.url, auth="token", api_key=key, retry=retry)
        wrong = make_client(fake.url, auth="token", api_key=wrong_key, retry=retry)
        shown += [ca, wrong, ca._transport.authenticator]

        await attempt(ca.campaign_data.delete("spring", numbers(5)[0]))
        fake.issue_token()  # the server invalidates the client's token: refresh and repeat
        await attempt(ca.campaign_data.delete("spring", numbers(5)[1]))
        await attempt(ca.campaign_data.delete("spring", numbers(5)[1]))  # not found
        await attempt(ca.campaign_data.delete("autumn", numbers(5)[2]))  # invalid campaign
        fake.faults.queue(Fault.SERVER_ERROR, 2)
        await attempt(ca.campaign_data.delete("spring", numbers(5)[3]))  # ServerError
        fake.faults.queue(Fault.HTML)
        await attempt(ca.phones.edit("9876543210", "desk", new_phone_number="1"))
        fake.faults.queue(Fault.TRUNCATED, 2, endpoint="generateToken")
        await attempt(ca.tokens.generate(force=True))  # cut-off token answers
        await attempt(ca.tokens.generate(force=True))
        await attempt(ca.block_numbers.delete(9, numbers(3)))  # invalid group
        await attempt(wrong.scheduled_data.delete(1))  # refused generation
        await attempt(wrong.tokens.generate())

    assert len(errors) >= 6
    assert {type(e).__name__ for e in errors} == {
        "InvalidParameterError",
        "ServerError",
        "ResponseDecodeError",
        "AuthenticationError",
    }
    assert len(issued) >= 5
    texts = [repr(item) for item in shown] + [str(item) for item in shown]
    texts += [repr(vars(ca)), repr(vars(wrong))]
    for error in errors:
        texts += ["".join(traceback.format_exception(error)), repr(error)]
        texts += [str(getattr(error, "body", "")), repr(getattr(error, "partial", None))]
    for record in caplog.records:
        texts += [record.getMessage(), record.exc_text or ""]
    texts.append(caplog.text)
    assert any("attempt" in record.getMessage() for record in caplog.records)
    everything = "\n".join(texts)
    # Any 12 characters of a key or of a token's signature count as a leak (a JWT's header
    # and claims are not secret; its signature is).
    for secret in [key, wrong_key, *(token.rsplit(".", 1)[1] for token in issued)]:
        for start in range(len(secret) - 11):
            fragment = secret[start : start + 12]
            assert fragment not in everything, f"a secret leaked: ...{fragment}..."
