"""CAToken/generateToken, always through the account's shared token and budget."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from ..errors import RateLimitError, TokenBudgetExhaustedError
from ..results import Token
from ..transport.coordination import BudgetCharge, TokenBudget
from . import wire
from ._context import Context
from .auth import BudgetedAuth


class Tokens:
    """``ca.tokens``: the account's API token."""

    def __init__(self, context: Context, budget: TokenBudget) -> None:
        self._context = context
        self._budget = budget

    async def fetch(self, charge: BudgetCharge) -> tuple[str, float]:
        """Generate a token at the vendor: its value and expiry (epoch seconds). ``charge``
        counts every attempt against the token budget before it is sent."""
        context = self._context
        call = wire.generate_token(context.username)
        authenticator = BudgetedAuth(context.api_key_auth, charge)
        try:
            sent = await context.transport.send(
                call, wire.interpret_token, authenticator=authenticator
            )
        except TokenBudgetExhaustedError:
            raise
        except RateLimitError as error:  # an HTTP 429, after the retries it allowed
            raise wire.token_refused(error) from None
        value = sent.value.token
        assert value is not None, "interpret_token only returns answers with a token"
        return value, wire.jwt_expiry(value, received=time.time())

    async def generate(self, *, force: bool = False) -> Token:
        """The account's token. Every generation invalidates the token that every other
        process of the account is using, and the vendor allows 10 per hour, so this returns
        the shared token while it is fresh and generates one only when there is none (or
        ``force=True``); a new token replaces the shared one, so siblings switch to it.
        Raises TokenBudgetExhaustedError rather than exceed the budget."""
        generated = False

        async def generate_once(charge: BudgetCharge) -> tuple[str, float]:
            nonlocal generated
            generated = True
            return await self.fetch(charge)

        coordination, key = self._context.coordination, self._context.token_key
        shared = await coordination.token(key, None, generate_once, self._budget)
        if force and not generated:
            shared = await coordination.token(key, shared.value, generate_once, self._budget)
        return Token(value=shared.value, expires_at=datetime.fromtimestamp(shared.expires_at, UTC))
