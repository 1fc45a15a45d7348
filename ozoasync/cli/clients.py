"""Clients built from the environment's settings and the command's options."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

from .. import CloudAgentClient, Coordination, ISalesClient, RateLimit, RetryPolicy
from .config import CloudAgentSettings, ConfigError, ISalesSettings, RedisSettings


@dataclass(frozen=True, slots=True)
class Tuning:
    """Per-command transport options."""

    rate_limits: Mapping[str, RateLimit | None] | None = None
    max_attempts: int = 5
    timeout: float = 30.0

    @property
    def retry(self) -> RetryPolicy:
        return RetryPolicy(max_attempts=self.max_attempts)


@asynccontextmanager
async def coordination(settings: RedisSettings | None) -> AsyncIterator[Coordination | None]:
    """A RedisCoordination (OZOASYNC_REDIS_URL), or None: in-process."""
    if settings is None:
        yield None
        return
    try:
        from redis.asyncio import Redis
        from redis.exceptions import RedisError
    except ImportError:
        raise ConfigError(
            "OZOASYNC_REDIS_URL is set but the redis package is missing: "
            "pip install 'ozoasync[redis]'"
        ) from None
    from .. import RedisCoordination

    try:
        redis = Redis.from_url(settings.url, socket_connect_timeout=10.0)
    except ValueError as exc:
        raise ConfigError(f"OZOASYNC_REDIS_URL is not a usable Redis URL: {exc}") from None
    try:
        await redis.ping()  # fail before reading any input, not on the first number
    except (RedisError, OSError) as exc:
        await redis.aclose()
        raise ConfigError(f"OZOASYNC_REDIS_URL: cannot reach Redis ({exc})") from None
    shared = RedisCoordination(redis, prefix=settings.prefix)
    try:
        yield shared
    finally:
        await shared.aclose()
        await redis.aclose()


@asynccontextmanager
async def cloudagent(
    settings: CloudAgentSettings, redis: RedisSettings | None, tuning: Tuning
) -> AsyncIterator[CloudAgentClient]:
    async with (
        coordination(redis) as shared,
        CloudAgentClient(
            settings.username,
            settings.api_key,
            auth=settings.auth,
            region=settings.region,
            base_url=settings.base_url,
            rate_limits=tuning.rate_limits,
            coordination=shared,
            retry=tuning.retry,
            timeout=tuning.timeout,
        ) as client,
    ):
        yield client


def tls_context(ca_file: str | None) -> ssl.SSLContext | None:
    """A context trusting ``ca_file`` (ISALES_CA_FILE: a private CA), or None: the system's."""
    if ca_file is None:
        return None
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"ISALES_CA_FILE {ca_file}: cannot load it ({exc})") from None


@asynccontextmanager
async def isales(
    settings: ISalesSettings, redis: RedisSettings | None, tuning: Tuning
) -> AsyncIterator[ISalesClient]:
    async with (
        coordination(redis) as shared,
        ISalesClient(
            settings.base_url,
            settings.app_key,
            settings.app_secret,
            ssl=tls_context(settings.ca_file),
            retry=tuning.retry,
            timeout=tuning.timeout,
            rate_limits=tuning.rate_limits,
            coordination=shared,
        ) as client,
    ):
        yield client
