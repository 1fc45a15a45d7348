"""CloudAgent's two account modes: the ``apiKey`` header alone (the vendor's "BASIC_AUTH"),
or a generated bearer token shared by every client of the account ("TOKEN_AUTH")."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Collection, Mapping

from ..errors import AuthenticationError
from ..transport.call import Call
from ..transport.coordination import (
    BudgetCharge,
    Coordination,
    SharedToken,
    TokenBudget,
    TokenGenerator,
)


class ApiKeyAuth:
    """Sends the ``apiKey`` header."""

    def __init__(self, api_key: str) -> None:
        self._api_key = api_key

    def __repr__(self) -> str:
        return "ApiKeyAuth(api_key=<redacted>)"

    async def prepare(self) -> None:
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

    async def prepare(self) -> None:
        await self._charge()

    def headers(self, call: Call, url: str) -> Mapping[str, str]:
        return self._api_key_auth.headers(call, url)

    def rejected(self, error: AuthenticationError, headers: Mapping[str, str]) -> bool:
        return False

    def secrets(self, headers: Mapping[str, str]) -> Collection[str]:
        return self._api_key_auth.secrets(headers)


class TokenAuth:
    """Sends ``Authorization: Bearer`` (and ``apiKey``, as the vendor's samples do).

    The token lives in the coordination (one per account, shared by every client, process and
    host that shares it); each client keeps a local copy until it is due for refresh or the
    server rejects it. Generation is single-flight and kept within the vendor's budget.
    """

    def __init__(
        self,
        api_key: str,
        key: str,
        coordination: Coordination,
        generate: TokenGenerator,
        budget: TokenBudget | None = None,
    ) -> None:
        self._api_key = api_key
        self._key = key
        self._coordination = coordination
        self._generate = generate
        self._budget = budget or TokenBudget()
        self._token: SharedToken | None = None
        self._stale: str | None = None
        # Tokens this client has sent: a server may echo an old one long after it was replaced.
        self._sent_tokens: deque[str] = deque(maxlen=16)

    def __repr__(self) -> str:
        return "TokenAuth(api_key=<redacted>, token=<redacted>)"

    async def prepare(self) -> None:
        token = self._token
        if token is None or token.value == self._stale or not token.fresh(time.time()):
            self._token = await self._coordination.token(
                self._key, self._stale, self._generate, self._budget
            )

    def headers(self, call: Call, url: str) -> Mapping[str, str]:
        assert self._token is not None, "prepare() runs before headers()"
        token = self._token.value
        if not self._sent_tokens or self._sent_tokens[-1] != token:
            self._sent_tokens.append(token)
        return {"apiKey": self._api_key, "Authorization": f"Bearer {token}"}

    def secrets(self, headers: Mapping[str, str]) -> Collection[str]:
        return (self._api_key, *self._sent_tokens)

    def rejected(self, error: AuthenticationError, headers: Mapping[str, str]) -> bool:
        sent = headers.get("Authorization", "").removeprefix("Bearer ")
        if not sent:
            return False
        self._stale = sent
        return True
