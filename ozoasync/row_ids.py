"""Row ids for deleteScheduledData: every accepted form, turned into the vendor's compact form.

Accepted: an int, a ``range`` (step 1 kept as a range, so ``range(1, 10**9)`` costs nothing),
an iterable of ints, or the vendor's strings (``"7"``, ``"2,3,5,6"``, ``"3-10"`` and mixes such
as ``"1,3-10,12"``). The result is sorted and merged: ``[1, 2, 3, 7]`` -> ``"1-3,7"``; runs of
three or more become ranges, shorter runs stay listed (``[2, 3, 5, 6]`` -> ``"2,3,5,6"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import RequestValidationError
from .validation import MAX_ID

FIELD = "row_ids"
# Digits of the largest id: a longer run is refused before int() (which gives up on strings
# of more than ~4,300 digits with a bare ValueError).
_MAX_DIGITS = len(str(MAX_ID))
_PART = re.compile(r"\s*([0-9]+)\s*(?:-\s*([0-9]+)\s*)?")

Span = tuple[int, int]


def _bad(problem: str) -> RequestValidationError:
    return RequestValidationError(FIELD, problem)


def _check_id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(f"row ids must be ints, got {type(value).__name__}")
    if value < 1:
        raise _bad("row ids must be positive")
    if value > MAX_ID:
        raise _bad(f"row ids must be at most {MAX_ID}")
    return value


def _parse_id(digits: str) -> int:
    if len(digits.lstrip("0")) > _MAX_DIGITS:
        raise _bad(f"row ids must be at most {MAX_ID}")
    return _check_id(int(digits))


def parse_row_id_string(text: str) -> list[Span]:
    """The spans in a vendor-form string, in order. Rejects blanks, junk and backwards ranges."""
    if not text.strip():
        raise _bad("must not be empty")
    spans: list[Span] = []
    for part in text.split(","):
        match = _PART.fullmatch(part)
        if match is None:
            shown = part.strip()[:40]
            raise _bad(f"{shown!r} is not a row id or a range like '3-10'")
        start = _parse_id(match.group(1))
        end = _parse_id(match.group(2)) if match.group(2) else start
        if end < start:
            raise _bad(f"range {start}-{end} runs backwards")
        spans.append((start, end))
    return spans


def to_spans(row_ids: object) -> list[Span]:
    """Every accepted form as a list of inclusive spans (unsorted, possibly overlapping)."""
    if isinstance(row_ids, str):
        return parse_row_id_string(row_ids)
    if isinstance(row_ids, bool | bytes | bytearray):
        # bytes iterate as ints: b"12" would silently become rows 49 and 50.
        raise _bad("must be an int, a range, ints or a string such as '1,3-10'")
    if isinstance(row_ids, int):
        return [(_check_id(row_ids), row_ids)]
    if isinstance(row_ids, range) and row_ids.step == 1:
        if not row_ids:
            raise _bad("the range is empty")
        return [(_check_id(row_ids.start), _check_id(row_ids[-1]))]
    if isinstance(row_ids, Iterable):
        spans = [(value, value) for value in map(_check_id, row_ids)]
        if not spans:
            raise _bad("must not be empty")
        return spans
    raise _bad(f"unsupported type {type(row_ids).__name__}")


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Sorted, with overlapping and adjacent spans joined."""
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def format_spans(spans: Iterable[Span]) -> str:
    """The vendor's compact form of merged spans."""
    parts: list[str] = []
    for start, end in spans:
        if end - start >= 2:
            parts.append(f"{start}-{end}")
        else:
            parts.extend(str(n) for n in range(start, end + 1))
    return ",".join(parts)


def compact_row_ids(row_ids: object) -> str:
    """Any accepted form of row ids as the vendor's compact string."""
    return format_spans(merge_spans(to_spans(row_ids)))
