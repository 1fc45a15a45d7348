"""C2 signing: the vendor vectors, the canonical forms, and the per-attempt authenticator."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozoasync.isales import signing
from ozoasync.isales.auth import C2Auth, host_header
from ozoasync.transport.call import Call

# Where the vectors come from: no vendor page publishes one, so each was derived outside
# ozoasync, from the steps in the vendor's description (README "Huawei CC-iSales"): the
# canonical request written out by hand below, then the HMAC chain computed with OpenSSL:
#   KEY=$(printf '%s' 'auth-v2/AK-demo/2026-01-02T03:04:05Z/host' \
#         | openssl dgst -sha256 -hmac SK-demo | awk '{print $NF}')
#   printf '<canonical request>' | openssl dgst -sha256 -hmac "$KEY"
# The signing key (first step) is SIGNING_KEY. The client must reproduce both the hand-written
# canonical requests and the signatures.
HOST = "10.0.0.5:28443"
KEYS = {"app_key": "AK-demo", "app_secret": "SK-demo", "timestamp": "2026-01-02T03:04:05Z"}
SIGNING_KEY = "a6c623cd96685219d6fce0f095f34c9d03f6ebe314e408b2650e7dea4390570d"
DELETE_PATH = "/rest/isales/v1/openapi/campaigns/1/callerNo/42"
DELETE_BODY = b'{"callerNo":[{"accessCode":"13800000001"},{"accessCode":"13800000002"}]}'
DELETE_CANONICAL = (
    "DELETE\n/rest/isales/v1/openapi/campaigns/1/callerNo/42\nhost\nhost:10.0.0.5%3A28443\n"
    "%7B%22callerNo%22%3A%5B%7B%22accessCode%22%3A%2213800000001%22%7D%2C"
    "%7B%22accessCode%22%3A%2213800000002%22%7D%5D%7D"
)
DELETE_SIGNATURE = "68b9f8f36523923555e026bed52c5786e5297283d8ccbc84289b0875df5647cc"
LIST_PATH = "/rest/isales/v1/openapi/campaigns/1"
LIST_QUERY = {"curPage": "1", "rowsPerPage": "20"}
LIST_CANONICAL = (
    "GET\n/rest/isales/v1/openapi/campaigns/1\ncurPage=1&rowsPerPage=20\nhost\n"
    "host:10.0.0.5%3A28443\n"
)
LIST_SIGNATURE = "09a47418591d7f752698c297330ec0af9ef53693d3fee4c9d0ba7dfe016a1f07"
# A query that needs encoding (a space, a slash, a non-ASCII letter) and sorting.
ENCODED_QUERY = {"rowsPerPage": "20", "name": "a b/é", "curPage": "1"}
ENCODED_CANONICAL = (
    "GET\n/rest/isales/v1/openapi/campaigns/1\ncurPage=1&name=a%20b%2F%C3%A9&rowsPerPage=20\n"
    "host\nhost:10.0.0.5%3A28443\n"
)
ENCODED_SIGNATURE = "8e5bd2917bbda920a866a997bcf285ef3e557546f43e41ae5a661c07a3f03ecc"


@pytest.mark.parametrize(
    ("request_", "canonical", "expected"),
    [
        (
            signing.Signable("DELETE", DELETE_PATH, {}, {"host": HOST}, DELETE_BODY),
            DELETE_CANONICAL,
            DELETE_SIGNATURE,
        ),
        (
            signing.Signable("GET", LIST_PATH, LIST_QUERY, {"host": HOST}),
            LIST_CANONICAL,
            LIST_SIGNATURE,
        ),
        (
            signing.Signable("GET", LIST_PATH, ENCODED_QUERY, {"host": HOST}),
            ENCODED_CANONICAL,
            ENCODED_SIGNATURE,
        ),
    ],
    ids=["delete-with-body", "get-with-query", "get-with-encoded-query"],
)
def test_vectors_derived_outside_ozoasync(
    request_: signing.Signable, canonical: str, expected: str
) -> None:
    assert signing.canonical_request(request_) == canonical
    prefix = "auth-v2/AK-demo/2026-01-02T03:04:05Z/host"
    assert hmac.new(b"SK-demo", prefix.encode(), hashlib.sha256).hexdigest() == SIGNING_KEY
    assert signing.signature(request_, **KEYS) == expected


def test_vector_authorization_header() -> None:
    request = signing.Signable("DELETE", DELETE_PATH, {}, {"host": HOST}, DELETE_BODY)
    assert signing.authorization(request, **KEYS) == (
        f"auth-v2/AK-demo/2026-01-02T03:04:05Z/host/{DELETE_SIGNATURE}"
    )


def test_the_authenticator_reproduces_both_vectors() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    auth = C2Auth("AK-demo", "SK-demo", clock=lambda: moment)
    delete = Call("deleteCallerNo", "DELETE", DELETE_PATH, DELETE_BODY)
    listing = Call("listCampaigns", "GET", LIST_PATH, query=LIST_QUERY)
    sent = auth.headers(delete, f"https://{HOST}{DELETE_PATH}")
    assert sent == {
        "Host": HOST,
        "Authorization": f"auth-v2/AK-demo/2026-01-02T03:04:05Z/host/{DELETE_SIGNATURE}",
    }
    assert auth.headers(listing, f"https://{HOST}{LIST_PATH}")["Authorization"].endswith(
        f"/{LIST_SIGNATURE}"
    )


def test_the_authenticator_signs_each_attempt_with_the_clock_of_that_attempt() -> None:
    moments = iter([datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 1, 2, 3, 4, 6)])
    auth = C2Auth("AK-demo", "SK-demo", clock=lambda: next(moments))
    call = Call("deleteCallerNo", "DELETE", DELETE_PATH, DELETE_BODY)
    first = auth.headers(call, f"https://{HOST}{DELETE_PATH}")["Authorization"]
    second = auth.headers(call, f"https://{HOST}{DELETE_PATH}")["Authorization"]
    assert first.split("/")[2] == "2026-01-02T03:04:05Z"
    assert second.split("/")[2] == "2026-01-02T03:04:06Z"
    assert first.split("/")[4] != second.split("/")[4]


def test_the_authenticator_never_shows_its_keys() -> None:
    assert "SK-demo" not in repr(C2Auth("AK-demo", "SK-demo"))
    assert "AK-demo" not in repr(C2Auth("AK-demo", "SK-demo"))


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://10.0.0.5:28443/rest", "10.0.0.5:28443"),
        ("https://isales.example.com/rest", "isales.example.com:443"),
        ("http://127.0.0.1/rest", "127.0.0.1:80"),
        ("https://[::1]:8443/rest", "[::1]:8443"),
        ("https://[::1]/rest", "[::1]:443"),
    ],
)
def test_host_header_is_always_host_and_port(url: str, host: str) -> None:
    assert host_header(urlsplit(url)) == host


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 1, 2, 3, 4, 5, 999999, tzinfo=UTC), "2026-01-02T03:04:05Z"),
        (
            datetime(2026, 1, 2, 8, 34, 5, tzinfo=timezone(timedelta(hours=5, minutes=30))),
            "2026-01-02T03:04:05Z",
        ),
        (datetime(2026, 1, 2, 3, 4, 5), "2026-01-02T03:04:05Z"),
    ],
)
def test_timestamps_are_utc_seconds(moment: datetime, text: str) -> None:
    assert signing.format_timestamp(moment) == text
    assert signing.parse_timestamp(text) == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_canonical_request_layout() -> None:
    request = signing.Signable("get", "/p", {"b": "2 3", "a": "é"}, {"Host": " h:1 "}, b"{}")
    assert signing.canonical_request(request) == (
        "GET\n/p\na=%C3%A9&b=2%203\nhost\nhost:h%3A1\n%7B%7D"
    )
    bare = signing.Signable("GET", "/p", {}, {"host": "h:1"})
    assert signing.canonical_request(bare) == "GET\n/p\nhost\nhost:h%3A1\n"


@pytest.mark.parametrize(
    ("header", "parsed"),
    [
        (f"auth-v2/AK/2026-01-02T03:04:05Z/host/{DELETE_SIGNATURE}", ("AK", ("host",))),
        ("auth-v2/AK/ts/content-type;host/abc", ("AK", ("content-type", "host"))),
        ("Bearer abc", None),
        ("auth-v2/AK/ts/host", None),
        ("auth-v2//ts/host/abc", None),
        ("", None),
    ],
)
def test_parse_authorization(header: str, parsed: tuple[str, tuple[str, ...]] | None) -> None:
    result = signing.parse_authorization(header)
    if parsed is None:
        assert result is None
    else:
        assert result is not None
        assert (result.app_key, result.signed_headers) == parsed
        assert result.signature not in repr(result)


_text = st.text(min_size=1, max_size=12)
_query = st.dictionaries(_text, st.text(max_size=12), max_size=5)


@given(query=_query, body=st.binary(max_size=64))
def test_query_order_does_not_change_the_signature(query: dict[str, str], body: bytes) -> None:
    forward = signing.Signable("POST", "/p", list(query.items()), {"host": HOST}, body)
    backward = signing.Signable("POST", "/p", list(reversed(query.items())), {"host": HOST}, body)
    assert signing.signature(forward, **KEYS) == signing.signature(backward, **KEYS)


@given(body=st.binary(min_size=1, max_size=64), flip=st.integers(min_value=0, max_value=63))
def test_any_changed_body_byte_changes_the_signature(body: bytes, flip: int) -> None:
    index = flip % len(body)
    altered = body[:index] + bytes([body[index] ^ 0x01]) + body[index + 1 :]

    def sign(signed: bytes) -> str:
        return signing.signature(
            signing.Signable("DELETE", "/p", {}, {"host": HOST}, signed), **KEYS
        )

    assert sign(body) != sign(altered)


@given(value=st.text(max_size=30))
def test_encode_leaves_only_unreserved_characters(value: str) -> None:
    encoded = signing.encode(value)
    assert all(c.isascii() and (c.isalnum() or c in "-._~%") for c in encoded)
    assert all(part[:2].upper() == part[:2] for part in encoded.split("%")[1:])
