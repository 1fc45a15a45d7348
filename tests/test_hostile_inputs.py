"""Hostile and absurd inputs: every one is a RequestValidationError at construction or before
anything is sent, and, as a property, every public call raises only OzoError subclasses for
arbitrary arguments (fuzzed against the emulators, which run in a thread of their own)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ozoasync import (
    CloudAgentClient,
    ISalesClient,
    OzoError,
    RequestValidationError,
    RetryPolicy,
)
from ozoasync.row_ids import compact_row_ids
from ozoasync.testing import FakeCloudAgent, FakeISales

CONTROL = ["a\r\nb", "x\nInjected: 1", "\x00key", "ke\x7fy", "k\u2028ey", "k\ud800", "k\te"]


# --- the cases, one by one ------------------------------------------------------


@pytest.mark.parametrize("bad", CONTROL)
@pytest.mark.parametrize("field", ["username", "api_key"])
def test_cloudagent_credentials_with_control_characters(field: str, bad: str) -> None:
    args = {"username": "demo", "api_key": "KK-key", field: bad}
    with pytest.raises(RequestValidationError) as caught:
        CloudAgentClient(args["username"], args["api_key"])
    assert caught.value.field == field
    assert bad not in str(caught.value)  # a credential is never echoed


@pytest.mark.parametrize("bad", CONTROL)
@pytest.mark.parametrize("field", ["app_key", "app_secret"])
def test_isales_credentials_with_control_characters(field: str, bad: str) -> None:
    args = {"app_key": "AK", "app_secret": "SK", field: bad}
    with pytest.raises(RequestValidationError) as caught:
        ISalesClient("https://10.0.0.5:28443", args["app_key"], args["app_secret"])
    assert caught.value.field == field


@pytest.mark.parametrize("key", ["KK key", "KKé"])
def test_api_keys_must_be_visible_ascii(key: str) -> None:
    with pytest.raises(RequestValidationError):
        CloudAgentClient("demo", key)


TIMEOUTS = [math.nan, math.inf, -math.inf, True, False, "5", 0, -1, 10**400, 1e300, None, [5]]


@pytest.mark.parametrize("timeout", TIMEOUTS, ids=repr)
def test_timeouts_that_cannot_work(timeout: Any) -> None:
    with pytest.raises(RequestValidationError) as caught:
        CloudAgentClient("demo", "KK-key", timeout=timeout)
    assert caught.value.field == "timeout"
    with pytest.raises(RequestValidationError):
        ISalesClient("https://10.0.0.5:28443", "AK", "SK", timeout=timeout)


@pytest.mark.parametrize("timeout", [0.5, 5, 30.0])
def test_sane_timeouts(timeout: float) -> None:
    CloudAgentClient("demo", "KK-key", timeout=timeout)


@pytest.mark.parametrize(
    "url",
    [
        "https://user:password@in1-ccaas-api.ozonetel.com",
        "https://user@example.com",
        "https://:pw@example.com",
        "https://example.com/?a=1",
        "https://example.com/#x",
        "https://exa mple.com",
        "https://example.com:99999",
        "https://example.com\r\nX: 1",
        "ftp://example.com",
        "https://",
    ],
)
def test_cloudagent_base_urls_refused(url: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        CloudAgentClient("demo", "KK-key", base_url=url)
    assert caught.value.field == "base_url"
    assert "password" not in str(caught.value)


def test_a_partner_url_with_a_path_is_kept() -> None:
    client = CloudAgentClient("demo", "KK-key", base_url="https://partner.example/ozo/")
    assert client.base_url == "https://partner.example/ozo"


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"region": ["domestic"]}, "region"),
        ({"auth": {"token"}}, "auth"),
        ({"rate_limits": 5}, "rate_limits"),
        ({"rate_limits": {"deleteCampaignData": (100, 60)}}, "rate_limits"),
        ({"rate_limits": {7: None}}, "rate_limits"),
        ({"retry": 3}, "retry"),
        ({"coordination": "redis://x"}, "coordination"),
        ({"session": object()}, "session"),
        ({"token_budget": 10}, "token_budget"),
    ],
)
def test_options_of_the_wrong_kind(options: dict[str, Any], field: str) -> None:
    with pytest.raises(RequestValidationError) as caught:
        CloudAgentClient("demo", "KK-key", **options)
    assert caught.value.field == field


@pytest.mark.parametrize(
    "row_ids", ["1" * 5000, "1-" + "9" * 5000, 2**64, range(1, 2**70), [2**63], "9" * 20]
)
def test_huge_row_ids(row_ids: object) -> None:
    with pytest.raises(RequestValidationError):
        compact_row_ids(row_ids)


# --- the property: only OzoError, whatever the arguments ---------------------------------

HOSTILE = st.sampled_from(
    [
        *CONTROL,
        "",
        " ",
        "9876543210",
        "+919876543210",
        "1" * 5000,
        "1-" + "9" * 5000,
        "=1+1",
        "spring",
        "http://u:p@127.0.0.1:1",
        2**20000,
        -(2**70),
        math.nan,
        math.inf,
        b"9876543210",
        bytearray(b"1"),
        object(),
        range(0),
        range(1, 2**70),
        {"a": 1},
        (),
    ]
)
ANYTHING = st.one_of(
    HOSTILE,
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.binary(max_size=8),
    st.lists(st.one_of(HOSTILE, st.text(max_size=12), st.integers()), max_size=4),
)


class EmulatorThread:
    """Both emulators served by an event loop of their own, so that each example can run
    its own loop (``asyncio.run``) against them."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.cloudagent = FakeCloudAgent(rate_limits={"DeleteBulkData": (10**6, 1.0)})
        self.isales = FakeISales()

    def __enter__(self) -> EmulatorThread:
        self.thread.start()
        self._run(self.cloudagent.start())
        self._run(self.isales.start())
        self.cloudagent.add_campaign("spring", ["9876543210"])
        self.cloudagent.add_block_group(1, ["9876543210"])
        self.cloudagent.add_scheduled_rows([1, 2], phone_number="9876543210", campaign="spring")
        self.isales.add_campaign(1, 1, ["123", "456"])
        return self

    def __exit__(self, *exc: object) -> None:
        self._run(self.cloudagent.stop())
        self._run(self.isales.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()

    def _run(self, coroutine: Awaitable[None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self.loop).result()  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def emulators() -> Iterator[EmulatorThread]:
    with EmulatorThread() as running:
        yield running


ONCE = RetryPolicy(max_attempts=1)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


ONCE = RetryPolicy(max_attempts=1)
FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


async def drain(result: Any) -> None:
    if hasattr(result, "__aiter__"):
        async for _ in result:
            pass
    elif asyncio.iscoroutine(result):
        await result


def cloudagent(fake: FakeCloudAgent) -> CloudAgentClient:
    return CloudAgentClient(
        fake.username,
        fake.api_key,
        base_url=fake.url,
        retry=ONCE,
        timeout=2.0,
        rate_limits={"deleteCampaignData": None, "DeleteBulkData": None},
    )


def isales(fake: FakeISales) -> ISalesClient:
    return ISalesClient(fake.url, fake.app_key, fake.app_secret, retry=ONCE, timeout=2.0)


def values(*good: object) -> st.SearchStrategy[Any]:
    return st.sampled_from(good)


GOOD_NUMBERS = values(["9876543210"], ["+919876543210", "9876543210"], ("123", "456"))


def ignore(progress: object) -> None:
    """A callback that does nothing."""


GOOD_CALLBACK = values(None, ignore)

# Each operation: the client it runs on, the call, and for each argument the values that are
# valid. Every example corrupts none, one or two arguments (anything, hostile values
# included) and keeps the others valid, so that every argument's check is reached.
Operation = tuple[str, Callable[[Any, dict[str, Any]], Any], dict[str, st.SearchStrategy[Any]]]
OPERATIONS: list[Operation] = [
    (
        "cloudagent",
        lambda c, a: c.campaign_data.delete(a["campaign"], a["number"], name=a["name"]),
        {"campaign": values("spring"), "number": values("9876543210"), "name": values(None, "A")},
    ),
    (
        "cloudagent",
        lambda c, a: c.campaign_data.delete_many(
            a["campaign"], a["numbers"], concurrency=a["concurrency"], on_progress=a["progress"]
        ),
        {
            "campaign": values("spring"),
            "numbers": GOOD_NUMBERS,
            "concurrency": values(1, 8),
            "progress": GOOD_CALLBACK,
        },
    ),
    (
        "cloudagent",
        lambda c, a: c.campaign_data.delete_across(a["campaigns"], a["numbers"]),
        {"campaigns": values(["spring"], ("spring", "spring")), "numbers": GOOD_NUMBERS},
    ),
    (
        "cloudagent",
        lambda c, a: c.block_numbers.delete(a["group"], a["numbers"], on_progress=a["progress"]),
        {"group": values(1, 2), "numbers": GOOD_NUMBERS, "progress": GOOD_CALLBACK},
    ),
    (
        "cloudagent",
        lambda c, a: c.block_numbers.delete_chunks(a["group"], a["numbers"]),
        {"group": values(1, 2), "numbers": GOOD_NUMBERS},
    ),
    (
        "cloudagent",
        lambda c, a: c.scheduled_data.delete(a["row_ids"]),
        {"row_ids": values(1, "1-2", [1, 2], range(1, 3))},
    ),
    ("cloudagent", lambda c, a: c.scheduled_data.list(), {}),
    (
        "cloudagent",
        lambda c, a: c.scheduled_data.delete_for(a["numbers"], campaign=a["campaign"]),
        {"numbers": GOOD_NUMBERS, "campaign": values(None, "spring")},
    ),
    (
        "cloudagent",
        lambda c, a: c.phones.edit(
            a["number"],
            a["name"],
            new_phone_number=a["new_number"],
            new_phone_name=a["new_name"],
            assign_skills=a["assign"],
            unassign_skills=a["unassign"],
        ),
        {
            "number": values("9876543210"),
            "name": values("desk"),
            "new_number": values("9876543211"),
            "new_name": values(None, "desk2"),
            "assign": values((), ["sales"], "sales"),
            "unassign": values(
                (),
            ),
        },
    ),
    (
        "isales",
        lambda c, a: c.caller_numbers.add(
            a["vdn"], a["campaign"], a["numbers"], priority=a["priority"], on_progress=a["progress"]
        ),
        {
            "vdn": values(1),
            "campaign": values(1, 2),
            "numbers": values(["789"], ("123",)),
            "priority": values(1, 5),
            "progress": GOOD_CALLBACK,
        },
    ),
    (
        "isales",
        lambda c, a: c.caller_numbers.delete(
            a["vdn"], a["campaign"], a["numbers"], on_progress=a["progress"]
        ),
        {
            "vdn": values(1),
            "campaign": values(1, 2),
            "numbers": values(["789"], ("123",)),
            "progress": GOOD_CALLBACK,
        },
    ),
    (
        "isales",
        lambda c, a: c.caller_numbers.add_chunks(
            a["vdn"], a["campaign"], a["numbers"], priority=a["priority"]
        ),
        {
            "vdn": values(1),
            "campaign": values(1, 2),
            "numbers": values(["789"], ("123",)),
            "priority": values(1, 5),
        },
    ),
    (
        "isales",
        lambda c, a: c.caller_numbers.delete_chunks(a["vdn"], a["campaign"], a["numbers"]),
        {"vdn": values(1), "campaign": values(1, 2), "numbers": values(["789"], ("123",))},
    ),
    (
        "isales",
        lambda c, a: c.campaigns.get(a["vdn"], a["campaign"]),
        {"vdn": values(1, 2), "campaign": values(1, 5)},
    ),
    (
        "isales",
        lambda c, a: c.campaigns.list(a["vdn"], rows_per_page=a["rows"]),
        {"vdn": values(1, 2), "rows": values(1, 100)},
    ),
]


@st.composite
def arguments(draw: st.DrawFn, valid: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    corrupt = draw(st.sets(st.sampled_from(sorted(valid)), max_size=2)) if valid else set()
    return {name: draw(ANYTHING if name in corrupt else good) for name, good in valid.items()}


NAMES = [
    "delete",
    "delete_many",
    "delete_across",
    "block_numbers",
    "block_number_chunks",
    "scheduled_delete",
    "scheduled_list",
    "delete_for",
    "phones_edit",
    "caller_add",
    "caller_delete",
    "caller_add_chunks",
    "caller_delete_chunks",
    "campaign_get",
    "campaign_list",
]


@pytest.mark.parametrize("operation", OPERATIONS, ids=NAMES)
def test_every_operation_raises_only_ozo_errors(
    emulators: EmulatorThread, operation: Operation
) -> None:
    kind, call, valid = operation
    fake = emulators.cloudagent if kind == "cloudagent" else emulators.isales
    client_of = cloudagent if kind == "cloudagent" else isales

    @FUZZ
    @given(args=arguments(valid))
    def run(args: dict[str, Any]) -> None:
        async def scenario() -> None:
            async with client_of(fake) as client:  # type: ignore[operator]
                with contextlib.suppress(OzoError):
                    await drain(call(client, args))

        asyncio.run(scenario())

    run()


@FUZZ
@given(
    args=arguments(
        {
            "username": values("demo"),
            "api_key": values("KK-key"),
            "auth": values("api_key", "token"),
            "region": values("domestic", "international"),
            "base_url": values(None, "https://partner.example/x"),
            "timeout": values(30.0, 1),
            "rate_limits": values(None, {}),
            "retry": values(None, ONCE),
            "coordination": values(None),
        }
    )
)
def test_cloudagent_constructor_fuzz(args: dict[str, Any]) -> None:
    username, api_key = args.pop("username"), args.pop("api_key")
    with contextlib.suppress(OzoError):
        CloudAgentClient(username, api_key, **args)


@FUZZ
@given(
    args=arguments(
        {
            "base_url": values("https://10.0.0.5:28443", "http://127.0.0.1:9"),
            "app_key": values("AK"),
            "app_secret": values("SK"),
            "timeout": values(5.0),
            "ssl": values(None, False),
            "rate_limits": values(None),
        }
    )
)
def test_isales_constructor_fuzz(args: dict[str, Any]) -> None:
    base_url, key, secret = args.pop("base_url"), args.pop("app_key"), args.pop("app_secret")
    with contextlib.suppress(OzoError):
        ISalesClient(base_url, key, secret, **args)


CLOUDAGENT_CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("campaign", lambda ca: ca.campaign_data.delete("spr\ning", "9876543210")),
    ("name", lambda ca: ca.campaign_data.delete("spring", "9876543210", name="A\x00")),
    ("phone_number", lambda ca: ca.campaign_data.delete("spring", "98765\x0043210")),
    ("phone_numbers", lambda ca: ca.campaign_data.delete_many("spring", ["98765\r\n1"])),
    ("campaigns", lambda ca: ca.campaign_data.delete_across(["a", "b\x1b[2J"], ["1"])),
    ("group_id", lambda ca: ca.block_numbers.delete(2**64, ["9876543210"])),
    ("group_id", lambda ca: ca.block_numbers.delete(10**5000, ["9876543210"])),
    ("row_ids", lambda ca: ca.scheduled_data.delete("1-" + "9" * 5000)),
    ("campaign", lambda ca: ca.scheduled_data.delete_for(["1"], campaign="a\tb")),
    ("phone_name", lambda ca: ca.phones.edit("1", "de\r\nsk", new_phone_number="2")),
    (
        "assign_skills",
        lambda ca: ca.phones.edit("1", "d", new_phone_number="2", assign_skills=["QA\x00"]),
    ),
    ("on_progress", lambda ca: ca.block_numbers.delete(1, ["1"], on_progress=42)),
]


@pytest.mark.parametrize(("field", "call"), CLOUDAGENT_CALLS)
async def test_hostile_arguments_are_refused_unsent(field: str, call: Callable[[Any], Any]) -> None:
    async with FakeCloudAgent() as fake:
        fake.add_campaign("spring", ["9876543210"])
        async with cloudagent(fake) as ca:
            with pytest.raises(RequestValidationError) as caught:
                await drain(call(ca))
    assert caught.value.field == field
    assert fake.requests == []


ISALES_CALLS: list[tuple[str, Callable[[Any], Any]]] = [
    ("vdn_id", lambda i: i.caller_numbers.delete(10**5000, 1, ["1"])),
    ("campaign_id", lambda i: i.caller_numbers.delete(1, 2**64, ["1"])),
    ("numbers", lambda i: i.caller_numbers.add(1, 1, ["12\n3"])),
    ("priority", lambda i: i.caller_numbers.add(1, 1, ["123"], priority=2**70)),
    ("rows_per_page", lambda i: i.campaigns.list(1, rows_per_page=10**6)),
]


@pytest.mark.parametrize(("field", "call"), ISALES_CALLS)
async def test_hostile_isales_arguments_are_refused_unsent(
    field: str, call: Callable[[Any], Any]
) -> None:
    async with FakeISales() as fake:
        fake.add_campaign(1, 1, ["123", "456"])
        async with isales(fake) as client:
            with pytest.raises(RequestValidationError) as caught:
                await drain(call(client))
    assert caught.value.field == field
    assert fake.requests == []
