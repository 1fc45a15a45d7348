"""FakeISales on its own: it verifies C2 signatures from the bytes it receives and enforces the
vendor's rules and codes, as requests made by hand (not by the client) show."""

from __future__ import annotations

import ast
import hashlib
import hmac
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import aiohttp
import msgspec
import pytest
from isales_helpers import RawSender

from ozoasync.isales import signing
from ozoasync.testing import FakeISales, _c2, _isales
from ozoasync.testing._isales import KEEP_ONE_DESCRIPTION

PATH = "/rest/isales/v1/openapi/campaigns/1/callerNo/42"
CAMPAIGN_PATH = "/rest/isales/v1/openapi/campaigns/1/42"


def caller_body(*codes: object, priority: object = None) -> bytes:
    entries: list[dict[str, object]] = []
    for code in codes:
        entry: dict[str, object] = {"accessCode": code}
        if priority is not None:
            entry["priority"] = priority
        entries.append(entry)
    return msgspec.json.encode({"callerNo": entries})


async def test_a_body_altered_after_signing_is_rejected(
    fake_isales: FakeISales, raw: RawSender
) -> None:
    fake_isales.add_campaign(1, 42, ["13800000001", "13800000002", "13800000003"])
    signed_body = caller_body("13800000001")
    header = raw.authorization("DELETE", PATH, signed_body)
    altered = caller_body("13800000002")

    status, answer = await raw.send("DELETE", PATH, altered, authorization=header)

    assert status == 401
    assert "signature does not match" in answer["resultDesc"]
    assert fake_isales.caller_numbers(1, 42) == {"13800000001", "13800000002", "13800000003"}
    # The same header with the body it was made for is accepted: only the alteration failed.
    status, answer = await raw.send("DELETE", PATH, signed_body, authorization=header)
    assert (status, answer["resultCode"]) == (200, "0200000")


async def test_a_query_altered_after_signing_is_rejected(
    fake_isales: FakeISales, raw: RawSender
) -> None:
    fake_isales.add_campaign(1, 42, ["1"])
    header = raw.authorization("GET", CAMPAIGN_PATH, query={"curPage": "1"})
    status, _ = await raw.send("GET", CAMPAIGN_PATH, query={"curPage": "2"}, authorization=header)
    assert status == 401
    status, _ = await raw.send("GET", CAMPAIGN_PATH, query={"curPage": "1"}, authorization=header)
    assert status == 200


@pytest.mark.parametrize(
    ("make_header", "reason"),
    [
        (
            lambda raw: raw.authorization("DELETE", PATH, caller_body("1"), secret="SK-other"),
            "signature does not match",
        ),
        (
            lambda raw: raw.authorization("DELETE", "/other", caller_body("1")),
            "signature does not match",
        ),
        (
            lambda raw: raw.authorization("DELETE", PATH, caller_body("1")).replace(
                "AK-demo", "AK-other"
            ),
            "unknown app key",
        ),
        (
            lambda raw: raw.authorization(
                "DELETE",
                PATH,
                caller_body("1"),
                timestamp=signing.format_timestamp(datetime.now(UTC) - timedelta(hours=1)),
            ),
            "timestamp outside the allowed clock skew",
        ),
        (
            lambda raw: raw.authorization("DELETE", PATH, caller_body("1"), timestamp="yesterday"),
            "malformed timestamp",
        ),
        (lambda raw: "Bearer token", "missing or malformed Authorization"),
    ],
)
async def test_bad_signatures_are_rejected_with_401(
    fake_isales: FakeISales, raw: RawSender, make_header: object, reason: str
) -> None:
    fake_isales.add_campaign(1, 42, ["1", "2"])
    assert callable(make_header)
    status, answer = await raw.send(
        "DELETE", PATH, caller_body("1"), authorization=make_header(raw)
    )
    assert status == 401
    assert answer["resultDesc"] == f"authentication failed: {reason}"
    assert fake_isales.caller_numbers(1, 42) == {"1", "2"}
    assert fake_isales.counters["unauthorized"] == 1


@pytest.mark.parametrize(
    ("method", "path", "body", "code"),
    [
        ("DELETE", "/rest/isales/v1/openapi/campaigns/x/callerNo/42", caller_body("1"), "02000006"),
        ("DELETE", "/rest/isales/v1/openapi/campaigns/0/callerNo/42", caller_body("1"), "02000007"),
        (
            "DELETE",
            "/rest/isales/v1/openapi/campaigns/10000/callerNo/42",
            caller_body("1"),
            "02000007",
        ),
        ("DELETE", "/rest/isales/v1/openapi/campaigns/1/callerNo/x", caller_body("1"), "02000006"),
        ("DELETE", "/rest/isales/v1/openapi/campaigns/1/callerNo/43", caller_body("1"), "0200007"),
        ("GET", "/rest/isales/v1/openapi/campaigns/2/42", b"", "0200007"),
        ("DELETE", PATH, b"not json", "02000008"),
        ("DELETE", PATH, b"[1]", "02000008"),
        ("DELETE", PATH, b"{}", "02000001"),
        ("DELETE", PATH, b'{"callerNo":[]}', "02000001"),
        ("DELETE", PATH, b'{"callerNo":"1"}', "02000006"),
        ("DELETE", PATH, b'{"callerNo":["1"]}', "02000006"),
        ("DELETE", PATH, caller_body(""), "02000001"),
        ("DELETE", PATH, caller_body(5245241), "02000006"),
        ("DELETE", PATH, caller_body("52-45"), "02000002"),
        ("DELETE", PATH, caller_body("1" * 25), "02000003"),
        ("DELETE", PATH, caller_body(*[str(n) for n in range(101)]), "02000011"),
        ("POST", PATH, caller_body("9"), "02000001"),
        ("POST", PATH, caller_body("9", priority="1"), "02000006"),
        ("POST", PATH, caller_body("9", priority=6), "02000007"),
        ("POST", PATH, caller_body("9", priority=0), "02000007"),
    ],
)
async def test_requests_the_client_would_never_send_get_the_vendors_codes(
    fake_isales: FakeISales, raw: RawSender, method: str, path: str, body: bytes, code: str
) -> None:
    fake_isales.add_campaign(1, 42, ["1", "2"])
    status, answer = await raw.send(method, path, body)
    assert status == 200
    assert (answer["resultCode"], answer["returnCode"]) == (code, code)
    assert fake_isales.caller_numbers(1, 42) == {"1", "2"}


async def test_a_deletion_that_would_empty_the_campaign_is_refused_whole(
    fake_isales: FakeISales, raw: RawSender
) -> None:
    fake_isales.add_campaign(1, 42, ["1", "2"])
    status, answer = await raw.send("DELETE", PATH, caller_body("1", "2", "3"))
    assert (status, answer["resultCode"], answer["resultDesc"]) == (
        200,
        "0200001",
        KEEP_ONE_DESCRIPTION,
    )
    assert fake_isales.caller_numbers(1, 42) == {"1", "2"}


async def test_counts_only_what_changed(fake_isales: FakeISales, raw: RawSender) -> None:
    fake_isales.add_campaign(1, 42, ["1", "2", "3"])
    _, answer = await raw.send("DELETE", PATH, caller_body("1", "1", "9"))
    assert answer["resultDesc"] == "delete callerNo success.num:1"
    _, answer = await raw.send("POST", PATH, caller_body("2", "4", "4", "5", priority=3))
    assert answer["resultDesc"] == "add callerNo success.num:2"
    assert fake_isales.campaigns[1][42].caller_numbers == {"2": 1, "3": 1, "4": 3, "5": 3}


async def test_fail_next_answers_a_code_without_acting(
    fake_isales: FakeISales, raw: RawSender
) -> None:
    fake_isales.add_campaign(1, 42, ["1", "2"])
    fake_isales.fail_next("02000010", endpoint="deleteCallerNo")
    _, answer = await raw.send("GET", CAMPAIGN_PATH)
    assert answer["resultCode"] == "0200000"
    _, answer = await raw.send("DELETE", PATH, caller_body("1"))
    assert answer["resultCode"] == "02000010"
    assert answer["resultDesc"] == "The hour and minute parameters must be set at the same time."
    assert fake_isales.caller_numbers(1, 42) == {"1", "2"}
    _, answer = await raw.send("DELETE", PATH, caller_body("1"))
    assert answer["resultCode"] == "0200000"


async def test_requests_are_recorded_under_the_endpoint_names(
    fake_isales: FakeISales, raw: RawSender
) -> None:
    fake_isales.add_campaign(1, 42, ["1", "2"])
    await raw.send("POST", PATH, caller_body("3", priority=1))
    await raw.send("DELETE", PATH, caller_body("3"))
    await raw.send("GET", CAMPAIGN_PATH)
    assert [r.endpoint for r in fake_isales.requests] == [
        "addCallerNo",
        "deleteCallerNo",
        "getCampaign",
    ]
    assert fake_isales.requests[0].json() == {"callerNo": [{"accessCode": "3", "priority": 1}]}


async def test_strict_rate_limit_answers_429_with_retry_after() -> None:
    async with (
        FakeISales(rate_limits={"getCampaign": (1, 60.0)}) as fake,
        aiohttp.ClientSession() as session,
    ):
        fake.add_campaign(1, 42, ["1"])
        raw = RawSender(fake, session)
        first, _ = await raw.send("GET", CAMPAIGN_PATH)
        async with session.get(
            fake.url + CAMPAIGN_PATH,
            headers={"Host": raw.host, "Authorization": raw.authorization("GET", CAMPAIGN_PATH)},
        ) as response:
            assert (first, response.status) == (200, 429)
            assert int(response.headers["Retry-After"]) >= 1
        assert [r.rejected for r in fake.requests] == [False, True]


# --- the emulator is an oracle of its own: a wrong canonical form never passes ---------------


def hand_signed(
    method: str,
    path: str,
    query: list[tuple[str, str]],
    host: str,
    body: bytes,
    *,
    mistake: str | None = None,
) -> str:
    """A C2 header computed here from the vendor's steps (neither the client's signing nor
    the emulator's), with one deliberate ``mistake`` in the canonical form."""

    def enc(data: str | bytes) -> str:
        escaped = quote(data, safe="")
        if mistake == "lower-case hex escapes":
            escaped = re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), escaped)
        return escaped

    pairs = [f"{enc(k)}={enc(v)}" for k, v in query]
    if mistake != "query in the order sent":
        pairs.sort()
    signed_body = enc(body) if body else ""
    if mistake == "body not encoded":
        signed_body = body.decode()
    canonical = (
        f"{method}\n{path}\n"
        + ("&".join(pairs) + "\n" if pairs else "")
        + f"host\nhost:{enc(host)}\n{signed_body}"
    )
    timestamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    prefix = f"auth-v2/AK-demo/{timestamp}/host"
    key = hmac.new(b"SK-demo", prefix.encode(), hashlib.sha256).hexdigest()
    signature = hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    return f"{prefix}/{signature}"


@pytest.mark.parametrize(
    "mistake", [None, "lower-case hex escapes", "query in the order sent", "body not encoded"]
)
async def test_a_signature_over_a_wrong_canonical_form_is_rejected(
    fake_isales: FakeISales, raw: RawSender, mistake: str | None
) -> None:
    fake_isales.add_campaign(1, 42, ["13800000001", "13800000002"])
    query = [("rowsPerPage", "20"), ("curPage", "1")]  # not in sorted order
    body = caller_body("13800000001")
    header = hand_signed("DELETE", PATH, query, raw.host, body, mistake=mistake)

    status, answer = await raw.send("DELETE", PATH, body, query=dict(query), authorization=header)

    if mistake is None:  # the hand-made signer is right: the same request passes
        assert (status, answer["resultCode"]) == (200, "0200000")
        assert fake_isales.caller_numbers(1, 42) == {"13800000002"}
    else:
        assert status == 401
        assert "signature does not match" in answer["resultDesc"]
        assert fake_isales.caller_numbers(1, 42) == {"13800000001", "13800000002"}


@pytest.mark.parametrize(
    ("names", "problem"),
    [("content-type", "the host header must be signed"), ("host;content-type", "sorted")],
)
async def test_signed_header_names_must_include_host_and_be_sorted(
    fake_isales: FakeISales, raw: RawSender, names: str, problem: str
) -> None:
    header = raw.authorization("GET", CAMPAIGN_PATH).rsplit("/", 2)[0] + f"/{names}/abc"
    status, answer = await raw.send("GET", CAMPAIGN_PATH, authorization=header)
    assert status == 401
    assert problem in answer["resultDesc"]


def test_the_emulator_shares_no_signing_code_with_the_client() -> None:
    imported = set()
    for module in (_isales, _c2):
        for node in ast.walk(ast.parse(Path(module.__file__).read_text())):
            if isinstance(node, ast.ImportFrom):
                imported |= {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
    assert not {name for name in imported if "signing" in name or "auth" in name}, imported
