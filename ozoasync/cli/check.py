"""``ozoasync check``: the environment, the credentials and the account's auth mode, verified
with at most one side-effect-free request per vendor, and the variable to fix when not.

CloudAgent has no read-only endpoint that tells good credentials from bad ones (an invalid
apiKey answers deleteScheduledData with "No data found", as it answers an unknown row), so
the check sends one deleteCampaignData for a campaign that cannot exist: a name with a
random 128-bit suffix. The server refuses the campaign ("Passed campaign are invalid") or
finds no record: credentials accepted, nothing deleted; it costs one of the 100 requests of
the minute. In token mode that request needs a token, and generating one costs one of the
account's 10 per hour and revokes the tokens other processes hold: the check reuses the
token shared through OZOASYNC_REDIS_URL, and without Redis generates one only when given
``--allow-token``. CC-iSales: one signed campaigns query (a read); a 401 means a bad AK/SK.
"""

from __future__ import annotations

import argparse
import uuid
from dataclasses import dataclass

from .. import (
    AuthenticationError,
    InvalidParameterError,
    NotFoundError,
    OzoError,
    ServerUnreachableError,
    TransportError,
)
from . import clients, config
from .clients import Tuning
from .common import Context
from .tally import EXIT_OK, EXIT_USAGE, one_line

PROBE_NUMBER = "0000000000"  # with a campaign that cannot exist, it cannot be deleted
ISALES_PROBE = (1, 1)  # VDN 1, campaign 1: read, never changed
CHECK_TUNING = Tuning(max_attempts=2, timeout=15.0)


@dataclass(frozen=True, slots=True)
class Verdict:
    ok: bool
    line: str


def probe_campaign() -> str:
    """A campaign name no account has: checked against, never deleted from."""
    return f"ozoasync-check-{uuid.uuid4().hex}"


def cloudagent_hint(error: AuthenticationError, auth: str) -> str:
    """Which variable to fix, from the server's refusal."""
    message = error.message.lower()
    if auth == "api_key" and "token should not be null" in message:
        return "the account uses token authentication: set OZONETEL_AUTH=token"
    if auth == "token" and "api key should not be null" in message:
        return "the account uses API-key authentication: set OZONETEL_AUTH=api_key"
    return "check OZONETEL_USERNAME and OZONETEL_API_KEY"


def network_hint(error: OzoError, variables: str) -> str:
    kind = "cannot be reached" if isinstance(error, ServerUnreachableError) else "did not answer"
    return f"the server {kind} ({one_line(str(error))}): check {variables}, and the network"


async def check_cloudagent(ctx: Context, args: argparse.Namespace) -> Verdict:
    settings = config.cloudagent_settings(ctx.env)
    redis = config.redis_settings(ctx.env)
    where = settings.base_url or f"the {settings.region} region"
    if settings.auth == "token" and redis is None and not args.allow_token:
        return Verdict(
            False,
            f"CloudAgent: environment set ({settings.username} at {where}, token mode); "
            "credentials not checked: generating a token revokes the ones other processes "
            "hold; share it with OZOASYNC_REDIS_URL, or give --allow-token",
        )
    try:
        async with clients.cloudagent(settings, redis, CHECK_TUNING) as ca:
            await ca.campaign_data.delete(probe_campaign(), PROBE_NUMBER)
    except (InvalidParameterError, NotFoundError):
        pass  # the campaign that cannot exist does not: the credentials were accepted
    except AuthenticationError as error:
        return Verdict(
            False,
            f"CloudAgent: credentials refused ({one_line(error.message)}): "
            f"{cloudagent_hint(error, settings.auth)}",
        )
    except TransportError as error:
        return Verdict(
            False, f"CloudAgent: {network_hint(error, 'OZONETEL_BASE_URL / OZONETEL_REGION')}"
        )
    mode = "token" if settings.auth == "token" else "api_key"
    return Verdict(
        True,
        f"CloudAgent: credentials accepted ({settings.username} at {where}, {mode} mode)",
    )


async def check_isales(ctx: Context) -> Verdict:
    settings = config.isales_settings(ctx.env)
    redis = config.redis_settings(ctx.env)
    try:
        async with clients.isales(settings, redis, CHECK_TUNING) as client:
            await client.campaigns.get(*ISALES_PROBE)
    except NotFoundError:
        pass  # answered, signature accepted
    except AuthenticationError as error:
        return Verdict(
            False,
            f"CC-iSales: signature refused ({one_line(str(error))}): check ISALES_APP_KEY "
            "and ISALES_APP_SECRET",
        )
    except TransportError as error:
        return Verdict(False, f"CC-iSales: {network_hint(error, 'ISALES_BASE_URL')}")
    return Verdict(True, f"CC-iSales: AK/SK accepted ({settings.base_url})")


def configured(ctx: Context, prefix: str) -> bool:
    return any(name.startswith(prefix) and value.strip() for name, value in ctx.env.items())


async def check(args: argparse.Namespace, ctx: Context) -> int:
    """Exit 0 when every vendor checked accepts the credentials, 2 otherwise."""
    vendors = args.vendor or [
        vendor
        for vendor, prefix in (("cloudagent", "OZONETEL_"), ("isales", "ISALES_"))
        if configured(ctx, prefix)
    ]
    if not vendors:
        raise config.ConfigError(
            "nothing to check: set OZONETEL_USERNAME and OZONETEL_API_KEY (CloudAgent), or "
            "ISALES_BASE_URL, ISALES_APP_KEY and ISALES_APP_SECRET (CC-iSales)"
        )
    verdicts = []
    for vendor in vendors:
        verdicts.append(
            await check_cloudagent(ctx, args) if vendor == "cloudagent" else await check_isales(ctx)
        )
    for verdict in verdicts:
        mark = "[green]ok[/]" if verdict.ok else "[bold red]problem[/]"
        ctx.out.print(f"{mark}  ", end="")
        ctx.out.print(verdict.line, markup=False, highlight=False, soft_wrap=True)
    return EXIT_OK if all(v.ok for v in verdicts) else EXIT_USAGE
