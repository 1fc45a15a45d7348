"""PhoneManageV2 with action=edit."""

from __future__ import annotations

from collections.abc import Iterable

from .. import validation
from ..results import PhoneEdit
from . import wire
from ._context import Context


class Phones:
    """``ca.phones``: edit a phone's number, name and skills."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def edit(
        self,
        phone_number: str,
        phone_name: str,
        *,
        new_phone_number: str,
        new_phone_name: str | None = None,
        assign_skills: Iterable[str] = (),
        unassign_skills: Iterable[str] = (),
    ) -> PhoneEdit:
        """Edit a phone. ``+`` in numbers is sent as ``%2B``; skill lists become the vendor's
        comma strings. When the server accepts the edit but rejects the skills, the result
        has ``skills_applied=False`` (and ``ok`` False). Failures raise."""
        phone_number = validation.phone_number(phone_number)
        phone_name = validation.non_empty_text(phone_name, "phone_name")
        new_phone_number = validation.phone_number(new_phone_number, "new_phone_number")
        if new_phone_name is not None:
            new_phone_name = validation.non_empty_text(new_phone_name, "new_phone_name")
        assign = validation.skill_names(assign_skills, "assign_skills")
        unassign = validation.skill_names(unassign_skills, "unassign_skills")
        call = wire.edit_phone(
            self._context.username,
            phone_number,
            phone_name,
            new_phone_number,
            new_phone_name,
            assign,
            unassign,
        )
        sent = await self._context.transport.send(call, wire.interpret_status_message)
        return PhoneEdit(
            message=sent.value,
            skills_applied=not wire.skills_rejected(sent.value),
            attempts=sent.attempts,
        )
