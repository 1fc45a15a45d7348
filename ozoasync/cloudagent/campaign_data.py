"""deleteCampaignData: one record per request, 100 requests per minute."""

from __future__ import annotations

from .. import validation
from ..errors import NotFoundError
from ..results import CampaignDataDeletion, Outcome
from . import wire
from ._context import Context


class CampaignData:
    """``ca.campaign_data``: delete numbers from outbound campaigns."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def delete(
        self, campaign: str, phone_number: str, *, name: str | None = None
    ) -> CampaignDataDeletion:
        """Delete one number from ``campaign``.

        Returns DELETED, or NOT_FOUND when the number was not there ("No Record Found").
        When an attempt's answer was lost (timeout, dropped connection) and the retry answers
        "No Record Found", the lost attempt deleted it: the result is DELETED, and
        ``attempts`` shows the retry. Any other failure raises.
        """
        campaign = validation.non_empty_text(campaign, "campaign")
        phone_number = validation.phone_number(phone_number)
        if name is not None:
            name = validation.non_empty_text(name, "name")
        call = wire.delete_campaign_data(self._context.username, campaign, phone_number, name)
        try:
            sent = await self._context.transport.send(call, wire.interpret_status_message)
        except NotFoundError as error:
            if error.answer_lost:
                return CampaignDataDeletion(
                    phone_number=phone_number,
                    outcome=Outcome.DELETED,
                    message=f"deleted by an attempt whose answer was lost; the retry "
                    f"answered {error.message!r}",
                    attempts=error.attempts,
                )
            return CampaignDataDeletion(
                phone_number=phone_number,
                outcome=Outcome.NOT_FOUND,
                message=error.message,
                attempts=error.attempts,
            )
        return CampaignDataDeletion(
            phone_number=phone_number,
            outcome=Outcome.DELETED,
            message=sent.value,
            attempts=sent.attempts,
        )
