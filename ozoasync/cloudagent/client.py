"""CloudAgentClient: the Ozonetel CloudAgent data-removal APIs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Literal

import aiohttp

from .. import validation
from ..errors import RequestValidationError
from ..transport.body import DEFAULT_MAX_RESPONSE_BYTES
from ..transport.client_base import TransportClient, checked_deadline
from ..transport.coordination import PROCESS_COORDINATION, Coordination, TokenBudget
from ..transport.http import Transport
from ..transport.observe import Hooks, observer_for
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

DEFAULT_RATE_LIMITS: Mapping[str, RateLimit] = {wire.CAMPAIGN_DATA: RateLimit(100, 60.0)}


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
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        telemetry: bool = True,
        hooks: Hooks | None = None,
    ) -> None:
        self.username = validation.non_empty_text(username, "username")
        api_key = validation.non_empty_text(api_key, "api_key")
        if auth not in ("api_key", "token"):
            raise RequestValidationError("auth", "must be 'api_key' or 'token'")
        if base_url is None:
            if region not in REGIONS:
                raise RequestValidationError("region", f"must be one of {sorted(REGIONS)}")
            base_url = REGIONS[region]
        if not base_url.startswith(("http://", "https://")):
            raise RequestValidationError("base_url", "must start with http(s)://")
        if timeout <= 0:
            raise RequestValidationError("timeout", "must be positive")
        self.auth = auth
        self.base_url = base_url.rstrip("/")
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
            deadline=checked_deadline(deadline),
            max_response_bytes=validation.positive_int(max_response_bytes, "max_response_bytes"),
            observer=observer_for(telemetry=telemetry, hooks=hooks),
        )
        token_key = f"token|{self.base_url}|{self.username}"
        budget = token_budget or TokenBudget()
        self._budget = budget
        self._context = Context(
            self._transport, self.username, coordination, token_key, api_key_auth
        )
        self._bind(self._transport)
        if auth == "token":
            self._transport.authenticator = TokenAuth(
                api_key, token_key, coordination, self.tokens.fetch, budget
            )

    def _bind(self, transport: Transport) -> None:
        context = dataclasses.replace(self._context, transport=transport)
        #: deleteCampaignData.
        self.campaign_data = CampaignData(context)
        #: deleteBlockNumberGroup.
        self.block_numbers = BlockNumbers(context)
        #: deleteScheduledData.
        self.scheduled_data = ScheduledData(context)
        #: PhoneManageV2 edit.
        self.phones = Phones(context)
        #: CAToken/generateToken.
        self.tokens = Tokens(context, self._budget)

    def __repr__(self) -> str:
        return (
            f"CloudAgentClient(username={self.username!r}, base_url={self.base_url!r}, "
            f"auth={self.auth!r})"
        )
