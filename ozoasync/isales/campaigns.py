"""Outbound campaign details."""

from __future__ import annotations

from ..results import Campaign
from ..transport.http import Transport
from . import wire


class Campaigns:
    """``isales.campaigns``: read outbound campaigns."""

    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    async def get(self, vdn_id: int, campaign_id: int) -> Campaign:
        """The details of campaign ``campaign_id`` of VDN ``vdn_id``: its name, status and
        calling numbers, with every field the server sent in ``details``. Raises
        :class:`~ozoasync.NotFoundError` (code 0200007) when it does not exist."""
        vdn, campaign = wire.checked_ids(vdn_id, campaign_id)
        sent = await self._transport.send(wire.get_campaign(vdn, campaign), wire.interpret_campaign)
        return wire.campaign_from(vdn, campaign, sent.value)
