"""The four server readings of "N requests per T seconds", and the claim the default schedule
rests on: requests spaced evenly with a margin pass every one of them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozoasync.testing.readings import (
    FixedWindow,
    Reading,
    SlidingCounter,
    SlidingLog,
    TokenBucket,
    max_in_window,
    rejections,
)


def admitted(reading: Reading, times: list[float]) -> list[bool]:
    return [reading.admit(t) for t in times]


# --- each reading on hand-picked arrivals ------------------------------------------------------


def test_fixed_window_counts_per_clock_aligned_window() -> None:
    # 2 per 10 s, windows [0, 10), [10, 20): three at the end of one window and two at
    # the start of the next all fit but one, although five arrive within 2 s.
    reading = FixedWindow(2, 10.0)
    assert admitted(reading, [9.0, 9.5, 9.9, 10.0, 10.5]) == [True, True, False, True, True]


def test_fixed_window_origin_shifts_the_windows() -> None:
    assert admitted(FixedWindow(1, 10.0, origin=5.0), [4.0, 6.0, 14.9, 15.0]) == [
        True,
        True,
        False,
        True,
    ]


def test_sliding_log_counts_the_last_period() -> None:
    # 2 per 10 s: (t - 10, t]; an arrival exactly 10 s after another no longer sees it.
    reading = SlidingLog(2, 10.0)
    assert admitted(reading, [0.0, 1.0, 9.0, 10.0, 10.5, 11.0]) == [
        True,
        True,
        False,
        True,
        False,
        True,
    ]


def test_a_strict_sliding_log_counts_rejected_arrivals_too() -> None:
    lenient, strict = SlidingLog(1, 10.0), SlidingLog(1, 10.0, count_rejected=True)
    times = [0.0, 5.0, 12.0, 22.5]
    assert admitted(lenient, times) == [True, False, True, True]
    # The knock at 5 keeps the window shut at 12 (and that knock keeps it shut until 22).
    assert admitted(strict, times) == [True, False, False, True]


@pytest.mark.parametrize("count_rejected", [False, True])
def test_sliding_log_retry_after_is_when_the_next_arrival_gets_in(count_rejected: bool) -> None:
    reading = SlidingLog(2, 10.0, count_rejected=count_rejected)
    assert reading.retry_after(0.0) == 0.0
    assert admitted(reading, [0.0, 4.0, 6.0]) == [True, True, False]
    wait = reading.retry_after(6.0)
    assert wait == (14.0 - 6.0 if count_rejected else 10.0 - 6.0)
    assert reading.admit(6.0 + wait)


def test_sliding_counter_weights_the_previous_window() -> None:
    # 10 per 10 s. Ten at the end of window [0, 10); at 11 the previous window still counts
    # 10 * 0.9 = 9, plus this arrival: 10, served; the next makes 11: rejected. At 15:
    # 10 * 0.5 + 1 served + 1 = 7: served.
    reading = SlidingCounter(10, 10.0)
    assert all(admitted(reading, [9.0 + i * 0.01 for i in range(10)]))
    assert admitted(reading, [11.0, 11.0, 15.0]) == [True, False, True]


def test_sliding_counter_forgets_a_window_that_is_not_the_previous_one() -> None:
    reading = SlidingCounter(2, 10.0)
    assert admitted(reading, [1.0, 2.0, 25.0, 25.0]) == [True, True, True, True]


def test_token_bucket_starts_full_and_refills_at_the_rate() -> None:
    # 10 per 10 s (a token a second), capacity 3.
    reading = TokenBucket(10, 10.0, capacity=3)
    assert admitted(reading, [0.0, 0.0, 0.0, 0.0, 0.5, 1.0, 1.5, 2.0]) == [
        True,
        True,
        True,
        False,
        False,
        True,
        False,
        True,
    ]
    # Idle time refills up to the capacity, no further.
    assert admitted(reading, [100.0] * 4) == [True, True, True, False]


def test_rejections_replays_arrivals_in_time_order() -> None:
    assert rejections(SlidingLog(1, 10.0), [5.0, 0.0, 20.0]) == 1
    assert rejections(FixedWindow(5, 1.0), []) == 0


@pytest.mark.parametrize(
    ("times", "period", "expected"),
    [
        ([], 1.0, 0),
        ([0.0, 0.5, 0.99, 1.0, 1.5], 1.0, 3),
        ([0.0, 1.0, 2.0], 1.0, 1),
        ([3.0, 0.0, 0.1], 1.0, 2),
    ],
)
def test_max_in_window(times: list[float], period: float, expected: int) -> None:
    assert max_in_window(times, period) == expected


# --- properties -----------------------------------------------------------------------------

arrival_lists = st.lists(st.floats(0.0, 100.0), max_size=60)
counts = st.integers(1, 10)
periods = st.floats(0.5, 20.0)


@given(times=arrival_lists, n=counts, period=periods)
def test_a_sliding_log_rejects_exactly_the_schedules_that_crowd_a_window(
    times: list[float], n: int, period: float
) -> None:
    crowded = max_in_window(times, period) > n
    assert (rejections(SlidingLog(n, period), times) > 0) == crowded


@given(times=arrival_lists, n=counts, period=periods, origin=st.floats(-20.0, 20.0))
def test_what_a_sliding_log_serves_a_fixed_window_serves(
    times: list[float], n: int, period: float, origin: float
) -> None:
    if max_in_window(times, period) <= n:
        assert rejections(FixedWindow(n, period, origin), times) == 0


even_limits = st.tuples(st.integers(1, 300), st.floats(0.1, 100.0), st.floats(0.0, 0.5))


@given(
    limit=even_limits,
    start=st.floats(0.0, 100.0),
    origin=st.floats(-100.0, 100.0),
    capacity=st.integers(1, 300),
)
def test_even_spacing_passes_the_log_the_fixed_window_and_any_bucket(
    limit: tuple[int, float, float], start: float, origin: float, capacity: int
) -> None:
    n, period, margin = limit
    spacing = period / n * (1 + margin)
    times = [start + i * spacing for i in range(2 * n + 3)]
    assert rejections(SlidingLog(n, period), times) == 0
    assert rejections(FixedWindow(n, period, origin), times) == 0
    assert rejections(TokenBucket(n, period, capacity), times) == 0


@given(
    n=st.integers(2, 300),
    extra=st.floats(1e-6, 0.3),
    period=st.floats(0.1, 100.0),
    start=st.floats(0.0, 100.0),
    origin=st.floats(-100.0, 100.0),
)
def test_even_spacing_passes_a_sliding_counter_when_the_margin_frees_one_request(
    n: int, extra: float, period: float, start: float, origin: float
) -> None:
    # The margin leaves at least one request per period unused: n / (1 + margin) <= n - 1.
    margin = 1 / (n - 1) + extra
    spacing = period / n * (1 + margin)
    times = [start + i * spacing for i in range(3 * n + 5)]
    assert rejections(SlidingCounter(n, period, origin), times) == 0


def test_a_margin_that_frees_less_than_one_request_can_fail_a_sliding_counter() -> None:
    # 10 per 10 s spaced 1.05 s apart: a window holds 9 or 10, too many for the estimate.
    times = [i * 1.05 for i in range(40)]
    assert rejections(SlidingCounter(10, 10.0), times) > 0
    # The default 2% margin frees two of the vendor's 100 per minute.
    times = [i * 0.612 for i in range(400)]
    assert rejections(SlidingCounter(100, 60.0), times) == 0
