"""Batching: any iterable or async iterable read lazily, checked, de-duplicated, cut into
batches of at most ``size``; collections checked whole before anything is yielded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozoasync import RequestValidationError
from ozoasync.batching import DEDUPE_WINDOW, Batch, Numbers, batches
from ozoasync.validation import (
    access_code,
    phone_number,
    plain_access_codes,
    plain_phone_numbers,
)


def lazily(items: list[str]) -> Iterator[str]:
    yield from items


async def async_lazily(items: list[str]) -> AsyncIterator[str]:
    for item in items:
        await asyncio.sleep(0)
        yield item


async def collect(source: Numbers, size: int = 3, *, dedupe: bool = True) -> list[Batch]:
    return [
        batch
        async for batch in batches(
            source, size=size, check=phone_number, field_name="numbers", dedupe=dedupe
        )
    ]


def items_of(result: list[Batch]) -> list[list[str]]:
    return [batch.items for batch in result]


SOURCES = [list, tuple, lazily, async_lazily]


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        (["1"], [["1"]]),
        (["1", "2", "3"], [["1", "2", "3"]]),
        (["1", "2", "3", "4"], [["1", "2", "3"], ["4"]]),
        (["1", "1", "2", "1", "3", "2", "4"], [["1", "2", "3"], ["4"]]),
        ([" 1 ", "1", "+2", "+2"], [["1", "+2"]]),
        (["5", "4", "3", "2", "1", "0"], [["5", "4", "3"], ["2", "1", "0"]]),
    ],
)
async def test_batches_are_checked_unique_and_in_order(
    kind: type, numbers: list[str], expected: list[list[str]]
) -> None:
    result = await collect(kind(numbers))
    assert items_of(result) == expected
    assert all(not batch.rejected for batch in result)


async def test_duplicates_are_kept_when_asked() -> None:
    assert items_of(await collect(["1", "1", "1", "2"], dedupe=False)) == [["1", "1", "1"], ["2"]]


@pytest.mark.parametrize("kind", [list, tuple, set, frozenset])
async def test_a_bad_item_in_a_collection_raises_before_any_batch(kind: type) -> None:
    stream = batches(
        kind(["1", "2", "3", "4", "x5"]), size=2, check=phone_number, field_name="numbers"
    )
    with pytest.raises(RequestValidationError) as caught:
        await anext(stream)  # the very first batch: nothing was yielded before the error
    assert caught.value.field == "numbers"
    assert "x5" in caught.value.problem


@pytest.mark.parametrize("kind", [lazily, async_lazily])
async def test_a_bad_item_in_a_lazy_source_is_rejected_where_read(kind: type) -> None:
    result = await collect(kind(["1", "abc", "2", "", "3", "4", "+", "4"]))
    assert items_of(result) == [["1", "2", "3"], ["4"]]
    rejected = [(raw, error.field) for batch in result for raw, error in batch.rejected]
    assert rejected == [("abc", "numbers"), ("", "numbers"), ("+", "numbers")]
    assert [raw for raw, _ in result[0].rejected] == ["abc", ""]


@pytest.mark.parametrize("kind", [lazily, async_lazily])
async def test_a_lazy_source_of_only_bad_items_yields_only_rejections(kind: type) -> None:
    result = await collect(kind(["a", "b"]))
    assert items_of(result) == [[]]
    assert [raw for raw, _ in result[0].rejected] == ["a", "b"]


@pytest.mark.parametrize(
    "source",
    [[], (), set(), lazily([]), async_lazily([]), "9876543210", b"98", 42, None],
    ids=["list", "tuple", "set", "generator", "async-generator", "str", "bytes", "int", "none"],
)
async def test_empty_or_non_iterable_input_raises(source: object) -> None:
    with pytest.raises(RequestValidationError) as caught:
        await collect(source)  # type: ignore[arg-type]
    assert caught.value.field == "numbers"


digits = st.text(alphabet="0123456789", min_size=1, max_size=4)
junk = st.sampled_from(["", " ", "x", "12a", "+", "1+2", "++1"])


@given(st.lists(digits, max_size=60), st.integers(1, 7), st.sampled_from(SOURCES))
def test_every_unique_item_once_in_order_in_full_batches(
    numbers: list[str], size: int, kind: type
) -> None:
    if not numbers:
        return
    result = asyncio.run(collect(kind(numbers), size))
    flat = [item for batch in result for item in batch.items]
    assert flat == list(dict.fromkeys(numbers))
    assert all(1 <= len(batch.items) <= size for batch in result)
    assert all(len(batch.items) == size for batch in result[:-1])


@given(st.lists(st.one_of(digits, junk), min_size=1, max_size=60), st.integers(1, 7))
def test_lazy_sources_send_every_valid_item_and_reject_the_rest(
    numbers: list[str], size: int
) -> None:
    result = asyncio.run(collect(lazily(numbers), size))
    valid = [n for n in numbers if n.isdigit()]  # every junk item has a non-digit
    assert [item for batch in result for item in batch.items] == list(dict.fromkeys(valid))
    # Rejected input is de-duplicated too: each distinct one reported once.
    assert [raw for batch in result for raw, _ in batch.rejected] == list(
        dict.fromkeys(n for n in numbers if n not in valid)
    )
    assert all(len(batch.items) <= size for batch in result)


# --- the batch fast path agrees with the per-item checks --------------------------------------

_item = st.one_of(
    st.text(alphabet="0123456789+ \t٣x", max_size=27),
    st.integers(0, 99),
    st.none(),
)


@given(st.lists(_item, min_size=1, max_size=8))
def test_a_plain_batch_is_one_every_per_item_check_returns_unchanged(values: list[object]) -> None:
    for plain, check in ((plain_phone_numbers, phone_number), (plain_access_codes, access_code)):
        if plain(values):
            assert [check(v, "numbers") for v in values] == values
    if all(isinstance(v, str) and v.isascii() and v.isdigit() and len(v) <= 24 for v in values):
        assert plain_phone_numbers(values)
        assert plain_access_codes(values)


@given(st.lists(_item, min_size=1, max_size=40), st.integers(1, 7))
def test_batches_equal_the_item_by_item_reading(values: list[object], size: int) -> None:
    result = asyncio.run(collect(lazily(values), size))  # type: ignore[arg-type]
    expected_items: list[str] = []
    expected_rejected: list[str] = []
    for value in values:
        try:
            item = phone_number(value, "numbers")
        except RequestValidationError:
            text = str(value)
            if not isinstance(value, str) or text not in expected_rejected:
                expected_rejected.append(text)
            continue
        if item not in expected_items:
            expected_items.append(item)
    assert [item for batch in result for item in batch.items] == expected_items
    assert [raw for batch in result for raw, _ in batch.rejected] == expected_rejected


async def test_repeats_are_dropped_within_the_window_and_sent_again_beyond_it() -> None:
    first = [str(10**9 + n) for n in range(DEDUPE_WINDOW)]
    later = [str(2 * 10**9 + n) for n in range(DEDUPE_WINDOW)]
    near = await collect([*first, first[0], first[-1]], size=100)
    assert sum(len(b.items) for b in near) == DEDUPE_WINDOW
    newest = str(3 * 10**9)
    far = await collect(lazily([*first, *later, *later, newest, first[0]]), size=100)
    # first[0] was followed by 2 x DEDUPE_WINDOW other distinct numbers: forgotten, sent again;
    # the repeats of `later`, within the window, were dropped.
    flat = [item for batch in far for item in batch.items]
    assert flat.count(first[0]) == 2
    assert len(flat) == 2 * DEDUPE_WINDOW + 2
