"""What the transport tells its observers: OpenTelemetry (``ozoasync.telemetry``) and users'
:class:`Hooks`. The facts carry no phone number, name, key, token or signature: endpoint
names, HTTP and vendor statuses, counts and durations only.

The transport asks ``observer.call(endpoint, method)`` once per SDK call; ``None`` means
nobody listens, and then nothing else is built for that call (no observer, no cost).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AttemptInfo:
    """One attempt of a call, after it ended.

    ``http_status`` is None when no answer came (refused, dropped, timed out);
    ``vendor_status`` is the vendor's ``status`` (CloudAgent) or ``resultCode`` (iSales);
    ``outcome`` is ``"ok"`` or the error's class name; ``rate_limit_wait`` the seconds this
    attempt waited for its slot; ``will_retry`` whether another attempt follows."""

    endpoint: str
    method: str
    attempt: int
    http_status: int | None
    vendor_status: str | None
    outcome: str
    duration: float
    rate_limit_wait: float
    will_retry: bool


@dataclass(frozen=True, slots=True)
class RateLimitWaitInfo:
    """An attempt waited ``waited`` seconds for its rate-limit slot of ``endpoint``."""

    endpoint: str
    waited: float


@dataclass(frozen=True, slots=True)
class GiveUpInfo:
    """A call failed for good after ``attempts`` attempts with a transient error (one another
    attempt might have cured): ``error_type`` its class name, ``message`` its redacted text."""

    endpoint: str
    method: str
    attempts: int
    error_type: str
    message: str


class CallObserver(Protocol):
    """Observes one SDK call, from ``Observer.call`` to ``end``."""

    def rate_limit_wait(self, info: RateLimitWaitInfo) -> None: ...

    def attempt(self, info: AttemptInfo) -> None: ...

    def give_up(self, info: GiveUpInfo) -> None: ...

    def end(self, outcome: str) -> None:
        """The call ended: ``"ok"`` or the class name of the error it raised
        (``"CancelledError"`` for a call cancelled before it ended)."""
        ...


class Observer(Protocol):
    """Observes a client's calls and bulk progress."""

    def call(self, endpoint: str, method: str) -> CallObserver | None:
        """An observer of one call that starts now, or None to observe nothing of it."""
        ...

    def progress(self, operation: str, outcome: str, count: int) -> None:
        """``count`` items of a bulk ``operation`` finished with ``outcome``."""
        ...


AttemptHook = Callable[[AttemptInfo], object]
RateLimitWaitHook = Callable[[RateLimitWaitInfo], object]
GiveUpHook = Callable[[GiveUpInfo], object]


@dataclass(frozen=True, slots=True)
class Hooks:
    """Callbacks for users without OpenTelemetry: ``CloudAgentClient(..., hooks=Hooks(...))``.

    Each is called synchronously on the event loop with the facts the spans carry (keep them
    cheap; an exception in a hook propagates into the call). Unset hooks cost nothing."""

    on_attempt: AttemptHook | None = None
    on_rate_limit_wait: RateLimitWaitHook | None = None
    on_give_up: GiveUpHook | None = None

    @property
    def listening(self) -> bool:
        """Whether any hook is set."""
        return not (
            self.on_attempt is None and self.on_rate_limit_wait is None and self.on_give_up is None
        )

    def call(self, endpoint: str, method: str) -> CallObserver | None:
        return _HookCall(self) if self.listening else None

    def progress(self, operation: str, outcome: str, count: int) -> None:
        return None


@dataclass(frozen=True, slots=True)
class _HookCall:
    hooks: Hooks

    def rate_limit_wait(self, info: RateLimitWaitInfo) -> None:
        if self.hooks.on_rate_limit_wait is not None:
            self.hooks.on_rate_limit_wait(info)

    def attempt(self, info: AttemptInfo) -> None:
        if self.hooks.on_attempt is not None:
            self.hooks.on_attempt(info)

    def give_up(self, info: GiveUpInfo) -> None:
        if self.hooks.on_give_up is not None:
            self.hooks.on_give_up(info)

    def end(self, outcome: str) -> None:
        return None


@dataclass(frozen=True, slots=True)
class _Fanout:
    """Several call observers as one."""

    calls: Sequence[CallObserver]

    def rate_limit_wait(self, info: RateLimitWaitInfo) -> None:
        for call in self.calls:
            call.rate_limit_wait(info)

    def attempt(self, info: AttemptInfo) -> None:
        for call in self.calls:
            call.attempt(info)

    def give_up(self, info: GiveUpInfo) -> None:
        for call in self.calls:
            call.give_up(info)

    def end(self, outcome: str) -> None:
        for call in self.calls:
            call.end(outcome)


@dataclass(frozen=True, slots=True)
class Observers:
    """Several observers as one (telemetry and hooks)."""

    observers: Sequence[Observer]

    def call(self, endpoint: str, method: str) -> CallObserver | None:
        calls = [c for o in self.observers if (c := o.call(endpoint, method)) is not None]
        if not calls:
            return None
        return calls[0] if len(calls) == 1 else _Fanout(calls)

    def progress(self, operation: str, outcome: str, count: int) -> None:
        for observer in self.observers:
            observer.progress(operation, outcome, count)


def observer_for(*, telemetry: bool, hooks: Hooks | None) -> Observer | None:
    """What a client reports to: OpenTelemetry when ``telemetry`` and ``opentelemetry-api``
    is importable, and the user's ``hooks``; None when nothing listens."""
    observers: list[Observer] = []
    if telemetry and (otel := _opentelemetry()) is not None:
        observers.append(otel)
    if hooks is not None and hooks.listening:
        observers.append(hooks)
    if not observers:
        return None
    return observers[0] if len(observers) == 1 else Observers(observers)


@functools.cache
def _opentelemetry() -> Observer | None:
    """The process's OpenTelemetry observer, or None without ``opentelemetry-api``. Looked
    for once: without the extra, nothing is imported."""
    try:
        from ..telemetry import OpenTelemetryObserver
    except ModuleNotFoundError as missing:
        if (missing.name or "").partition(".")[0] != "opentelemetry":
            raise
        return None
    return OpenTelemetryObserver()
