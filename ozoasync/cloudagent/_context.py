"""What every CloudAgent endpoint group shares: the transport and the account."""

from __future__ import annotations

from dataclasses import dataclass

from ..transport.http import Transport
from .auth import ApiKeyAuth
from .token_store import AccountToken


@dataclass(frozen=True, slots=True)
class Context:
    transport: Transport
    username: str
    api_key_auth: ApiKeyAuth
    account_token: AccountToken
