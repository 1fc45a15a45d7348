"""Credentials and endpoints from the environment (never from argv, where any user of the
machine could read them in the process list). Each problem is one line naming the variable."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast

AUTH_MODES = ("api_key", "token")
REGIONS = ("domestic", "international")


class ConfigError(Exception):
    """The environment does not configure what the command needs."""


@dataclass(frozen=True, slots=True)
class CloudAgentSettings:
    username: str
    api_key: str = field(repr=False)
    auth: Literal["api_key", "token"] = "api_key"
    region: Literal["domestic", "international"] = "domestic"
    base_url: str | None = None


@dataclass(frozen=True, slots=True)
class ISalesSettings:
    base_url: str
    app_key: str
    app_secret: str = field(repr=False)
    ca_file: str | None = None


@dataclass(frozen=True, slots=True)
class RedisSettings:
    url: str = field(repr=False)  # may hold a password
    prefix: str = "ozoasync"


def _value(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _required(env: Mapping[str, str], name: str, what: str) -> str:
    value = _value(env, name)
    if value is None:
        raise ConfigError(f"{name} is not set ({what})")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = (_value(env, name) or default).lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _url(env: Mapping[str, str], name: str) -> str | None:
    value = _value(env, name)
    if value is not None and not value.startswith(("http://", "https://")):
        raise ConfigError(f"{name} must start with http:// or https://")
    return value


def cloudagent_settings(env: Mapping[str, str]) -> CloudAgentSettings:
    """OZONETEL_USERNAME, OZONETEL_API_KEY, OZONETEL_AUTH, OZONETEL_REGION, OZONETEL_BASE_URL."""
    username = _required(env, "OZONETEL_USERNAME", "the CloudAgent account user name")
    api_key = _required(env, "OZONETEL_API_KEY", "the CloudAgent account API key")
    auth = _choice(env, "OZONETEL_AUTH", AUTH_MODES, "api_key")
    region = _choice(env, "OZONETEL_REGION", REGIONS, "domestic")
    return CloudAgentSettings(
        username=username,
        api_key=api_key,
        auth=cast(Literal["api_key", "token"], auth),
        region=cast(Literal["domestic", "international"], region),
        base_url=_url(env, "OZONETEL_BASE_URL"),
    )


def isales_settings(env: Mapping[str, str]) -> ISalesSettings:
    """ISALES_BASE_URL, ISALES_APP_KEY, ISALES_APP_SECRET, ISALES_CA_FILE."""
    base_url = _url(env, "ISALES_BASE_URL")
    if base_url is None:
        raise ConfigError("ISALES_BASE_URL is not set (the CC-iSales server, https://ip:port)")
    return ISalesSettings(
        base_url=base_url,
        app_key=_required(env, "ISALES_APP_KEY", "the C2 access key, AK"),
        app_secret=_required(env, "ISALES_APP_SECRET", "the C2 secret key, SK"),
        ca_file=_value(env, "ISALES_CA_FILE"),
    )


def redis_settings(env: Mapping[str, str]) -> RedisSettings | None:
    """OZOASYNC_REDIS_URL: share rate limits and the token with every process and host on
    that Redis; OZOASYNC_REDIS_PREFIX: its key prefix (default "ozoasync")."""
    url = _value(env, "OZOASYNC_REDIS_URL")
    if url is None:
        return None
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("OZOASYNC_REDIS_URL must start with redis://, rediss:// or unix://")
    return RedisSettings(url, _value(env, "OZOASYNC_REDIS_PREFIX") or "ozoasync")
