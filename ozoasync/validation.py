"""Input checks run before anything is sent. Each raises RequestValidationError naming the
bad field and returns the value as it will be sent."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from .errors import RequestValidationError

_PHONE = re.compile(r"\+?[0-9]{1,24}")
_DIGITS = re.compile(r"[0-9]+")
# Header values (api keys, app keys): visible ASCII only. Anything else either cannot be sent
# (aiohttp refuses CR, LF and NUL) or would be altered on the way.
_HEADER_SAFE = re.compile(r"[!-~]+")
# Control characters, surrogates (not encodable as UTF-8) and the Unicode line separators.
_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Zl", "Zp"})

#: The largest id accepted anywhere (a signed 64-bit int, what the vendors' databases hold).
MAX_ID = 2**63 - 1
#: The longest timeout accepted, in seconds (one day: beyond it the event loop's clock is the
#: limit, not the server).
MAX_TIMEOUT = 86_400.0


def non_empty_text(value: object, field: str) -> str:
    """A non-blank string, stripped, without control characters (CR, LF, NUL, ...) or
    surrogates."""
    if not isinstance(value, str):
        raise RequestValidationError(field, f"must be a string, not {type(value).__name__}")
    text = value.strip()
    if not text:
        raise RequestValidationError(field, "must not be empty")
    bad = next((c for c in text if unicodedata.category(c) in _FORBIDDEN_CATEGORIES), None)
    if bad is not None:
        raise RequestValidationError(
            field, f"must not contain control characters (found U+{ord(bad):04X})"
        )
    return text


def shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for an error message, cut to ``limit`` characters."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... [{len(text)} chars]"


def header_value(value: object, field: str) -> str:
    """A credential sent in a header: visible ASCII, no spaces (checked whole, never
    echoed: the value is a secret)."""
    text = non_empty_text(value, field)
    if not _HEADER_SAFE.fullmatch(text):
        raise RequestValidationError(
            field, "must contain only visible ASCII characters (no spaces or controls)"
        )
    return text


def seconds(value: object, field: str, *, maximum: float = MAX_TIMEOUT) -> float:
    """A positive, finite number of seconds (an int or a float; not a bool or a string)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RequestValidationError(
            field, f"must be a number of seconds, not {type(value).__name__}"
        )
    if isinstance(value, int) and value > maximum:
        raise RequestValidationError(field, f"must be at most {maximum:g} seconds")
    seconds = float(value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise RequestValidationError(field, f"must be a positive finite number, got {value!r}")
    if seconds > maximum:
        raise RequestValidationError(field, f"must be at most {maximum:g} seconds")
    return seconds


def base_url(value: object, field: str = "base_url") -> str:
    """An ``http(s)://host[:port][/path]`` URL without credentials, query or fragment,
    without its trailing '/'. Its text is never echoed in the error (it may hold a
    password)."""
    text = non_empty_text(value, field)
    if any(c.isspace() for c in text):
        raise RequestValidationError(field, "must not contain spaces")
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise RequestValidationError(field, "is not a valid URL (check host and port)") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RequestValidationError(field, "must look like https://host[:port]")
    if "@" in parts.netloc or parts.query or parts.fragment:
        raise RequestValidationError(field, "must not contain credentials, query or fragment")
    return text.rstrip("/")


def one_of(value: object, field: str, choices: Iterable[str]) -> str:
    """One of ``choices`` (compared as strings only: an unhashable value is just wrong)."""
    allowed = sorted(choices)
    if not isinstance(value, str) or value not in allowed:
        raise RequestValidationError(field, f"must be one of {allowed}")
    return value


def instance(value: object, field: str, kind: type[object] | tuple[type[object], ...]) -> None:
    """``value`` is None or an instance of ``kind``."""
    if value is not None and not isinstance(value, kind):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise RequestValidationError(field, f"must be a {names}, not {type(value).__name__}")


def has_methods(value: object, field: str, names: Iterable[str]) -> None:
    """``value`` is None or has every method of ``names`` (a protocol, checked by shape)."""
    if value is not None and not all(callable(getattr(value, n, None)) for n in names):
        raise RequestValidationError(
            field, f"must implement {', '.join(names)} ({type(value).__name__} does not)"
        )


def callback(value: object, field: str) -> Callable[..., object] | None:
    """None or something callable."""
    if value is not None and not callable(value):
        raise RequestValidationError(field, f"must be callable, not {type(value).__name__}")
    return value


def phone_number(value: object, field: str = "phone_number") -> str:
    """Digits with an optional leading ``+`` (at most 24 digits), stripped."""
    text = non_empty_text(value, field)
    if not _PHONE.fullmatch(text):
        raise RequestValidationError(
            field, f"{shown(text)} is not a phone number (digits, optionally a leading '+')"
        )
    return text


def access_code(value: object, field: str = "numbers") -> str:
    """An iSales calling number: digits only, at most 24 long."""
    text = non_empty_text(value, field)
    if not _DIGITS.fullmatch(text):
        raise RequestValidationError(field, f"{shown(text)} must contain digits only")
    if len(text) > 24:
        raise RequestValidationError(field, f"{shown(text)} is longer than 24 digits")
    return text


def positive_int(value: object, field: str, *, maximum: int = MAX_ID) -> int:
    """A positive int (bool is not accepted), at most ``maximum`` (by default the largest
    64-bit id)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestValidationError(field, f"must be an int, not {type(value).__name__}")
    if value < 1:
        raise RequestValidationError(field, "must be positive")
    if value > maximum:
        raise RequestValidationError(field, f"must be at most {maximum}")
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
            raise RequestValidationError(field, f"skill name {shown(name)} must not contain ','")
    return ",".join(names)
