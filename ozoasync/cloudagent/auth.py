"""CloudAgent's two account modes: the ``apiKey`` header alone (the vendor's "BASIC_AUTH"),
or a generated bearer token shared by every client of the account ("TOKEN_AUTH")."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from ..errors import AuthenticationError, RateLimitError, TokenBudgetExhaustedError
from ..transport.call import Call
from ..transport.coordination import SharedToken
from . import wire
from .token_store import AccountToken, BudgetCharge

if TYPE_CHECKING:
    from ..transport.http import Transport


class ApiKeyAuth:
    """Sends the ``apiKey`` header."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def __repr__(self) -> str:
        return "ApiKeyAuth(api_key=<redacted>)"

    async def prepare(self, transport: Transport) -> None:
        return None

    def headers(self, call: Call, url: str) -> Mapping[str, str]:
        return {"apiKey": self._api_key}

    def rejected(self, error: AuthenticationError, headers: Mapping[str, str]) -> bool:
        return False

    def secrets(self, headers: Mapping[str, str]) -> Collection[str]:
        return (self._api_key,)


class BudgetedAuth:
    """The credentials of a token request: the ``apiKey`` header, and one charge against the
    token budget before every attempt, since each one may make the vendor issue a token."""

    def __init__(self, api_key_auth: ApiKeyAuth, charge: BudgetCharge) -> None:
        self._api_key_auth = api_key_auth
        self._charge = charge

    def __repr__(self) -> str:
        return "BudgetedAuth(api_key=<redacted>)"

    async def prepare(self, transport: Transport) -> None:
        await self._charge()

    def headers(self, call: Call, url: str) -> Mapping[str, str]:
        return self._api_key_auth.headers(call, url)

    def rejected(self, error: AuthenticationError, headers: Mapping[str, str]) -> bool:
        return False

    def secrets(self, headers: Mapping[str, str]) -> Collection[str]:
        return self._api_key_auth.secrets(headers)


async def request_token(
    transport: Transport, username: str, api_key_auth: ApiKeyAuth, charge: BudgetCharge
) -> tuple[str, float]:
    """Generate a token at the vendor: its value and expiry (epoch seconds). ``charge``
    counts every attempt against the token budget before it is sent."""
    call = wire.generate_token(username)
    try:
        sent = await transport.send(
            call, wire.interpret_token, authenticator=BudgetedAuth(api_key_auth, charge)
        )
    except TokenBudgetExhaustedError:
        raise
    except RateLimitError as error:  # an HTTP 429, after the retries it allowed
        raise wire.token_refused(error) from None
    value = sent.value.token
    assert value is not None, "interpret_token only returns answers with a token"
    return value, wire.jwt_expiry(value, received=time.time())


class TokenAuth:
    """Sends ``Authorization: Bearer`` (and ``apiKey``, as the vendor's samples do).

    The token is the account's (:class:`AccountToken`: one per account, shared by every
    client, process and host that shares the coordination); it is generated through the
    transport that sends with it, single-flight and within the vendor's budget.
    """

    def __init__(self, api_key_auth: ApiKeyAuth, username: str, token: AccountToken) -> None:
        self._api_key_auth = api_key_auth
        self._username = username
        self._account_token = token
        self._token: SharedToken | None = None
        self._stale: str | None = None
        # Tokens this client has sent: a server may echo an old one long after it was replaced.
        self._sent_tokens: deque[str] = deque(maxlen=16)

    def __repr__(self) -> str:
        return "TokenAuth(api_key=<redacted>, token=<redacted>)"

    async def prepare(self, transport: Transport) -> None:
        async def generate(charge: BudgetCharge) -> tuple[str, float]:
            return await request_token(transport, self._username, self._api_key_auth, charge)

        self._token = await self._account_token.current(self._stale, generate)

    def headers(self, call: Call, url: str) -> Mapping[str, str]:
        assert self._token is not None, "prepare() runs before headers()"
        token = self._token.value
        if not self._sent_tokens or self._sent_tokens[-1] != token:
            self._sent_tokens.append(token)
        return {**self._api_key_auth.headers(call, url), "Authorization": f"Bearer {token}"}

    def secrets(self, headers: Mapping[str, str]) -> Collection[str]:
        return (*self._api_key_auth.secrets(headers), *self._sent_tokens)

    def rejected(self, error: AuthenticationError, headers: Mapping[str, str]) -> bool:
        sent = headers.get("Authorization", "").removeprefix("Bearer ")
        if not sent:
            return False
        self._stale = sent
        return True
