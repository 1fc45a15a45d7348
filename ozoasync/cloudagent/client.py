"""CloudAgentClient: the Ozonetel CloudAgent data-removal APIs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

import aiohttp

from .. import validation
from ..transport.client_base import TransportClient, check_shared_options
from ..transport.coordination import PROCESS_COORDINATION, Coordination, TokenBudget
from ..transport.http import Transport
from ..transport.ratelimit import RateLimit
from ..transport.retry import RetryPolicy
from . import wire
from ._context import Context
from .auth import ApiKeyAuth, TokenAuth
from .block_numbers import BlockNumbers
from .campaign_data import CampaignData
from .phones import Phones
from .scheduled_data import ScheduledData
from .tokens import Tokens

REGIONS = {
    "domestic": "https://in1-ccaas-api.ozonetel.com",
    "international": "https://api.ccaas.ozonetel.com",
}

DEFAULT_RATE_LIMITS: Mapping[str, RateLimit] = {
    wire.CAMPAIGN_DATA: RateLimit(100, 60.0),
    # The vendor: 2 requests a minute, and no new request while one is being processed.
    wire.BULK_DATA: RateLimit(2, 60.0, concurrency=1),
}


def merge_rate_limits(
    overrides: Mapping[str, RateLimit | None] | None,
) -> dict[str, RateLimit]:
    """The defaults with the user's limits laid over them; ``None`` lifts a limit."""
    merged: dict[str, RateLimit | None] = {**DEFAULT_RATE_LIMITS, **(overrides or {})}
    return {name: limit for name, limit in merged.items() if limit is not None}


class CloudAgentClient(TransportClient):
    """An async client for one CloudAgent account.

    ``auth="api_key"`` sends the ``apiKey`` header (the account's "BASIC_AUTH" mode);
    ``auth="token"`` generates, shares and refreshes a bearer token ("TOKEN_AUTH").
    One client serves many concurrent coroutines; use it as an async context manager or
    call :meth:`aclose`. A ``session`` you pass is used and never closed.
    """

    def __init__(
        self,
        username: str,
        api_key: str,
        *,
        auth: Literal["api_key", "token"] = "api_key",
        region: Literal["domestic", "international"] = "domestic",
        base_url: str | None = None,
        rate_limits: Mapping[str, RateLimit | None] | None = None,
        coordination: Coordination | None = None,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        session: aiohttp.ClientSession | None = None,
        token_budget: TokenBudget | None = None,
    ) -> None:
        self.username = validation.non_empty_text(username, "username")
        api_key = validation.header_value(api_key, "api_key")
        validation.one_of(auth, "auth", ("api_key", "token"))
        if base_url is None:
            base_url = REGIONS[validation.one_of(region, "region", REGIONS)]
        base_url = validation.base_url(base_url)
        timeout = validation.seconds(timeout, "timeout")
        check_shared_options(rate_limits, coordination, retry, session)
        validation.instance(token_budget, "token_budget", TokenBudget)
        self.auth = auth
        self.base_url = base_url
        coordination = coordination or PROCESS_COORDINATION
        api_key_auth = ApiKeyAuth(api_key)
        self._transport = Transport(
            base_url=self.base_url,
            scope=self.username,
            authenticator=api_key_auth,
            coordination=coordination,
            rate_limits=merge_rate_limits(rate_limits),
            retry=retry or RetryPolicy(),
            timeout=timeout,
            session=session,
        )
        token_key = f"token|{self.base_url}|{self.username}"
        budget = token_budget or TokenBudget()
        context = Context(self._transport, self.username, coordination, token_key, api_key_auth)
        #: deleteCampaignData; DeleteBulkData (``delete_across``).
        self.campaign_data = CampaignData(context)
        #: deleteBlockNumberGroup.
        self.block_numbers = BlockNumbers(context)
        #: Scheduled Data Status (``list``, ``delete_for``) and deleteScheduledData.
        self.scheduled_data = ScheduledData(context)
        #: PhoneManageV2 edit.
        self.phones = Phones(context)
        #: CAToken/generateToken.
        self.tokens = Tokens(context, budget)
        if auth == "token":
            self._transport.authenticator = TokenAuth(
                api_key, token_key, coordination, self.tokens.fetch, budget
            )

    def __repr__(self) -> str:
        return (
            f"CloudAgentClient(username={self.username!r}, base_url={self.base_url!r}, "
            f"auth={self.auth!r})"
        )
