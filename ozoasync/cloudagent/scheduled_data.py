"""deleteScheduledData: delete scheduled rows by row id."""

from __future__ import annotations

from ..results import ScheduledDataDeletion
from ..row_ids import compact_row_ids
from . import wire
from ._context import Context


class ScheduledData:
    """``ca.scheduled_data``: delete scheduled data by row id."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def delete(self, row_ids: int | range | str | object) -> ScheduledDataDeletion:
        """Delete rows given as an int, a range, ints, or the vendor's strings (``"7"``,
        ``"2,3,5,6"``, ``"3-10"``, ``"1,3-10,12"``); sent in the vendor's compact form.

        Raises NotFoundError on "No data found" (which the vendor also answers for an invalid
        apiKey).
        """
        compact = compact_row_ids(row_ids)
        call = wire.delete_scheduled_data(self._context.username, compact)
        sent = await self._context.transport.send(call, wire.interpret_status_message)
        return ScheduledDataDeletion(row_ids=compact, message=sent.value, attempts=sent.attempts)
