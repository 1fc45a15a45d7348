"""caller_numbers.delete / add over real HTTP against FakeISales: chunks, merging, validation,
the keep-one rule, progress, errors that stop the run, and re-signing of retries."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from isales_helpers import FAST_RETRY

from ozoasync import (
    AuthenticationError,
    CallerNumberAddition,
    CallerNumberChunk,
    CallerNumberDeletion,
    InvalidParameterError,
    ISalesClient,
    NotFoundError,
    NumberResult,
    Outcome,
    Progress,
    RequestValidationError,
    ResponseDecodeError,
    RetryPolicy,
)
from ozoasync.isales import auth as auth_module
from ozoasync.testing import FakeISales, Fault, FaultPlan
from ozoasync.testing._isales import KEEP_ONE_DESCRIPTION

KEEP = "19999999999"


def numbers(count: int, start: int = 13800000000) -> list[str]:
    return [str(start + i) for i in range(count)]


def sent_sizes(fake: FakeISales, endpoint: str = "deleteCallerNo") -> list[int]:
    return [len(r.json()["callerNo"]) for r in fake.requests_to(endpoint)]


@pytest.mark.parametrize(
    ("count", "sizes"),
    [(1, [1]), (100, [100]), (101, [100, 1]), (251, [100, 100, 51])],
)
async def test_delete_in_chunks_of_at_most_100(
    fake_isales: FakeISales, isales: ISalesClient, count: int, sizes: list[int]
) -> None:
    fake_isales.add_campaign(1, 42, [*numbers(count), KEEP])

    result = await isales.caller_numbers.delete(1, 42, numbers(count))

    assert result == CallerNumberDeletion(count=count, requests=len(sizes), failed=())
    assert result.ok
    assert sent_sizes(fake_isales) == sizes
    assert fake_isales.caller_numbers(1, 42) == {KEEP}
    sent = [n["accessCode"] for r in fake_isales.requests for n in r.json()["callerNo"]]
    assert sent == numbers(count)


async def test_duplicates_are_sent_once(fake_isales: FakeISales, isales: ISalesClient) -> None:
    fake_isales.add_campaign(1, 42, [*numbers(150), KEEP])
    doubled = [n for n in numbers(150) for _ in range(2)]

    result = await isales.caller_numbers.delete(1, 42, doubled)

    assert (result.count, result.requests) == (150, 2)
    assert sent_sizes(fake_isales) == [100, 50]


async def test_count_is_the_servers_not_the_numbers_sent(
    fake_isales: FakeISales, isales: ISalesClient
) -> None:
    fake_isales.add_campaign(1, 42, [*numbers(3), KEEP])
    result = await isales.caller_numbers.delete(1, 42, numbers(5))
    assert (result.count, result.requests, result.ok) == (3, 1, True)


async def test_lazy_sources_are_streamed_and_bad_items_reported(
    fake_isales: FakeISales, isales: ISalesClient
) -> None:
    fake_isales.add_campaign(1, 42, [*numbers(120), KEEP])

    async def source() -> AsyncIterator[str]:
        for index, number in enumerate(numbers(120)):
            if index == 5:
                yield "12-34"
            yield number

    result = await isales.caller_numbers.delete(1, 42, source())

    assert (result.count, result.requests) == (120, 2)
    [bad] = result.failed
    assert bad.numbers == ("12-34",)
    assert bad.result_code == ""
    assert "digits only" in bad.result_desc
    assert isinstance(bad.error, RequestValidationError)
    assert sent_sizes(fake_isales) == [100, 20]


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        (["13800000001", "138-0000"], "numbers"),
        (["1" * 25], "numbers"),
        ([], "numbers"),
        ("13800000001", "numbers"),
    ],
)
async def test_bad_collections_raise_before_anything_is_sent(
    fake_isales: FakeISales, isales: ISalesClient, bad: object, field: str
) -> None:
    fake_isales.add_campaign(1, 42, ["13800000001", KEEP])
    with pytest.raises(RequestValidationError) as raised:
        await isales.caller_numbers.delete(1, 42, bad)  # type: ignore[arg-type]
    assert raised.value.field == field
    assert fake_isales.requests == []


async def test_an_empty_lazy_source_raises(fake_isales: FakeISales, isales: ISalesClient) -> None:
    with pytest.raises(RequestValidationError, match="must not be empty"):
        await isales.caller_numbers.delete(1, 42, iter(()))
    assert fake_isales.requests == []


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.caller_numbers.delete(0, 42, ["1"]), "vdn_id"),
        (lambda c: c.caller_numbers.delete(10000, 42, ["1"]), "vdn_id"),
        (lambda c: c.caller_numbers.delete(1, 0, ["1"]), "campaign_id"),
        (lambda c: c.caller_numbers.add(1, 42, ["1"], priority=0), "priority"),
        (lambda c: c.caller_numbers.add(1, 42, ["1"], priority=6), "priority"),
        (lambda c: c.caller_numbers.add(1, "42", ["1"]), "campaign_id"),
        (lambda c: c.campaigns.get(1, -1), "campaign_id"),
    ],
)
async def test_ids_and_priority_are_checked_before_sending(
    fake_isales: FakeISales, isales: ISalesClient, call: object, field: str
) -> None:
    assert callable(call)
    with pytest.raises(RequestValidationError) as raised:
        await call(isales)
    assert raised.value.field == field
    assert fake_isales.requests == []


async def test_the_chunk_that_would_empty_the_campaign_fails_and_the_others_count(
    fake_isales: FakeISales, isales: ISalesClient
) -> None:
    everything = numbers(150)
    fake_isales.add_campaign(1, 42, everything)
    seen: list[Progress] = []

    result = await isales.caller_numbers.delete(1, 42, everything, on_progress=seen.append)

    assert (result.count, result.requests, result.ok) == (100, 2, False)
    [refused] = result.failed
    assert refused.numbers == tuple(everything[100:])
    assert refused.result_code == "0200001"
    assert refused.result_desc == KEEP_ONE_DESCRIPTION
    assert "at least one calling number must be reserved" in refused.result_desc.lower()
    assert isinstance(refused.error, InvalidParameterError)
    assert fake_isales.caller_numbers(1, 42) == set(everything[100:])
    assert [(p.done, p.deleted, p.failed) for p in seen] == [(100, 100, 0), (150, 100, 50)]


async def test_progress_counts_confirmed_unconfirmed_and_rejected(
    fake_isales: FakeISales, isales: ISalesClient
) -> None:
    fake_isales.add_campaign(1, 42, [*numbers(100), KEEP])
    seen: list[Progress] = []

    def source() -> Iterator[str]:
        yield from numbers(150)
        yield "x"

    await isales.caller_numbers.delete(1, 42, source(), on_progress=seen.append)

    last = seen[-1]
    # The second request's 50 numbers were not on the campaign: the server confirmed 0 of 50.
    assert (last.done, last.deleted, last.partly_confirmed, last.failed) == (151, 100, 50, 1)


async def test_a_campaign_that_does_not_exist_stops_the_run_with_the_partial_result(
    fake_isales: FakeISales, isales: ISalesClient
) -> None:
    fake_isales.add_campaign(1, 42, [*numbers(250), KEEP])
    fake_isales.fail_next("0200007")  # nothing is sent after the first refusal

    with pytest.raises(NotFoundError) as raised:
        await isales.caller_numbers.delete(1, 42, numbers(250))

    assert raised.value.code == "0200007"
    partial = raised.value.partial
    assert isinstance(partial, CallerNumberDeletion)
    assert (partial.count, partial.requests) == (0, 1)
    assert partial.failed[0].result_code == "0200007"
    assert len(fake_isales.requests) == 1


async def test_a_refused_signature_stops_the_run_after_what_was_done(
    fake_isales: FakeISales,
) -> None:
    fake_isales.add_campaign(1, 42, [*numbers(250), KEEP])
    async with ISalesClient(fake_isales.url, fake_isales.app_key, "SK-wrong") as client:
        with pytest.raises(AuthenticationError) as raised:
            await client.caller_numbers.add(1, 42, numbers(250, start=14000000000))
    error = raised.value
    assert error.http_status == 401
    assert isinstance(error.partial, CallerNumberAddition)
    assert (error.partial.count, error.partial.requests) == (0, 1)
    assert len(fake_isales.requests) == 1  # never retried, no later chunk sent
    assert "SK-wrong" not in str(error)
    assert "AK-demo" not in str(error)


async def test_a_refused_chunk_does_not_stop_the_others(
    fake_isales: FakeISales, isales: ISalesClient
) -> None:
    fake_isales.add_campaign(1, 42, [*numbers(250), KEEP])
    fake_isales.fail_next("02000009", endpoint="deleteCallerNo")  # the first chunk

    result = await isales.caller_numbers.delete(1, 42, numbers(250))

    assert (result.count, result.requests, result.ok) == (150, 3, False)
    [refused] = result.failed
    assert (refused.numbers, refused.result_code) == (tuple(numbers(100)), "02000009")
    assert refused.result_desc == "Incorrect parameter combination. Check the request parameters."
    assert fake_isales.caller_numbers(1, 42) == {*numbers(100), KEEP}


async def test_a_chunk_that_fails_after_retries_is_reported_without_a_code(
    fake_isales: FakeISales, isales: ISalesClient
) -> None:
    fake_isales.add_campaign(1, 42, [*numbers(150), KEEP])
    fake_isales.faults.queue(Fault.SERVER_ERROR, 4)  # every attempt of the first chunk

    result = await isales.caller_numbers.delete(1, 42, numbers(150))

    assert (result.count, result.requests) == (50, 2)
    [refused] = result.failed
    assert (refused.numbers, refused.result_code) == (tuple(numbers(100)), "")
    assert "server error 503" in refused.result_desc
    assert refused.error is not None
    assert refused.error.attempts == 4


async def test_add_sends_the_priority_and_merges_counts(
    fake_isales: FakeISales, isales: ISalesClient
) -> None:
    fake_isales.add_campaign(1, 42, ["13800000000"])
    seen: list[Progress] = []

    result = await isales.caller_numbers.add(
        1, 42, numbers(130), priority=3, on_progress=seen.append
    )

    assert result == CallerNumberAddition(count=129, requests=2, failed=())
    entries = [e for r in fake_isales.requests_to("addCallerNo") for e in r.json()["callerNo"]]
    assert {e["priority"] for e in entries} == {3}
    assert sent_sizes(fake_isales, "addCallerNo") == [100, 30]
    assert fake_isales.campaigns[1][42].caller_numbers["13800000129"] == 3
    # The first request carried a number already there: confirmed 99 of 100, each in part.
    assert (seen[-1].done, seen[-1].added, seen[-1].partly_confirmed) == (130, 30, 100)


async def test_a_retried_request_is_signed_again_with_a_fresh_timestamp(
    fake_isales: FakeISales, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime.now(UTC).replace(microsecond=0)
    ticks = iter(start + timedelta(seconds=s) for s in range(100))
    monkeypatch.setattr(auth_module, "utc_now", lambda: next(ticks))
    fake_isales.add_campaign(1, 42, ["13800000000", KEEP])
    fake_isales.faults.queue(Fault.SERVER_ERROR, 2)
    retry = RetryPolicy(max_attempts=3, initial_delay=0.0, max_delay=0.0)

    async with ISalesClient(fake_isales.url, "AK-demo", "SK-demo", retry=retry) as client:
        result = await client.caller_numbers.delete(1, 42, ["13800000000"])

    assert result.count == 1
    headers = [r.headers["Authorization"].split("/") for r in fake_isales.requests]
    assert [h[2] for h in headers] == [
        (start + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ") for s in range(3)
    ]
    assert len({h[4] for h in headers}) == 3
    assert fake_isales.counters["unauthorized"] == 0


async def test_logs_never_carry_keys_or_signatures(
    fake_isales: FakeISales, isales: ISalesClient, caplog: pytest.LogCaptureFixture
) -> None:
    fake_isales.add_campaign(1, 42, [*numbers(5), KEEP])
    fake_isales.faults.queue(Fault.SERVER_ERROR, 1)
    with caplog.at_level(logging.DEBUG, logger="ozoasync"):
        await isales.caller_numbers.delete(1, 42, numbers(5))
        await isales.campaigns.get(1, 42)
    signatures = {r.headers["Authorization"].split("/")[4] for r in fake_isales.requests}
    assert "deleteCallerNo" in caplog.text
    for secret in (fake_isales.app_key, fake_isales.app_secret, *signatures):
        assert secret not in caplog.text


async def test_a_deletion_whose_answer_was_cut_off_is_repeated_and_counts_the_servers_word(
    fake_isales: FakeISales, isales: ISalesClient
) -> None:
    fake_isales.add_campaign(1, 42, [*numbers(3), KEEP])
    fake_isales.faults.queue(Fault.TRUNCATED, 1)  # the server acts, the answer is cut off

    result = await isales.caller_numbers.delete(1, 42, numbers(3))

    assert fake_isales.caller_numbers(1, 42) == {KEEP}
    assert len(fake_isales.requests) == 2
    assert (result.count, result.requests, result.ok) == (0, 1, True)


async def test_an_addition_whose_answer_was_cut_off_is_not_repeated(
    fake_isales: FakeISales, isales: ISalesClient
) -> None:
    fake_isales.add_campaign(1, 42, [KEEP])
    fake_isales.faults.queue(Fault.TRUNCATED, 1)

    result = await isales.caller_numbers.add(1, 42, numbers(3))

    assert len(fake_isales.requests) == 1
    [failed] = result.failed
    assert isinstance(failed.error, ResponseDecodeError)
    assert failed.error.answer_lost  # the server may have acted, and here it did
    assert fake_isales.caller_numbers(1, 42) == {*numbers(3), KEEP}


# --- delete_chunks / add_chunks: per-number truth, streamed -------------------------------------


def items_of(chunks: list[CallerNumberChunk]) -> list[NumberResult]:
    return [item for chunk in chunks for item in chunk.items]


async def test_delete_chunks_say_per_number_what_the_server_confirmed(
    fake_isales: FakeISales, isales: ISalesClient
) -> None:
    fake_isales.add_campaign(1, 42, [*numbers(130), KEEP])
    given = [*numbers(5), "12-34", *numbers(125, 13800000005), *numbers(20, 13900000000)]

    chunks = [c async for c in isales.caller_numbers.delete_chunks(1, 42, iter(given))]

    assert [(c.requests, len(c.items), c.count) for c in chunks] == [
        (0, 1, None),  # the rejected number, read while the first request filled
        (1, 100, 100),
        (1, 50, 30),
    ]
    assert {i.outcome for i in chunks[1].items} == {Outcome.DELETED}
    assert {i.outcome for i in chunks[2].items} == {Outcome.PARTLY_CONFIRMED}
    assert chunks[2].items[0].message == "the server confirmed 30 of this request's 50 numbers"
    assert chunks[0].items[0].number == "12-34"
    assert isinstance(chunks[0].items[0].error, RequestValidationError)
    assert sorted(i.number for i in items_of(chunks)) == sorted(given)


async def test_add_chunks_are_added_and_a_refused_chunk_fails_each_number(
    fake_isales: FakeISales, isales: ISalesClient
) -> None:
    fake_isales.add_campaign(1, 42, [KEEP])
    fake_isales.fail_next("02000011", endpoint="addCallerNo")

    chunks = [c async for c in isales.caller_numbers.add_chunks(1, 42, numbers(150), priority=2)]

    assert [(c.requests, len(c.items)) for c in chunks] == [(1, 100), (1, 50)]
    assert {(i.outcome, type(i.error)) for i in chunks[0].items} == {
        (Outcome.FAILED, InvalidParameterError)
    }
    assert {i.outcome for i in chunks[1].items} == {Outcome.ADDED}
    assert chunks[1].count == 50


@pytest.mark.parametrize("seed", [1, 2])
async def test_every_input_number_in_exactly_one_item_under_faults(seed: int) -> None:
    given = [*numbers(500), *numbers(500)[::7], "x", *numbers(80, 14000000000)]
    async with FakeISales(faults=FaultPlan(rate=0.4, seed=seed, slow_delay=0.3)) as fake:
        fake.add_campaign(1, 42, [*numbers(500), KEEP])
        async with ISalesClient(
            fake.url, fake.app_key, fake.app_secret, retry=FAST_RETRY, timeout=0.2
        ) as client:
            chunks = [c async for c in client.caller_numbers.delete_chunks(1, 42, iter(given))]
        left = fake.caller_numbers(1, 42) - {KEEP}

    items = items_of(chunks)
    assert sorted(i.number for i in items) == sorted(set(given))
    done = {i.number for i in items if i.outcome is Outcome.DELETED}
    assert done.isdisjoint(left)  # confirmed in full: really gone
    assert left <= {i.number for i in items if i.outcome is Outcome.FAILED}
    assert all(i.error is not None for i in items if i.outcome is Outcome.FAILED)
