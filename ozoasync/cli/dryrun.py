"""--dry-run: read and check the input as a real run would, count, and send nothing."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..batching import Check
from ..errors import RequestValidationError
from ..transport.ratelimit import RateLimit


@dataclass(slots=True)
class DryRun:
    """The counts a real run would start from."""

    read: int = 0
    skipped: int = 0
    duplicates: int = 0
    invalid: int = 0
    to_send: int = 0
    requests: int = 0
    first_invalid: list[tuple[str, str]] = field(default_factory=list)

    def duration(self, limit: RateLimit | None) -> float | None:
        """Seconds the requests take at least under ``limit`` (evenly spaced)."""
        if limit is None or self.requests == 0:
            return None
        return (self.requests - 1) * limit.window if not limit.burst else None


def dry_run(
    items: Iterable[str],
    finished: set[str],
    check: Check,
    per_request: int,
    keep_invalid: int = 5,
) -> DryRun:
    """Count what a run would do with ``items``: skip the finished ones, reject the invalid
    ones, drop duplicates (the operations send each number once), and send the rest in
    requests of ``per_request`` numbers."""
    result = DryRun()
    seen: set[str] = set()
    for raw in items:
        result.read += 1
        if raw in finished:
            result.skipped += 1
            continue
        try:
            number = check(raw, "numbers")
        except RequestValidationError as error:
            result.invalid += 1
            if len(result.first_invalid) < keep_invalid:
                result.first_invalid.append((raw, error.problem))
            continue
        if number in seen:
            result.duplicates += 1
            continue
        seen.add(number)
        result.to_send += 1
    result.requests = math.ceil(result.to_send / per_request)
    return result
