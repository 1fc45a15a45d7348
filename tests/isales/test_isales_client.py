"""ISalesClient: construction rules (TLS verified by default, a private CA through an
SSLContext, http:// only on loopback), secrets kept out of reprs, and campaigns.get."""

from __future__ import annotations

import logging
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from ozoasync import (
    Campaign,
    ISalesClient,
    NotFoundError,
    RequestValidationError,
    RetryPolicy,
    TransportError,
)
from ozoasync.testing import FakeISales

AK, SK = "AK-demo", "SK-demo"


@pytest.mark.parametrize(
    "url",
    [
        "https://10.0.0.5:28443",
        "https://isales.example.com/",
        "http://127.0.0.1:8080",
        "http://127.8.9.10",
        "http://localhost:8080",
        "http://[::1]:8080",
    ],
)
def test_accepted_base_urls(url: str) -> None:
    client = ISalesClient(url, AK, SK)
    assert client.base_url == url.rstrip("/")


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://10.0.0.5:28443", "loopback"),
        ("http://isales.example.com", "loopback"),
        ("ftp://10.0.0.5", "https://"),
        ("https://", "https://"),
        ("10.0.0.5:28443", "https://"),
        ("https://user:pw@10.0.0.5", "credentials"),
        ("https://10.0.0.5?x=1", "query"),
        ("https://10.0.0.5:99999", "port"),
        ("", "empty"),
    ],
)
def test_rejected_base_urls(url: str, problem: str) -> None:
    with pytest.raises(RequestValidationError, match=problem) as raised:
        ISalesClient(url, AK, SK)
    assert raised.value.field == "base_url"
    assert "pw" not in str(raised.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"app_key": "AK/1"}, "app_key"),
        ({"app_key": ""}, "app_key"),
        ({"app_secret": " "}, "app_secret"),
        ({"timeout": 0}, "timeout"),
        ({"ssl": "yes"}, "ssl"),
    ],
)
def test_rejected_arguments(kwargs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "base_url": "https://10.0.0.5:28443",
        "app_key": AK,
        "app_secret": SK,
        **kwargs,
    }
    with pytest.raises(RequestValidationError) as raised:
        ISalesClient(**arguments)  # type: ignore[arg-type]
    assert raised.value.field == field


async def test_ssl_cannot_be_combined_with_a_session() -> None:
    async with aiohttp.ClientSession() as session:
        with pytest.raises(RequestValidationError, match="connector") as raised:
            ISalesClient(
                "https://10.0.0.5", AK, SK, ssl=ssl.create_default_context(), session=session
            )
    assert raised.value.field == "ssl"


def test_repr_hides_the_keys() -> None:
    client = ISalesClient("https://10.0.0.5:28443", "AK-visible?", "SK-visible?")
    assert repr(client) == "ISalesClient(base_url='https://10.0.0.5:28443')"
    assert "visible" not in repr(client._transport.authenticator)


async def test_campaigns_get(fake_isales: FakeISales, isales: ISalesClient) -> None:
    fake_isales.add_campaign(3, 42, ["5245241", "5245242"], name="spring", status=3, priority=2)

    campaign = await isales.campaigns.get(3, 42)

    assert isinstance(campaign, Campaign)
    assert (campaign.vdn_id, campaign.campaign_id, campaign.name, campaign.status) == (
        3,
        42,
        "spring",
        3,
    )
    assert campaign.caller_numbers == ("5245241", "5245242")
    assert campaign.details["callerNo"][0] == {"accessCode": "5245241", "priority": 2}
    [request] = fake_isales.requests
    assert (request.method, request.path, request.body) == (
        "GET",
        "/rest/isales/v1/openapi/campaigns/3/42",
        b"",
    )
    assert request.headers["Content-Type"] == "application/json; charset=UTF-8"
    assert request.headers["Host"] == f"127.0.0.1:{fake_isales.port}"

    with pytest.raises(NotFoundError) as raised:
        await isales.campaigns.get(3, 43)
    assert raised.value.code == "0200007"


async def test_a_session_passed_in_is_used_and_left_open(fake_isales: FakeISales) -> None:
    fake_isales.add_campaign(1, 2, ["5"])
    async with aiohttp.ClientSession() as session:
        async with ISalesClient(fake_isales.url, AK, SK, session=session) as client:
            assert (await client.campaigns.get(1, 2)).name == "campaign-2"
        assert not session.closed


# --- TLS against a private CA -------------------------------------------------------------


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def private_ca(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CA and a server certificate for 127.0.0.1 it signed, made with the openssl CLI."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make test certificates")
    folder = tmp_path_factory.mktemp("pki")
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        "req",
        "-x509",
        *ec,
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-days",
        "2",
        "-subj",
        "/CN=ozoasync test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        cwd=folder,
    )
    _openssl(
        "req",
        *ec,
        "-keyout",
        "server.key",
        "-out",
        "server.csr",
        "-subj",
        "/CN=127.0.0.1",
        cwd=folder,
    )
    (folder / "ext.cnf").write_text(
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"
        "authorityKeyIdentifier=keyid,issuer\nsubjectKeyIdentifier=hash\n"
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        cwd=folder,
    )
    return folder


@pytest.fixture
async def tls_fake(private_ca: Path) -> AsyncIterator[FakeISales]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(private_ca / "server.pem", private_ca / "server.key")
    async with FakeISales(ssl_context=context) as fake:
        fake.add_campaign(1, 42, ["5245241"], name="tls")
        yield fake


async def test_tls_is_verified_by_default(tls_fake: FakeISales) -> None:
    assert tls_fake.url.startswith("https://127.0.0.1:")
    retry = RetryPolicy(max_attempts=5, initial_delay=0.01, max_delay=0.05)
    async with ISalesClient(tls_fake.url, AK, SK, retry=retry) as client:
        with pytest.raises(TransportError, match="Certificate") as caught:
            await client.campaigns.get(1, 42)
    assert tls_fake.requests == []  # the handshake failed: nothing reached the server
    # Another attempt cannot make an untrusted certificate trusted: no retries.
    assert caught.value.attempts == 1
    assert "ssl=" in str(caught.value)


async def test_a_private_ca_is_trusted_through_an_ssl_context(
    tls_fake: FakeISales, private_ca: Path
) -> None:
    context = ssl.create_default_context(cafile=private_ca / "ca.pem")
    async with ISalesClient(tls_fake.url, AK, SK, ssl=context) as client:
        campaign = await client.campaigns.get(1, 42)
    assert campaign.name == "tls"
    assert tls_fake.requests[0].headers["Host"] == f"127.0.0.1:{tls_fake.port}"


async def test_verification_is_off_only_when_asked_and_says_so(
    tls_fake: FakeISales, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="ozoasync"):
        client = ISalesClient(tls_fake.url, AK, SK, ssl=False)
    assert "verification is OFF" in caplog.text
    async with client:
        assert (await client.campaigns.get(1, 42)).name == "tls"
