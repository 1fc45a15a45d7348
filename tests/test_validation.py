"""Input checks: each returns the value as it will be sent, or raises RequestValidationError
naming the field."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozoasync import RequestValidationError
from ozoasync import validation as v


def skills(*names: str) -> Iterator[str]:
    yield from names


@pytest.mark.parametrize(
    ("check", "value", "sent"),
    [
        (lambda x: v.non_empty_text(x, "campaign"), "spring", "spring"),
        (lambda x: v.non_empty_text(x, "campaign"), "  spring sale \n", "spring sale"),
        (v.phone_number, "9876543210", "9876543210"),
        (v.phone_number, " +919876543210 ", "+919876543210"),
        (v.phone_number, "1", "1"),
        (v.phone_number, "1" * 24, "1" * 24),
        (v.phone_number, "+" + "1" * 24, "+" + "1" * 24),
        (v.access_code, "5245241", "5245241"),
        (v.access_code, "0" * 24, "0" * 24),
        (lambda x: v.positive_int(x, "group_id"), 1, 1),
        (lambda x: v.positive_int(x, "vdn_id", maximum=9999), 9999, 9999),
        (lambda x: v.skill_names(x, "assign_skills"), [], ""),
        (lambda x: v.skill_names(x, "assign_skills"), ["General"], "General"),
        (lambda x: v.skill_names(x, "assign_skills"), "General", "General"),
        (lambda x: v.skill_names(x, "assign_skills"), ("QA", " Sales "), "QA,Sales"),
        (lambda x: v.skill_names(x, "assign_skills"), skills("a", "b", "c"), "a,b,c"),
    ],
)
def test_accepted_values_are_returned_as_sent(
    check: Callable[[object], object], value: object, sent: object
) -> None:
    assert check(value) == sent


@pytest.mark.parametrize(
    ("check", "value", "field"),
    [
        (lambda x: v.non_empty_text(x, "campaign"), "", "campaign"),
        (lambda x: v.non_empty_text(x, "campaign"), " \t\n", "campaign"),
        (lambda x: v.non_empty_text(x, "campaign"), None, "campaign"),
        (lambda x: v.non_empty_text(x, "campaign"), 7, "campaign"),
        (v.phone_number, "", "phone_number"),
        (v.phone_number, None, "phone_number"),
        (v.phone_number, 9876543210, "phone_number"),
        (v.phone_number, "+", "phone_number"),
        (v.phone_number, "++91", "phone_number"),
        (v.phone_number, "91+98", "phone_number"),
        (v.phone_number, "98765 43210", "phone_number"),
        (v.phone_number, "98765-43210", "phone_number"),
        (v.phone_number, "(987)6543210", "phone_number"),
        (v.phone_number, "98765x", "phone_number"),
        (v.phone_number, "٩٨٧", "phone_number"),  # non-ASCII digits
        (v.phone_number, "1" * 25, "phone_number"),
        (lambda x: v.phone_number(x, "new_phone_number"), "abc", "new_phone_number"),
        (v.access_code, "+5245241", "numbers"),
        (v.access_code, "1" * 25, "numbers"),
        (v.access_code, "", "numbers"),
        (lambda x: v.positive_int(x, "group_id"), 0, "group_id"),
        (lambda x: v.positive_int(x, "group_id"), -3, "group_id"),
        (lambda x: v.positive_int(x, "group_id"), True, "group_id"),
        (lambda x: v.positive_int(x, "group_id"), "7", "group_id"),
        (lambda x: v.positive_int(x, "group_id"), 7.0, "group_id"),
        (lambda x: v.positive_int(x, "group_id"), None, "group_id"),
        (lambda x: v.positive_int(x, "vdn_id", maximum=9999), 10000, "vdn_id"),
        (lambda x: v.skill_names(x, "assign_skills"), ["General", ""], "assign_skills"),
        (lambda x: v.skill_names(x, "assign_skills"), ["QA,Sales"], "assign_skills"),
        (lambda x: v.skill_names(x, "assign_skills"), [3], "assign_skills"),
        (lambda x: v.skill_names(x, "unassign_skills"), 3, "unassign_skills"),
        (lambda x: v.skill_names(x, "unassign_skills"), None, "unassign_skills"),
    ],
)
def test_bad_values_raise_naming_the_field(
    check: Callable[[object], object], value: object, field: str
) -> None:
    with pytest.raises(RequestValidationError) as caught:
        check(value)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")
    assert isinstance(caught.value, ValueError)


@given(st.text(alphabet="0123456789", min_size=1, max_size=24), st.booleans())
def test_every_digit_string_with_an_optional_plus_is_a_phone_number(
    digits: str, plus: bool
) -> None:
    number = ("+" if plus else "") + digits
    assert v.phone_number(f"  {number} ") == number


@given(st.text(min_size=1, max_size=30))
def test_a_phone_number_is_only_digits_after_an_optional_leading_plus(text: str) -> None:
    stripped = text.strip()
    body = stripped.removeprefix("+")
    valid = 1 <= len(body) <= 24 and all(c in "0123456789" for c in body)
    if valid:
        assert v.phone_number(text) == stripped
    else:
        with pytest.raises(RequestValidationError):
            v.phone_number(text)
