"""Input checks run before anything is sent. Each raises RequestValidationError naming the
bad field and returns the value as it will be sent."""

from __future__ import annotations

import re
from collections.abc import Iterable

from .errors import RequestValidationError

_PHONE = re.compile(r"\+?[0-9]{1,24}")
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
    text = non_empty_text(value, field)
    if not _PHONE.fullmatch(text):
        raise RequestValidationError(
            field, f"{text!r} is not a phone number (digits, optionally a leading '+')"
        )
    return text


def access_code(value: object, field: str = "numbers") -> str:
    """An iSales calling number: digits only, at most 24 long."""
    text = non_empty_text(value, field)
    if not _DIGITS.fullmatch(text):
        raise RequestValidationError(field, f"{text!r} must contain digits only")
    if len(text) > 24:
        raise RequestValidationError(field, f"{text!r} is longer than 24 digits")
    return text


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
