"""deleteBlockNumberGroup over real HTTP: chunks of at most 100 unique numbers, merged results,
per-number and per-chunk failures, and either reading of the page's path."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ozoasync import (
    AuthenticationError,
    BlockNumberChunk,
    BlockNumberDeletion,
    InvalidParameterError,
    NumberResult,
    Outcome,
    RequestValidationError,
    RetryPolicy,
    ServerError,
)
from ozoasync.cloudagent.block_numbers import NOT_CONFIRMED, match_spellings
from ozoasync.testing import FakeCloudAgent, Fault, FaultPlan
from ozoasync.testing._cloudagent import BlockErrorSpelling, normalise_block_number


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"98{n:08d}" for n in range(start, start + count)]


def with_duplicates(unique: list[str]) -> list[str]:
    """Every number, then every third one again, interleaved (1,000 -> 1,334 items)."""
    mixed: list[str] = []
    for index, number in enumerate(unique):
        mixed.append(number)
        if index % 3 == 0:
            mixed.append(unique[index // 2])
    return mixed


def lazily(items: list[str]) -> Iterator[str]:
    yield from items


async def async_lazily(items: list[str]) -> AsyncIterator[str]:
    for item in items:
        yield item


def sent_chunks(fake: FakeCloudAgent) -> list[list[str]]:
    return [request.json()["blockNumbers"] for request in fake.requests]


@pytest.mark.parametrize("kind", [list, lazily, async_lazily])
@pytest.mark.parametrize(
    ("given", "unique"),
    [
        (numbers(1), 1),
        (numbers(100), 100),
        (numbers(101), 101),
        (with_duplicates(numbers(926)), 926),  # 1,234 numbers with 308 duplicates
    ],
    ids=["1", "100", "101", "1234-with-duplicates"],
)
async def test_numbers_go_in_chunks_of_at_most_100_unique(
    fake: FakeCloudAgent, make_client: Any, kind: Any, given: list[str], unique: int
) -> None:
    assert len(set(given)) == unique
    fake.add_block_group(5, given)
    ca = make_client(fake.url)

    result = await ca.block_numbers.delete(5, kind(given))

    chunks = sent_chunks(fake)
    assert len(chunks) == math.ceil(unique / 100) == result.requests
    assert all(len(chunk) == len(set(chunk)) <= 100 for chunk in chunks)
    assert [n for chunk in chunks for n in chunk] == list(dict.fromkeys(given))
    assert all(
        r.method == "DELETE" and r.path == "/ca_apis/deleteBlockNumberGroup" for r in fake.requests
    )
    assert all(r.json()["id"] == 5 and r.json()["userName"] == "demo" for r in fake.requests)
    assert result == BlockNumberDeletion(
        deleted=tuple(dict.fromkeys(given)),  # spelled as given, not as the server does
        deleted_count=unique,
        requests=len(chunks),
    )
    assert result.ok
    assert fake.block_groups[5] == set()


@pytest.mark.parametrize("kind", [list, lazily, async_lazily])
async def test_zero_numbers_raise_and_send_nothing(
    fake: FakeCloudAgent, make_client: Any, kind: Any
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await make_client(fake.url).block_numbers.delete(5, kind([]))
    assert caught.value.field == "numbers"
    assert fake.requests == []


async def test_a_bad_number_in_a_list_raises_and_sends_nothing(
    fake: FakeCloudAgent, make_client: Any
) -> None:
    given = [*numbers(150), "98765-4321"]
    with pytest.raises(RequestValidationError) as caught:
        await make_client(fake.url).block_numbers.delete(5, given)
    assert caught.value.field == "numbers"
    assert "98765-4321" in str(caught.value)
    assert fake.requests == []


@pytest.mark.parametrize("kind", [lazily, async_lazily])
async def test_a_bad_number_in_a_generator_is_reported_and_never_sent(
    fake: FakeCloudAgent, make_client: Any, kind: Any
) -> None:
    good = numbers(150)
    given = [*good[:40], "12ab", *good[40:], "", "+"]
    fake.add_block_group(5, good)

    result = await make_client(fake.url).block_numbers.delete(5, kind(given))

    sent = [n for chunk in sent_chunks(fake) for n in chunk]
    assert sent == good
    assert [(f.number, type(f.error)) for f in result.failed] == [
        ("12ab", RequestValidationError),
        ("", RequestValidationError),
        ("+", RequestValidationError),
    ]
    assert all(f.reason for f in result.failed)
    assert result.deleted_count == 150
    assert not result.ok


async def test_numbers_the_server_lists_as_errors_are_not_found(
    fake: FakeCloudAgent, make_client: Any
) -> None:
    fake.add_block_group(5, numbers(120))
    given = numbers(130)  # the last ten are not in the group

    result = await make_client(fake.url).block_numbers.delete(5, given)

    # Numbers the server lists as errors are already not in the group: what a re-run sees.
    assert result.not_found == tuple(given[120:])
    assert result.failed == ()
    assert result.deleted_count == 120
    assert result.deleted == tuple(given[:120])
    assert result.requests == 2
    assert result.ok


async def test_a_failed_chunk_is_reported_and_the_rest_still_sent(make_client: Any) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_block_group(5, numbers(250))
        fake.faults.queue(Fault.SERVER_ERROR, endpoint="deleteBlockNumberGroup")
        ca = make_client(fake.url, retry=RetryPolicy(max_attempts=1))

        result = await ca.block_numbers.delete(5, numbers(250))

    assert result.requests == 3
    assert [f.number for f in result.failed] == numbers(100)
    assert all(isinstance(f.error, ServerError) for f in result.failed)
    assert result.deleted == tuple(numbers(150, 100))
    assert result.deleted_count == 150


async def test_a_failed_chunk_is_retried_within_the_budget(make_client: Any) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_block_group(5, numbers(150))
        fake.faults.queue(Fault.SERVER_ERROR, 2, endpoint="deleteBlockNumberGroup")
        result = await make_client(fake.url).block_numbers.delete(5, numbers(150))
    assert result.ok
    assert result.deleted_count == 150
    assert len(fake.requests) == 4  # two failed attempts, then both chunks


async def test_refused_credentials_stop_the_call_with_what_was_done(
    fake: FakeCloudAgent, make_client: Any
) -> None:
    fake.add_block_group(5, numbers(300))
    ca = make_client(fake.url, api_key="KK-wrong")

    with pytest.raises(AuthenticationError) as caught:
        await ca.block_numbers.delete(5, numbers(300))

    assert len(fake.requests) == 1
    partial = caught.value.partial
    assert isinstance(partial, BlockNumberDeletion)
    assert partial.requests == 1
    assert [f.number for f in partial.failed] == numbers(100)
    assert partial.deleted == ()


async def test_an_invalid_group_stops_the_call(fake: FakeCloudAgent, make_client: Any) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        await make_client(fake.url).block_numbers.delete(77, numbers(300))
    assert caught.value.message == "Invalid group id"
    assert len(fake.requests) == 1
    assert isinstance(caught.value.partial, BlockNumberDeletion)


@pytest.mark.parametrize("path", ["deleteBlockNumberGroup", "deleteBlockNumber"])
async def test_either_reading_of_the_path_works(make_client: Any, path: Any) -> None:
    async with FakeCloudAgent(block_numbers_path=path) as fake:
        fake.add_block_group(5, numbers(250))
        ca = make_client(fake.url)
        first = await ca.block_numbers.delete(5, numbers(200))
        second = await ca.block_numbers.delete(5, numbers(50, 200))

    assert (first.deleted_count, first.ok) == (200, True)
    assert (second.deleted_count, second.ok) == (50, True)
    assert fake.block_groups[5] == set()
    wrong = [r for r in fake.requests if r.path != f"/ca_apis/{path}"]
    # A server on the header's path costs one 404, once per client; never again.
    assert len(wrong) == (0 if path == "deleteBlockNumberGroup" else 1)
    assert fake.requests[0].path == "/ca_apis/deleteBlockNumberGroup"
    assert all(r.method == "DELETE" for r in fake.requests)


async def test_concurrent_first_calls_all_find_the_other_path(make_client: Any) -> None:
    async with FakeCloudAgent(block_numbers_path="deleteBlockNumber") as fake:
        for group in range(1, 11):
            fake.add_block_group(group, numbers(3, group * 10))
        ca = make_client(fake.url)

        results = await asyncio.gather(
            *(ca.block_numbers.delete(group, numbers(3, group * 10)) for group in range(1, 11))
        )

    assert [r.deleted_count for r in results] == [3] * 10
    assert all(not group for group in fake.block_groups.values())


async def test_numbers_are_sent_as_given_and_the_server_normalises_them(
    fake: FakeCloudAgent, make_client: Any
) -> None:
    fake.add_block_group(5, ["9876543210", "+14155550100"])
    result = await make_client(fake.url).block_numbers.delete(5, ["9876543210", "+14155550100"])
    assert sent_chunks(fake) == [["9876543210", "+14155550100"]]
    assert result.deleted == ("9876543210", "+14155550100")  # matched to the numbers sent


async def test_the_emulator_refuses_more_than_100_numbers() -> None:
    # The client never sends more; the emulator still enforces the page's limit.
    async with FakeCloudAgent() as fake:
        fake.add_block_group(5, numbers(101))
        assert len(numbers(101)) == 101
        async with (
            aiohttp.ClientSession() as session,
            session.delete(
                fake.url + "/ca_apis/deleteBlockNumberGroup",
                json={"userName": "demo", "id": 5, "blockNumbers": numbers(101)},
                headers={"apiKey": fake.api_key},
            ) as response,
        ):
            answer = await response.json()
    assert answer["status"] == "error"
    assert fake.block_groups[5] == {normalise_block_number(n) for n in numbers(101)}


# --- delete_chunks: per-number truth, streamed -------------------------------------------------


def items_of(chunks: list[BlockNumberChunk]) -> list[NumberResult]:
    return [item for chunk in chunks for item in chunk.items]


@pytest.mark.parametrize("spelling", ["as_sent", "normalised"])
async def test_each_chunk_says_what_became_of_each_of_its_numbers(
    make_client: Any, spelling: BlockErrorSpelling
) -> None:
    present = [*numbers(120), "+14155550100", "919876500000"]
    absent = numbers(30, 500)
    given = [*present, *absent, "9876500000"]  # the last: the bare national spelling of one
    async with FakeCloudAgent(block_errors_spelled=spelling) as fake:
        fake.add_block_group(5, present)
        ca = make_client(fake.url)
        chunks = [chunk async for chunk in ca.block_numbers.delete_chunks(5, lazily(given))]

    assert [chunk.requests for chunk in chunks] == [1, 1]
    assert [len(chunk.items) for chunk in chunks] == [100, 53]
    assert [chunk.deleted_count for chunk in chunks] == [100, 22]
    outcomes = {item.number: item.outcome for item in items_of(chunks)}
    assert [item.number for item in items_of(chunks)] == given  # as given, in order
    # "9876500000" is "+919876500000", which the server lists twice under success (once per
    # spelling sent, as the vendor's sample does for a repeated number).
    assert {n for n, o in outcomes.items() if o is Outcome.DELETED} == {*present, "9876500000"}
    assert {n for n, o in outcomes.items() if o is Outcome.NOT_FOUND} == set(absent)
    assert all(item.error is None and item.ok for item in items_of(chunks))
    assert fake.block_groups[5] == set()


async def test_a_number_the_server_names_in_neither_list_is_failed_unconfirmed(
    stub: Any, make_client: Any
) -> None:
    answer = {
        "status": "success",
        "message": "deleted",
        "output": {"success": ["+919800000000"], "error": ["9800000001"], "deleted": 1},
    }
    stub.answer("deleteBlockNumberGroup", json.dumps(answer).encode())
    ca = make_client(stub.url)

    [chunk] = [c async for c in ca.block_numbers.delete_chunks(5, numbers(3))]

    assert [(i.number, i.outcome) for i in chunk.items] == [
        ("9800000000", Outcome.DELETED),
        ("9800000001", Outcome.NOT_FOUND),
        ("9800000002", Outcome.FAILED),
    ]
    assert chunk.items[2].message == NOT_CONFIRMED
    assert not chunk.ok


@pytest.mark.parametrize(
    ("sent", "spelled", "matched"),
    [
        (["9876543210"], ["9876543210"], [0]),
        (["9876543210"], ["+919876543210"], [0]),
        (["919876543210"], ["+919876543210"], [0]),
        (["+14155550100"], ["+14155550100"], [0]),
        (["+14155550100"], ["14155550100"], [None]),  # a '+' is never dropped by a server
        # Both spellings of one number sent: each answer names one of them.
        (["9876543210", "+919876543210"], ["+919876543210", "+919876543210"], [1, 0]),
        # An exact spelling is never taken by another number's normalised one.
        (["12345678901", "2345678901"], ["+912345678901", "+12345678901"], [1, 0]),
        (["9876543210"], ["+919876543210", "+919876543210"], [0, None]),
        (["9876543210"], ["1234"], [None]),
    ],
)
def test_the_servers_spellings_are_matched_to_the_numbers_sent(
    sent: list[str], spelled: list[str], matched: list[int | None]
) -> None:
    assert match_spellings(sent, spelled) == matched


def matched_by_the_rule(sent: list[str], spelled: list[str]) -> list[int | None]:
    """match_spellings's documented rule, answer by answer (slow, plainly right)."""
    matched: list[int | None] = [None] * len(spelled)
    free = {number: index for index, number in enumerate(sent)}
    for position, text in enumerate(spelled):
        if text in free:
            matched[position] = free.pop(text)
    bare = {number: index for number, index in free.items() if not number.startswith("+")}

    def match_all(prefix: str) -> None:
        for position, text in enumerate(spelled):
            rest = text[len(prefix) :]
            if matched[position] is None and text.startswith(prefix) and rest in bare:
                matched[position] = bare.pop(rest)

    match_all("+")
    for position, text in enumerate(spelled):
        if matched[position] is None and text.startswith("+"):
            cut = next((cut for cut in (2, 3, 4) if text[cut:] in bare), None)
            if cut is not None:
                match_all(text[:cut])
    return matched


digits = st.text(alphabet="019", min_size=1, max_size=5)


@st.composite
def answers(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    sent = draw(st.lists(st.one_of(digits, digits.map("+".__add__)), unique=True, max_size=12))
    codes = draw(st.lists(st.sampled_from(["", "+", "+9", "+91", "+910", "+1"]), min_size=1))
    spelled = [
        draw(st.sampled_from(codes)) + draw(st.sampled_from(sent))
        if sent and draw(st.booleans())
        else draw(st.one_of(digits, digits.map("+".__add__)))
        for _ in range(draw(st.integers(0, 14)))
    ]
    if sent and draw(st.booleans()):  # the usual answer: one spelling, in the order sent
        code = draw(st.sampled_from(codes))
        spelled = [code + number for number in sent]
    return sent, spelled


@settings(max_examples=500, deadline=None)
@given(answers())
def test_spellings_are_matched_by_the_documented_rule(answer: tuple[list[str], list[str]]) -> None:
    sent, spelled = answer
    assert match_spellings(sent, spelled) == matched_by_the_rule(sent, spelled)


@pytest.mark.parametrize("spelling", ["as_sent", "normalised"])
@pytest.mark.parametrize("seed", [1, 2])
async def test_every_input_number_in_exactly_one_item_under_faults(
    make_client: Any, spelling: BlockErrorSpelling, seed: int
) -> None:
    present = numbers(400)
    absent = numbers(150, 5000)
    rejected = ["12ab", "", "+", "12ab"]
    given = [*with_duplicates(present), *absent, *rejected, *present[:50]]
    plan = FaultPlan(rate=0.35, seed=seed, slow_delay=0.3)
    retry = RetryPolicy(max_attempts=2, initial_delay=0.0, max_delay=0.0)
    async with FakeCloudAgent(block_errors_spelled=spelling, faults=plan) as fake:
        fake.add_block_group(5, present)
        ca = make_client(fake.url, retry=retry, timeout=0.2)
        chunks = [c async for c in ca.block_numbers.delete_chunks(5, async_lazily(given))]
        left = {n.removeprefix("+91") for n in fake.block_groups[5]}

    items = items_of(chunks)
    assert sorted(item.number for item in items) == sorted({*given, *rejected})
    assert len(items) == len({*given, *rejected})
    by_outcome = {o: {i.number for i in items if i.outcome is o} for o in Outcome}
    # Deleted: really gone (after a lost answer a number never there counts as deleted too).
    assert by_outcome[Outcome.DELETED].isdisjoint(left)
    assert by_outcome[Outcome.NOT_FOUND] <= set(absent)  # not found: never there
    assert left <= by_outcome[Outcome.FAILED]  # a number still there is reported failed
    assert set(rejected) <= by_outcome[Outcome.FAILED]
    assert all(i.error is not None for i in items if i.outcome is Outcome.FAILED)
    assert any(c.requests == 0 for c in chunks)  # rejected input: a chunk that sent nothing


async def test_a_dooming_error_is_raised_after_its_chunk(
    fake: FakeCloudAgent, make_client: Any
) -> None:
    fake.add_block_group(5, numbers(300))
    ca = make_client(fake.url, api_key="KK-wrong")
    chunks: list[BlockNumberChunk] = []

    async def consume() -> None:
        async for chunk in ca.block_numbers.delete_chunks(5, numbers(300)):
            chunks.append(chunk)

    with pytest.raises(AuthenticationError):
        await consume()

    [chunk] = chunks
    assert [i.number for i in chunk.items] == numbers(100)
    assert all(isinstance(i.error, AuthenticationError) for i in chunk.items)
    assert len(fake.requests) == 1


async def test_bad_arguments_raise_when_called_before_anything_is_sent(
    fake: FakeCloudAgent, make_client: Any
) -> None:
    ca = make_client(fake.url)
    with pytest.raises(RequestValidationError):
        ca.block_numbers.delete_chunks(0, numbers(3))
    with pytest.raises(RequestValidationError):
        ca.block_numbers.delete_chunks(5, ["9800000000", "x"])
    assert fake.requests == []


async def test_a_rerun_of_a_finished_cleanup_is_ok(fake: FakeCloudAgent, make_client: Any) -> None:
    fake.add_block_group(5, numbers(150))
    ca = make_client(fake.url)
    first = await ca.block_numbers.delete(5, numbers(150))
    again = await ca.block_numbers.delete(5, numbers(150))
    assert (first.ok, len(first.deleted)) == (True, 150)
    assert (again.ok, again.deleted, again.not_found) == (True, (), tuple(numbers(150)))
