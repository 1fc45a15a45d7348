"""A server that echoes the client's secrets back (a gateway reflecting request headers, an
error page quoting the apiKey, a token in a message): none of them leaves the client, in
errors, results, hooks or logs, for both vendors."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp import web
from hostile import HostileServer

from ozoasync import (
    APIError,
    AttemptInfo,
    CloudAgentClient,
    GiveUpInfo,
    Hooks,
    InProcessCoordination,
    ISalesClient,
    OzoError,
    RetryPolicy,
)

USER, API_KEY, CAMPAIGN = "acme", "Secret-Api-Key-0123456789", "spring"
APP_KEY, APP_SECRET = "app-key-4c1f7e", "app-secret-9d8e7f6a5b4c"
FAST = RetryPolicy(max_attempts=2, initial_delay=0.01, max_delay=0.02)


def echo(request: web.Request) -> str:
    """Every request header, as a reflecting gateway prints them (with JSON-escaped '/')."""
    headers = "; ".join(f"{name}: {value}" for name, value in request.headers.items())
    return f"rejected: {headers} (query {request.query_string})"


class Captured:
    """Everything that left the client: hooks' fields and log records."""

    def __init__(self) -> None:
        self.facts: list[Any] = []

    def hooks(self) -> Hooks:
        return Hooks(on_attempt=self.facts.append, on_give_up=self.facts.append)

    def texts(self) -> list[str]:
        out = []
        for fact in self.facts:
            assert isinstance(fact, AttemptInfo | GiveUpInfo)
            out.append(repr(fact))
        return out


def error_texts(error: OzoError) -> list[str]:
    texts = [str(error), repr(error), str(vars(error))]
    if isinstance(error, APIError):
        texts += [error.body, error.message]
    return texts


def assert_clean(texts: list[str], secrets: list[str]) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text
            assert secret.replace("/", "\\/") not in text


async def test_cloudagent_api_key_echoed_in_errors_results_and_logs(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def handle(request: web.Request) -> web.Response:
        if request.path.endswith("deleteCampaignData") and len(server.requests) % 2:
            # An answer that succeeds, quoting the key in its message.
            return web.json_response({"status": "success", "message": echo(request)})
        return web.json_response({"status": "error", "message": echo(request)}, status=502)

    server = HostileServer(handle)
    captured = Captured()
    caplog.set_level(logging.DEBUG, logger="ozoasync")
    async with (
        server,
        CloudAgentClient(
            USER,
            API_KEY,
            base_url=server.url,
            retry=FAST,
            coordination=InProcessCoordination(),
            hooks=captured.hooks(),
        ) as ca,
    ):
        results = [r async for r in ca.campaign_data.delete_many(CAMPAIGN, ["9000000001"] * 6)]
    texts = [r.message for r in results] + captured.texts()
    for result in results:
        if result.error is not None:
            texts += error_texts(result.error)
    texts += [record.getMessage() for record in caplog.records]
    assert any("<redacted>" in text for text in texts)
    assert_clean(texts, [API_KEY])


async def test_cloudagent_tokens_old_and_new_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    issued: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        if request.path.endswith("generateToken"):
            issued.append(f"eyJhbGciOi.token-{len(issued)}-abcdef/ghij")
            return web.json_response({"status": "success", "token": issued[-1]})
        return web.json_response({"status": "error", "message": "Invalid Token " + echo(request)})

    server = HostileServer(handle)
    caplog.set_level(logging.DEBUG, logger="ozoasync")
    async with (
        server,
        CloudAgentClient(
            USER,
            API_KEY,
            auth="token",
            base_url=server.url,
            retry=FAST,
            coordination=InProcessCoordination(),
        ) as ca,
    ):
        with pytest.raises(APIError) as raised:
            await ca.campaign_data.delete(CAMPAIGN, "9000000001")
    assert len(issued) == 2  # the rejected token was replaced once
    texts = error_texts(raised.value) + [record.getMessage() for record in caplog.records]
    assert_clean(texts, [API_KEY, *issued])


async def test_isales_keys_and_signature_echoed_are_redacted(
    caplog: pytest.LogCaptureFixture,
) -> None:
    authorizations: list[str] = []

    async def handle(request: web.Request) -> web.Response:
        authorizations.append(request.headers.get("Authorization", ""))
        description = f"{echo(request)} signed with {APP_SECRET}"
        return web.json_response({"resultCode": "0200001", "resultDesc": description}, status=401)

    server = HostileServer(handle)
    captured = Captured()
    caplog.set_level(logging.DEBUG, logger="ozoasync")
    async with (
        server,
        ISalesClient(server.url, APP_KEY, APP_SECRET, retry=FAST, hooks=captured.hooks()) as isales,
    ):
        with pytest.raises(APIError) as raised:
            await isales.caller_numbers.delete(1, 2, ["9000000001"])
    signatures = [value.rsplit("/", 1)[-1] for value in authorizations]
    texts = error_texts(raised.value) + captured.texts()
    texts += [record.getMessage() for record in caplog.records]
    assert "<redacted>" in raised.value.body
    assert_clean(texts, [APP_KEY, APP_SECRET, *authorizations, *signatures])
