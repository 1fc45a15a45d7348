"""The endpoints' names, as the clients' ``rate_limits`` (and the emulators) take them."""

from __future__ import annotations

CAMPAIGN_DATA = "deleteCampaignData"
BLOCK_NUMBERS = "deleteBlockNumberGroup"
SCHEDULED_DATA = "deleteScheduledData"
PHONES = "PhoneManageV2"
DELETE_CALLER_NO = "deleteCallerNo"
ADD_CALLER_NO = "addCallerNo"
BULK_DATA = "DeleteBulkData"
