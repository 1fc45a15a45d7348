"""What every CloudAgent endpoint group shares: the transport and the account."""

from __future__ import annotations

from dataclasses import dataclass

from ..transport.coordination import Coordination
from ..transport.http import Transport
from .auth import ApiKeyAuth


@dataclass(frozen=True, slots=True)
class Context:
    transport: Transport
    username: str
    coordination: Coordination
    token_key: str
    api_key_auth: ApiKeyAuth
