"""Pure descriptions of a request and an answer, shared by every vendor module."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import msgspec

from ..errors import OzoError, ResponseDecodeError

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Call:
    """One logical request. ``endpoint`` names it for rate limits and logs; ``repeatable``
    says it is safe to send again when the server may have acted (deletes are)."""

    endpoint: str
    method: str
    path: str
    body: bytes | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    repeatable: bool = True


@dataclass(frozen=True, slots=True)
class Answer:
    """What one attempt got back."""

    endpoint: str
    http_status: int
    headers: Mapping[str, str]
    body: bytes


Interpreter = Callable[[Answer], T]
"""Turns an answer into a value, or raises the matching ``OzoError``."""


@dataclass(frozen=True, slots=True)
class Delivered(Generic[T]):
    """A value and how it was obtained. ``answer_lost``: an earlier attempt's answer was lost
    (timeout, dropped connection, cut-off JSON, HTTP 500/502/504), so the server may have
    acted on it."""

    value: T
    attempts: int
    answer_lost: bool = False


def decode_answer(answer: Answer, kind: type[T], error_page: Callable[[Answer], OzoError]) -> T:
    """The body decoded as ``kind`` (a msgspec type). A body that does not decode raises
    ``error_page(answer)`` when the HTTP status is an error (a gateway's 401, a proxy's 404
    page: the status says what happened), else ResponseDecodeError keeping the body."""
    try:
        return msgspec.json.decode(answer.body, type=kind)
    except msgspec.DecodeError as exc:
        if answer.http_status >= 400:
            raise error_page(answer) from None
        raise ResponseDecodeError(
            answer.endpoint, str(exc), answer.body, answer.http_status
        ) from None
