"""Input checks run before anything is sent. Each raises RequestValidationError naming the
bad field and returns the value as it will be sent."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from itertools import repeat
from typing import TypeGuard

from .errors import RequestValidationError

# The whole check of a good value in one match (group 1 is the value stripped): bulk calls
# run it once per number, so the happy path costs one regex and nothing else.
_PHONE = re.compile(r"\s*(\+?[0-9]{1,24})\s*")
_ACCESS_CODE = re.compile(r"\s*([0-9]{1,24})\s*")
_DIGITS = re.compile(r"[0-9]+")


def non_empty_text(value: object, field: str) -> str:
    """A non-blank string, stripped."""
    if not isinstance(value, str):
        raise RequestValidationError(field, f"must be a string, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise RequestValidationError(field, "must not be empty")
    return text


def phone_number(value: object, field: str = "phone_number") -> str:
    """Digits with an optional leading ``+`` (at most 24 digits), stripped."""
    if isinstance(value, str) and (match := _PHONE.fullmatch(value)):
        return match[1]
    text = non_empty_text(value, field)
    raise RequestValidationError(
        field, f"{text!r} is not a phone number (digits, optionally a leading '+')"
    )


def access_code(value: object, field: str = "numbers") -> str:
    """An iSales calling number: digits only, at most 24 long, stripped."""
    if isinstance(value, str) and (match := _ACCESS_CODE.fullmatch(value)):
        return match[1]
    text = non_empty_text(value, field)
    if not _DIGITS.fullmatch(text):
        raise RequestValidationError(field, f"{text!r} must contain digits only")
    raise RequestValidationError(field, f"{text!r} is longer than 24 digits")


def plain_phone_numbers(values: list[object]) -> TypeGuard[list[str]]:
    """True when :func:`phone_number` would return every one of ``values`` unchanged: a test
    of a whole batch in a few C calls (no Python per item). False says only "check each
    one"."""
    try:
        joined = "".join(values)  # type: ignore[arg-type]
    except TypeError:  # not all strings
        return False
    digits: list[str] = values  # type: ignore[assignment]
    if "+" in joined:  # at most one, leading: any other '+' is left in and fails isdigit
        digits = list(map(str.removeprefix, digits, repeat("+")))
        joined = "".join(digits)
    return _plain_digits(joined, digits)


def plain_access_codes(values: list[object]) -> TypeGuard[list[str]]:
    """True when :func:`access_code` would return every one of ``values`` unchanged (as
    :func:`plain_phone_numbers`)."""
    try:
        joined = "".join(values)  # type: ignore[arg-type]
    except TypeError:
        return False
    return _plain_digits(joined, values)  # type: ignore[arg-type]


def _plain_digits(joined: str, digits: list[str]) -> bool:
    """Every one of ``digits`` (``joined`` is them joined) is 1 to 24 ASCII digits."""
    if not digits or not (joined.isascii() and joined.isdigit()):
        return False
    lengths = list(map(len, digits))
    return min(lengths) >= 1 and max(lengths) <= 24


#: The batch test of each per-item check that has one (used by the bulk calls).
PLAIN: dict[Callable[[object, str], str], Callable[[list[object]], TypeGuard[list[str]]]] = {
    phone_number: plain_phone_numbers,
    access_code: plain_access_codes,
}


def positive_int(value: object, field: str, *, maximum: int | None = None) -> int:
    """A positive int (bool is not accepted), at most ``maximum`` when given."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestValidationError(field, f"must be an int, not {type(value).__name__}")
    if value < 1:
        raise RequestValidationError(field, f"must be positive, got {value}")
    if maximum is not None and value > maximum:
        raise RequestValidationError(field, f"must be at most {maximum}, got {value}")
    return value


def skill_names(values: object, field: str) -> str:
    """Skill names (one name, or any iterable of names) as the vendor's comma-separated
    string ('' for none)."""
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Iterable) or isinstance(values, bytes | bytearray):
        raise RequestValidationError(field, "must be a list of skill names")
    names = [non_empty_text(v, field) for v in values]
    for name in names:
        if "," in name:
            raise RequestValidationError(field, f"skill name {name!r} must not contain ','")
    return ",".join(names)
