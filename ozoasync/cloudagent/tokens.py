"""CAToken/generateToken, always through the account's shared token and budget."""

from __future__ import annotations

from datetime import UTC, datetime

from ..results import Token
from ._context import Context
from .auth import request_token
from .token_store import BudgetCharge


class Tokens:
    """``ca.tokens``: the account's API token."""

    def __init__(self, context: Context) -> None:
        self._context = context

    async def generate(self, *, force: bool = False) -> Token:
        """The account's token. Every generation invalidates the token that every other
        process of the account is using, and the vendor allows 10 per hour, so this returns
        the shared token while it is fresh and generates one only when there is none (or
        ``force=True``); a new token replaces the shared one, so siblings switch to it.
        Raises TokenBudgetExhaustedError rather than exceed the budget."""
        context = self._context
        generated = False

        async def generate_once(charge: BudgetCharge) -> tuple[str, float]:
            nonlocal generated
            generated = True
            return await request_token(
                context.transport, context.username, context.api_key_auth, charge
            )

        shared = await context.account_token.current(None, generate_once)
        if force and not generated:
            shared = await context.account_token.current(shared.value, generate_once)
        return Token(value=shared.value, expires_at=datetime.fromtimestamp(shared.expires_at, UTC))
