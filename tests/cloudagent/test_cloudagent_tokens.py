"""Token authentication over real HTTP: one generation for many coroutines, a refresh before
expiry, one refresh and one repeat when the server rejects the token, and tokens.generate."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from ozoasync import (
    AuthenticationError,
    Outcome,
    TokenBudget,
    TokenBudgetExhaustedError,
)
from ozoasync.testing import FakeCloudAgent, Fault


def numbers(count: int) -> list[str]:
    return [f"98{n:08d}" for n in range(count)]


def bearer_tokens(fake: FakeCloudAgent) -> list[str]:
    """The token each API request carried, in arrival order."""
    return [
        r.headers["Authorization"].removeprefix("Bearer ")
        for r in fake.requests
        if r.endpoint != "generateToken"
    ]


def claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


async def test_fifty_coroutines_cause_one_generation(make_client: Any) -> None:
    async with FakeCloudAgent(auth_mode="token") as fake:
        fake.add_campaign("spring", numbers(50))
        ca = make_client(fake.url, auth="token")
        results = await asyncio.gather(*(ca.campaign_data.delete("spring", n) for n in numbers(50)))

    assert fake.tokens_generated == 1
    assert all(r.outcome is Outcome.DELETED and r.attempts == 1 for r in results)
    (generation,) = fake.requests_to("generateToken")
    assert (generation.method, generation.path) == ("POST", "/ca_apis/CAToken/generateToken")
    assert generation.json() == {"userName": "demo"}
    assert generation.headers["apiKey"] == fake.api_key
    api = fake.requests_to("deleteCampaignData")
    assert len(api) == 50
    assert len(set(bearer_tokens(fake))) == 1
    assert all(r.headers["apiKey"] == fake.api_key for r in api)  # as the vendor's samples do


async def test_fifty_coroutines_that_find_it_expired_cause_one_refresh(make_client: Any) -> None:
    async with FakeCloudAgent(auth_mode="token", token_lifetime=1.5) as fake:
        fake.add_campaign("spring", numbers(51))
        ca = make_client(fake.url, auth="token")
        await ca.campaign_data.delete("spring", numbers(51)[50])
        await asyncio.sleep(1.5)  # the token has expired
        results = await asyncio.gather(*(ca.campaign_data.delete("spring", n) for n in numbers(50)))

    assert fake.tokens_generated == 2
    assert all(r.outcome is Outcome.DELETED and r.attempts == 1 for r in results)
    tokens = bearer_tokens(fake)
    assert len(tokens) == 51  # refreshed before sending: no request carried the old token
    assert tokens[0] not in tokens[1:]
    assert len(set(tokens[1:])) == 1


async def test_a_token_the_server_invalidated_is_replaced_once(make_client: Any) -> None:
    async with FakeCloudAgent(auth_mode="token") as fake:
        fake.add_campaign("spring", numbers(2))
        ca = make_client(fake.url, auth="token")
        await ca.campaign_data.delete("spring", numbers(2)[0])
        fake.issue_token()  # another process generated one: ours is now invalid
        result = await ca.campaign_data.delete("spring", numbers(2)[1])

    assert result.outcome is Outcome.DELETED
    assert result.attempts == 2
    assert fake.tokens_generated == 3  # ours, the other process's, and one refresh
    first, rejected, repeated = bearer_tokens(fake)
    assert rejected == first != repeated


async def test_many_coroutines_rejected_together_refresh_once(make_client: Any) -> None:
    async with FakeCloudAgent(auth_mode="token") as fake:
        fake.add_campaign("spring", numbers(21))
        ca = make_client(fake.url, auth="token")
        await ca.campaign_data.delete("spring", numbers(21)[20])
        fake.issue_token()
        results = await asyncio.gather(*(ca.campaign_data.delete("spring", n) for n in numbers(20)))
    assert all(r.outcome is Outcome.DELETED for r in results)
    assert fake.tokens_generated == 3


@pytest.mark.parametrize("message", ["Invalid Token", "Token Expired"])
async def test_when_the_repeat_is_rejected_too_the_error_is_raised(
    stub: Any, make_client: Any, message: str
) -> None:
    serial = itertools.count()

    def token() -> bytes:
        payload = base64.urlsafe_b64encode(
            json.dumps({"exp": 4102444800, "n": next(serial)}).encode()
        ).rstrip(b"=")
        return json.dumps({"token": f"eyJhbGciOiJIUzUxMiJ9.{payload.decode()}.c2ln"}).encode()

    stub.answer("generateToken", token)
    stub.answer(
        "deleteCampaignData",
        json.dumps({"status": "false", "message": message, "data": None}).encode(),
    )
    ca = make_client(stub.url, auth="token")

    with pytest.raises(AuthenticationError) as caught:
        await ca.campaign_data.delete("spring", "9876543210")

    assert caught.value.message == message
    assert caught.value.attempts == 2
    assert len(stub.requests_to("generateToken")) == 2
    sent = [r.headers["Authorization"] for r in stub.requests_to("deleteCampaignData")]
    assert len(sent) == 2
    assert sent[0] != sent[1]  # the repeat carried the fresh token


async def test_other_authentication_errors_are_neither_refreshed_nor_repeated(
    make_client: Any,
) -> None:
    async with FakeCloudAgent(auth_mode="token") as fake:
        ca = make_client(fake.url)  # an api_key client against a TOKEN_AUTH account
        with pytest.raises(AuthenticationError) as caught:
            await ca.scheduled_data.delete(1)
    assert caught.value.message == "Token Should Not be Null or Empty."
    assert len(fake.requests) == 1
    assert fake.tokens_generated == 0


async def test_a_refused_generation_raises_without_calling_the_endpoint(
    make_client: Any,
) -> None:
    async with FakeCloudAgent(auth_mode="token") as fake:
        ca = make_client(fake.url, auth="token", api_key="KK-wrong")
        with pytest.raises(AuthenticationError) as caught:
            await ca.scheduled_data.delete(1)
    assert caught.value.message == "Invalid userName or apiKey"
    assert [r.endpoint for r in fake.requests] == ["generateToken"]


async def test_generate_returns_the_shared_token_while_fresh(
    fake: FakeCloudAgent, make_client: Any
) -> None:
    ca = make_client(fake.url)
    first = await ca.tokens.generate()
    again = await ca.tokens.generate()

    assert again == first
    assert fake.tokens_generated == 1
    # The lifetime counts from receipt (exp - iat), so it lands within moments of exp.
    server_expiry = datetime.fromtimestamp(claims(first.value)["exp"], UTC)
    assert abs((first.expires_at - server_expiry).total_seconds()) < 1.0
    assert first.value not in repr(first)
    assert first.value not in str(first)
    assert "<redacted>" in repr(first)

    forced = await ca.tokens.generate(force=True)
    assert forced.value != first.value
    assert fake.tokens_generated == 2
    assert await ca.tokens.generate() == forced


async def test_generate_hands_out_the_token_requests_use(make_client: Any) -> None:
    async with FakeCloudAgent(auth_mode="token") as fake:
        fake.add_campaign("spring", numbers(2))
        ca = make_client(fake.url, auth="token")
        await ca.campaign_data.delete("spring", numbers(2)[0])
        token = await ca.tokens.generate()
        assert fake.tokens_generated == 1
        assert bearer_tokens(fake) == [token.value]

        forced = await ca.tokens.generate(force=True)
        result = await ca.campaign_data.delete("spring", numbers(2)[1])

    assert result.outcome is Outcome.DELETED
    assert fake.tokens_generated == 2  # the client switched to the forced token: no third
    assert bearer_tokens(fake)[-1] == forced.value


async def test_generation_stops_at_the_budget(fake: FakeCloudAgent, make_client: Any) -> None:
    ca = make_client(fake.url, token_budget=TokenBudget(max_generations=2, period=3600.0))
    await ca.tokens.generate()
    await ca.tokens.generate(force=True)
    with pytest.raises(TokenBudgetExhaustedError) as caught:
        await ca.tokens.generate(force=True)
    assert fake.tokens_generated == 2
    assert len(fake.requests) == 2
    assert caught.value.retry_after is not None
    assert 3500 < caught.value.retry_after <= 3600


@pytest.mark.parametrize("endpoint", ["campaign", "block", "scheduled", "phone"])
async def test_every_endpoint_of_a_token_account_answers_a_stale_token_so(
    make_client: Any, endpoint: str
) -> None:
    async with FakeCloudAgent(auth_mode="token") as fake:
        fake.add_campaign("spring", numbers(1))
        fake.add_block_group(1, numbers(1))
        fake.add_scheduled_rows([1])
        fake.add_phone("9876543210", "desk")
        ca = make_client(fake.url, auth="token")
        await ca.tokens.generate()
        fake.issue_token()
        operations = {
            "campaign": lambda: ca.campaign_data.delete("spring", numbers(1)[0]),
            "block": lambda: ca.block_numbers.delete(1, numbers(1)),
            "scheduled": lambda: ca.scheduled_data.delete(1),
            "phone": lambda: ca.phones.edit("9876543210", "desk", new_phone_number="9876543211"),
        }
        result = await operations[endpoint]()
    assert result.ok
    assert fake.tokens_generated == 3  # ours, the other process's, one refresh
    rejected, repeated = bearer_tokens(fake)
    assert rejected != repeated


@pytest.mark.parametrize("token", ["a.b.\u00e9", "a.%%%.c", "not-a-jwt", "a.b.c"])
async def test_the_emulator_answers_a_garbled_token_as_invalid(token: str) -> None:
    async with (
        FakeCloudAgent(auth_mode="token") as fake,
        aiohttp.ClientSession() as session,
        session.delete(
            fake.url + "/ca_apis/deleteScheduledData",
            json={"userName": "demo", "row_id": "1"},
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        answer = (response.status, await response.json())
    assert answer == (200, {"status": "false", "message": "Invalid Token", "data": None})


# --- the budget counts every token request, answered or not ---------------------------------


async def test_token_requests_whose_answers_were_lost_spend_the_budget(make_client: Any) -> None:
    # Each cut-off answer came from a server that issued a token: three requests, three
    # tokens issued, three spent of the budget of three, however many arrived whole.
    async with FakeCloudAgent(auth_mode="token") as fake:
        fake.faults.queue(Fault.TRUNCATED, 2, endpoint="generateToken")
        ca = make_client(fake.url, auth="token", token_budget=TokenBudget(3, 3600.0))
        token = await ca.tokens.generate()
        with pytest.raises(TokenBudgetExhaustedError):
            await ca.tokens.generate(force=True)

    assert fake.tokens_generated == 3
    assert len(fake.requests_to("generateToken")) == 3  # the refused one was never sent
    assert claims(token.value)["sub"] == fake.username


@pytest.mark.parametrize("answer", ["body", "429"])
async def test_a_vendor_refusing_a_token_is_final_and_stops_bulk_calls(
    make_client: Any, answer: Any
) -> None:
    # The vendor allows one token an hour here: a refresh gets "Max limit exceeded".
    async with FakeCloudAgent(
        auth_mode="token", rate_limits={"generateToken": (1, 3600.0)}, rate_limit_answer=answer
    ) as fake:
        fake.add_campaign("spring", numbers(30))
        ca = make_client(fake.url, auth="token")
        await ca.tokens.generate()
        fake.issue_token()  # another process's token: ours is now invalid
        with pytest.raises(TokenBudgetExhaustedError) as caught:
            async for _ in ca.campaign_data.delete_many("spring", numbers(30), concurrency=4):
                pass

    assert "budget" in str(caught.value)
    # One refused generation, asked once (not retried), and the run stopped at once.
    assert len(fake.requests_to("generateToken")) == 2
    assert len(fake.requests_to("deleteCampaignData")) <= 4
