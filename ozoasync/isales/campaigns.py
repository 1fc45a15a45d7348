"""Outbound campaigns: one campaign's details, and every campaign of a VDN."""

from __future__ import annotations

from collections.abc import AsyncIterator

from .. import validation
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

    def list(
        self, vdn_id: int, *, rows_per_page: int = wire.DEFAULT_ROWS_PER_PAGE
    ) -> AsyncIterator[Campaign]:
        """Every campaign of VDN ``vdn_id``, page by page (``curPage`` from 1,
        ``rowsPerPage``), each page fetched only when the previous one is used up: breaking
        out of the loop sends no further request. The listing stops at an empty or short
        page, or when the total the server announced is reached."""
        vdn = validation.positive_int(vdn_id, "vdn_id", maximum=wire.MAX_VDN_ID)
        rows = validation.positive_int(
            rows_per_page, "rows_per_page", maximum=wire.MAX_ROWS_PER_PAGE
        )
        return self._pages(vdn, rows)

    async def _pages(self, vdn_id: int, rows_per_page: int) -> AsyncIterator[Campaign]:
        page_number = wire.FIRST_PAGE
        seen = 0
        while True:
            call = wire.list_campaigns(vdn_id, page_number, rows_per_page)
            sent = await self._transport.send(call, wire.interpret_campaign_page)
            page = sent.value
            for details in page.items:
                yield wire.listed_campaign(vdn_id, details)
            seen += len(page.items)
            if len(page.items) < rows_per_page or (page.total is not None and seen >= page.total):
                return
            page_number += 1
