"""PhoneManageV2 edit over real HTTP: "+" sent as %2B, skills as the vendor's comma strings,
and a partial success (edit applied, skills refused) reported as skills_applied=False."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ozoasync import PhoneEdit, ResponseDecodeError
from ozoasync.testing import FakeCloudAgent, Fault


@pytest.fixture
def phones(fake: FakeCloudAgent) -> FakeCloudAgent:
    fake.add_skills("General", "QA_Skill", "kolm")
    fake.add_phone("+919876543210", "desk", ["kolm"])
    return fake


def skills(*names: str) -> Iterator[str]:
    yield from names


async def test_a_plus_is_sent_as_percent_2b(phones: FakeCloudAgent, make_client: Any) -> None:
    result = await make_client(phones.url).phones.edit(
        "+919876543210", "DESK", new_phone_number="+14155550100", new_phone_name="lobby"
    )
    assert result == PhoneEdit(message="record inserted successfully", skills_applied=True)
    assert result.ok
    (request,) = phones.requests
    assert (request.method, request.path) == ("POST", "/ca_apis/PhoneManageV2")
    assert request.json() == {
        "userName": "demo",
        "action": "edit",
        "phoneNumber": "%2B919876543210",
        "phoneName": "DESK",
        "phoneNumberNew": "%2B14155550100",
        "phoneNameNew": "lobby",
    }
    assert phones.phones["+14155550100"].name == "lobby"
    assert "+919876543210" not in phones.phones


@pytest.mark.parametrize(
    ("assign", "unassign", "sent"),
    [
        (
            ["General", "QA_Skill"],
            ["kolm"],
            {"assignSkill": "General,QA_Skill", "unAssignSkill": "kolm"},
        ),
        (("General",), (), {"assignSkill": "General"}),
        ("General", "kolm", {"assignSkill": "General", "unAssignSkill": "kolm"}),
        (skills("QA_Skill", "General"), [], {"assignSkill": "QA_Skill,General"}),
        ([], ["kolm"], {"unAssignSkill": "kolm"}),
    ],
)
async def test_skills_are_sent_as_comma_strings(
    phones: FakeCloudAgent, make_client: Any, assign: Any, unassign: Any, sent: dict[str, str]
) -> None:
    result = await make_client(phones.url).phones.edit(
        "+919876543210",
        "desk",
        new_phone_number="+919876543210",
        assign_skills=assign,
        unassign_skills=unassign,
    )
    assert result.skills_applied
    body = phones.requests[0].json()
    assert {k: v for k, v in body.items() if k in ("assignSkill", "unAssignSkill")} == sent
    wanted = {"kolm", *sent.get("assignSkill", "").split(",")} - {""}
    assert phones.phones["+919876543210"].skills == wanted - set(
        sent.get("unAssignSkill", "").split(",")
    )


async def test_refused_skills_are_a_partial_success(
    phones: FakeCloudAgent, make_client: Any
) -> None:
    result = await make_client(phones.url).phones.edit(
        "+919876543210", "desk", new_phone_number="9876543211", assign_skills=["NoSuchSkill"]
    )
    assert result == PhoneEdit(
        message="record inserted successfully and failed to insert skills please pass the "
        "valid skills",
        skills_applied=False,
    )
    assert not result.ok
    assert "9876543211" in phones.phones  # the edit itself was applied
    assert phones.phones["9876543211"].skills == {"kolm"}


async def test_an_undecodable_answer_to_an_edit_is_not_repeated(
    phones: FakeCloudAgent, make_client: Any
) -> None:
    phones.faults.queue(Fault.TRUNCATED, endpoint="PhoneManageV2")
    with pytest.raises(ResponseDecodeError) as caught:
        await make_client(phones.url).phones.edit(
            "+919876543210", "desk", new_phone_number="9876543211"
        )
    assert caught.value.attempts == 1
    assert len(phones.requests) == 1
    assert caught.value.body.startswith('{"status":"success"')
