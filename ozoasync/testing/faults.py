"""Fault injection for the emulators: what can go wrong between a client and a vendor."""

from __future__ import annotations

import enum
import random
from collections import deque
from dataclasses import dataclass, field


class Fault(enum.StrEnum):
    """One injected failure. The comment says whether the server acted on the request."""

    SERVER_ERROR = "server_error"  # 503 HTML page from a gateway; not acted on
    DROP_BEFORE = "drop_before"  # connection closed before acting
    DROP_AFTER = "drop_after"  # acted, then connection closed without an answer
    SLOW = "slow"  # acted, answered after the slow delay (past a client's timeout)
    HTML = "html"  # HTTP 200 with an HTML page from a proxy; not acted on
    TRUNCATED = "truncated"  # acted, answered with a cut-off JSON body
    GATEWAY_TIMEOUT = "gateway_timeout"  # acted, but the gateway answered 504 first
    RATE_LIMITED = "rate_limited"  # HTTP 429 with FaultPlan.retry_after; not acted on

    @property
    def acts(self) -> bool:
        """Whether the server carries the request out before the fault shows."""
        return self in (Fault.DROP_AFTER, Fault.SLOW, Fault.TRUNCATED, Fault.GATEWAY_TIMEOUT)


#: What a random plan draws from unless told otherwise: the faults of the way between client
#: and server (RATE_LIMITED and GATEWAY_TIMEOUT are queued or chosen explicitly).
TRANSPORT_FAULTS = (
    Fault.SERVER_ERROR,
    Fault.DROP_BEFORE,
    Fault.DROP_AFTER,
    Fault.SLOW,
    Fault.HTML,
    Fault.TRUNCATED,
)


@dataclass
class FaultPlan:
    """Which requests fail, and how.

    ``rate``: the share of requests (of ``endpoints``, or all) that get a random fault from
    ``kinds``, drawn from a seeded generator so a run can be repeated. ``queue()`` schedules
    exact faults for the next matching requests, ahead of the random ones. ``retry_after``:
    the ``Retry-After`` header of SERVER_ERROR pages and RATE_LIMITED answers, in seconds or
    as an HTTP date (RATE_LIMITED says "1" without it).
    """

    rate: float = 0.0
    kinds: tuple[Fault, ...] = TRANSPORT_FAULTS
    retry_after: str | None = None
    endpoints: frozenset[str] | None = None
    seed: int = 0
    slow_delay: float = 2.0
    _queued: deque[tuple[Fault, str | None]] = field(default_factory=deque, repr=False)
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def queue(self, fault: Fault, count: int = 1, *, endpoint: str | None = None) -> None:
        """Give the next ``count`` requests (to ``endpoint``, if named) this fault."""
        self._queued.extend([(fault, endpoint)] * count)

    def choose(self, endpoint: str) -> Fault | None:
        """The fault for the next request to ``endpoint``, if any."""
        for index, (fault, only) in enumerate(self._queued):
            if only is None or only == endpoint:
                del self._queued[index]
                return fault
        if self.endpoints is not None and endpoint not in self.endpoints:
            return None
        if self.rate > 0 and self._random.random() < self.rate:
            return self._random.choice(self.kinds)
        return None
