"""Row ids for deleteScheduledData: every accepted form, the vendor's compact form, and every
malformed form rejected with field "row_ids"."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozoasync import RequestValidationError
from ozoasync.row_ids import compact_row_ids, parse_row_id_string


def expand(compact: str) -> set[int]:
    """Every id a compact string names."""
    return {n for start, end in parse_row_id_string(compact) for n in range(start, end + 1)}


def generated(ids: list[int]) -> Iterator[int]:
    yield from ids


@pytest.mark.parametrize(
    ("row_ids", "compact"),
    [
        (7, "7"),
        ([1, 2, 3, 7], "1-3,7"),
        ([7, 3, 1, 2], "1-3,7"),
        ([1, 1, 2, 2, 3], "1-3"),
        ([2, 3, 5, 6], "2,3,5,6"),
        ({5, 9}, "5,9"),
        ((4,), "4"),
        (generated([10, 11, 12, 20]), "10-12,20"),
        (range(3, 11), "3-10"),
        (range(1, 10**9), "1-999999999"),
        (range(1, 10, 3), "1,4,7"),
        (range(5, 0, -1), "1-5"),
        ("7", "7"),
        ("2,3,5,6", "2,3,5,6"),
        ("3-10", "3-10"),
        ("1,3-10,12", "1,3-10,12"),
        ("1-3,2-5", "1-5"),
        ("4-5,1-2", "1,2,4,5"),
        ("1-2,3", "1-3"),
        ("5-5", "5"),
        (" 1 , 3 - 10 ,12 ", "1,3-10,12"),
        ("007", "7"),
        ("10,9,8", "8-10"),
    ],
)
def test_every_accepted_form_becomes_the_compact_form(row_ids: object, compact: str) -> None:
    assert compact_row_ids(row_ids) == compact


@pytest.mark.parametrize(
    "row_ids",
    [
        "",
        "   ",
        ",",
        "1,",
        ",1",
        "1,,2",
        "10-3",
        "3-",
        "-3",
        "1-2-3",
        "a",
        "1;2",
        "1 2",
        "0",
        "0-5",
        "1.5",
        "+1",
        "٣",  # a non-ASCII digit
        0,
        -1,
        True,
        1.0,
        None,
        [],
        range(0),
        range(0, 3),
        [1, 0],
        [1, "2"],
        [1, 2.0],
        [True],
        b"12",
        {"a": 1},
        object(),
    ],
)
def test_every_malformed_form_is_rejected_naming_row_ids(row_ids: object) -> None:
    with pytest.raises(RequestValidationError) as caught:
        compact_row_ids(row_ids)
    assert caught.value.field == "row_ids"


ids = st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=60)


@given(ids)
def test_compact_names_exactly_the_given_ids(values: list[int]) -> None:
    assert expand(compact_row_ids(values)) == set(values)


@given(ids)
def test_compact_is_canonical_and_idempotent(values: list[int]) -> None:
    compact = compact_row_ids(values)
    assert compact_row_ids(compact) == compact
    assert compact_row_ids(sorted(set(values), reverse=True)) == compact
    spans = parse_row_id_string(compact)
    for (_, previous_end), (start, _) in itertools.pairwise(spans):
        assert start > previous_end  # sorted, no overlap
    for start, end in spans:
        assert end == start or end - start >= 2  # a run of two stays listed: "2,3"
    singles = [start for start, end in spans if start == end]
    for first, _, third in zip(singles, singles[1:], singles[2:], strict=False):
        assert third - first > 2  # three in a row would be a range


spans = st.lists(
    st.tuples(st.integers(1, 300), st.integers(0, 40)).map(lambda s: (s[0], s[0] + s[1])),
    min_size=1,
    max_size=12,
)


@given(spans)
def test_vendor_strings_with_ranges_round_trip(parts: list[tuple[int, int]]) -> None:
    text = ",".join(f"{a}-{b}" if a != b else str(a) for a, b in parts)
    wanted = {n for a, b in parts for n in range(a, b + 1)}
    assert expand(compact_row_ids(text)) == wanted
    assert expand(compact_row_ids(range(min(wanted), max(wanted) + 1))) == set(
        range(min(wanted), max(wanted) + 1)
    )


@given(st.integers(1, 10**6), st.integers(1, 10**6))
def test_backwards_ranges_are_rejected(a: int, b: int) -> None:
    start, end = max(a, b), min(a, b)
    if start == end:
        assert compact_row_ids(f"{start}-{end}") == str(start)
        return
    with pytest.raises(RequestValidationError) as caught:
        compact_row_ids(f"{start}-{end}")
    assert caught.value.field == "row_ids"
    assert "backwards" in caught.value.problem
