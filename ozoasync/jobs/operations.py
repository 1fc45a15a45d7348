"""What a job does to each of its numbers, and for which account.

An :class:`Operation` is a frozen struct naming the operation (its ``kind``, the struct's
tag) and its target; it checks and normalises one input number, and sends a stream of
numbers through the SDK, yielding one :class:`~ozoasync.NumberResult` per number. The set is
open: subclass :class:`Operation` with a ``tag=`` and decorate it with :func:`operation`.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import aclosing
from typing import Any, ClassVar, Literal, TypeVar, Union, cast
from urllib.parse import urlsplit

import msgspec

from .. import validation
from ..cloudagent import wire as cloudagent_wire
from ..cloudagent.client import CloudAgentClient
from ..errors import RequestValidationError
from ..isales.client import ISalesClient
from ..results import (
    BlockNumberChunk,
    BulkDataChunk,
    CallerNumberChunk,
    NumberResult,
    ScheduledNumberResult,
)

Vendor = Literal["cloudagent", "isales"]


class Account(msgspec.Struct, frozen=True, kw_only=True):
    """The account a job belongs to, never its secret: CloudAgent's user name and base URL,
    or the iSales server and a hash of the app key (``key_id``)."""

    vendor: Vendor
    base_url: str
    username: str = ""
    key_id: str = ""

    @classmethod
    def cloudagent(cls, username: str, base_url: str) -> Account:
        return cls(vendor="cloudagent", base_url=base_url.rstrip("/"), username=username)

    @classmethod
    def isales(cls, base_url: str, app_key: str) -> Account:
        # The same 16 hex digits the SDK's rate-limit scope uses: the key is not recoverable.
        key_id = "ak-" + hashlib.sha256(app_key.encode()).hexdigest()[:16]
        return cls(vendor="isales", base_url=base_url.rstrip("/"), key_id=key_id)

    @classmethod
    def of(cls, client: CloudAgentClient) -> Account:
        """The account of a CloudAgent client (for iSales use :meth:`isales`: the client
        does not reveal its key, not even hashed)."""
        return cls.cloudagent(client.username, client.base_url)

    @property
    def label(self) -> str:
        host = urlsplit(self.base_url).netloc or self.base_url
        return f"{self.username}@{host}" if self.username else f"{self.key_id}@{host}"

    def matches(self, client: object) -> bool:
        """Whether ``client`` works for this account (for iSales: the same server; the key
        itself cannot be compared)."""
        if isinstance(client, CloudAgentClient):
            return self.vendor == "cloudagent" and Account.of(client) == self
        if isinstance(client, ISalesClient):
            return self.vendor == "isales" and client.base_url.rstrip("/") == self.base_url
        return False


def describe_client(client: object) -> str:
    if isinstance(client, CloudAgentClient):
        return Account.of(client).label
    if isinstance(client, ISalesClient):
        return f"iSales at {client.base_url}"
    return type(client).__name__


class Operation(msgspec.Struct, frozen=True, kw_only=True, tag_field="kind"):
    """Base of every job operation (see the module docstring)."""

    vendor: ClassVar[Vendor]

    @property
    def kind(self) -> str:
        return str(type(self).__struct_config__.tag)

    def describe(self) -> str:
        """The operation and its target, as a job's default name starts."""
        raise NotImplementedError

    def normalise(self, number: str) -> str:
        """The number as it is stored and sent; raises RequestValidationError."""
        return validation.phone_number(number, "numbers")

    def send(
        self, client: Any, numbers: AsyncIterable[str], *, concurrency: int
    ) -> AsyncIterator[NumberResult]:
        """One result per number of ``numbers``, as they finish. Errors that doom every
        later request are raised after the results already had are yielded."""
        raise NotImplementedError


_REGISTRY: dict[str, type[Operation]] = {}

OperationType = TypeVar("OperationType", bound=type[Operation])


def operation(cls: OperationType) -> OperationType:
    """Register an Operation subclass so that stores can read jobs of its kind back."""
    _REGISTRY[str(cls.__struct_config__.tag)] = cls
    return cls


def decode_operation(raw: str) -> Operation:
    union = Union[tuple(_REGISTRY.values())]  # type: ignore[valid-type]  # noqa: UP007
    return cast(Operation, msgspec.json.decode(raw, type=union))


def encode_operation(op: Operation) -> str:
    return msgspec.json.encode(op).decode()


async def _flatten(
    chunks: AsyncIterator[BlockNumberChunk]
    | AsyncIterator[CallerNumberChunk]
    | AsyncIterator[BulkDataChunk],
) -> AsyncIterator[NumberResult]:
    async with aclosing(chunks) as stream:  # type: ignore[type-var]
        async for chunk in stream:
            for item in chunk.items:
                yield item


@operation
class DeleteCampaignData(Operation, frozen=True, kw_only=True, tag="campaign-data.delete"):
    """deleteCampaignData of every number from ``campaign``, one request per number."""

    vendor: ClassVar[Vendor] = "cloudagent"
    campaign: str

    def describe(self) -> str:
        return f"campaign-data.delete {self.campaign}"

    async def send(
        self, client: Any, numbers: AsyncIterable[str], *, concurrency: int
    ) -> AsyncIterator[NumberResult]:
        ca = cast(CloudAgentClient, client)
        stream = ca.campaign_data.delete_many(self.campaign, numbers, concurrency=concurrency)
        async with aclosing(stream) as results:
            async for result in results:
                yield NumberResult(
                    number=result.phone_number,
                    outcome=result.outcome,
                    message=result.message,
                    error=result.error,
                )


@operation
class DeleteBulkData(Operation, frozen=True, kw_only=True, tag="campaign-data.delete-across"):
    """DeleteBulkData of every number from every campaign of ``campaigns`` (the job's
    target), 100 numbers per request. A number's row holds what the vendor answered for it
    across all the campaigns (its answer is per request, not per campaign).

    At most 100 campaigns: every number then goes in one request, so each has one answer.
    The account not offering DeleteBulkData (BulkDataUnavailableError) stops the worker with
    the numbers back to pending; ``ozoasync forget`` then falls back to deleteCampaignData.
    """

    vendor: ClassVar[Vendor] = "cloudagent"
    campaigns: tuple[str, ...]

    def __post_init__(self) -> None:
        names = [validation.non_empty_text(name, "campaigns") for name in self.campaigns]
        if not names or len(set(names)) != len(names):
            raise RequestValidationError("campaigns", "must be distinct campaign names")
        if len(names) > cloudagent_wire.MAX_BULK_CAMPAIGNS:
            raise RequestValidationError(
                "campaigns",
                f"a job takes at most {cloudagent_wire.MAX_BULK_CAMPAIGNS} campaigns "
                "(one request per number); split the list into several jobs",
            )

    def describe(self) -> str:
        return f"campaign-data.delete-across {','.join(self.campaigns)}"

    def send(
        self, client: Any, numbers: AsyncIterable[str], *, concurrency: int
    ) -> AsyncIterator[NumberResult]:
        ca = cast(CloudAgentClient, client)
        return _flatten(ca.campaign_data.delete_across(self.campaigns, numbers))


#: Numbers matched against one Scheduled Data Status listing (the vendor answers every row
#: of the account in one response: fewer listings, at the cost of this many in memory).
SCHEDULED_BATCH = 500


def scheduled_result(item: ScheduledNumberResult) -> NumberResult:
    """A number's scheduled-data result, the ids of its deleted rows in the message."""
    message = item.message or (str(item.error) if item.error is not None else "")
    if item.row_ids:
        rows = ",".join(str(row_id) for row_id in item.row_ids)
        message = f"rows {rows}" + (f": {message}" if message else "")
    return NumberResult(number=item.number, outcome=item.outcome, message=message, error=item.error)


@operation
class DeleteScheduledData(Operation, frozen=True, kw_only=True, tag="scheduled-data.delete-for"):
    """Every scheduled row of each number deleted (of ``campaign`` only, when given): per
    batch of numbers one listing and one deleteScheduledData of the matching rows."""

    vendor: ClassVar[Vendor] = "cloudagent"
    campaign: str | None = None

    def describe(self) -> str:
        return "scheduled-data.delete-for " + (
            f"campaign {self.campaign}" if self.campaign else "every campaign"
        )

    async def send(
        self, client: Any, numbers: AsyncIterable[str], *, concurrency: int
    ) -> AsyncIterator[NumberResult]:
        ca = cast(CloudAgentClient, client)
        batch: list[str] = []
        async for number in numbers:
            batch.append(number)
            if len(batch) >= SCHEDULED_BATCH:
                for result in await self._delete(ca, batch):
                    yield result
                batch = []
        if batch:
            for result in await self._delete(ca, batch):
                yield result

    async def _delete(self, ca: CloudAgentClient, numbers: list[str]) -> list[NumberResult]:
        deletion = await ca.scheduled_data.delete_for(numbers, campaign=self.campaign)
        return [scheduled_result(item) for item in deletion.items]


@operation
class DeleteBlockNumbers(Operation, frozen=True, kw_only=True, tag="block-numbers.delete"):
    """deleteBlockNumberGroup of every number from block group ``group_id``, in chunks."""

    vendor: ClassVar[Vendor] = "cloudagent"
    group_id: int

    def describe(self) -> str:
        return f"block-numbers.delete {self.group_id}"

    def send(
        self, client: Any, numbers: AsyncIterable[str], *, concurrency: int
    ) -> AsyncIterator[NumberResult]:
        ca = cast(CloudAgentClient, client)
        return _flatten(ca.block_numbers.delete_chunks(self.group_id, numbers))


class _CallerNumbersOperation(Operation, frozen=True, kw_only=True):
    """What the iSales calling-number operations share: the campaign and its numbers' form."""

    vendor: ClassVar[Vendor] = "isales"
    vdn_id: int
    campaign_id: int

    def normalise(self, number: str) -> str:
        return validation.access_code(number, "numbers")


@operation
class DeleteCallerNumbers(_CallerNumbersOperation, frozen=True, tag="caller-numbers.delete"):
    """iSales calling-number deletion from campaign ``campaign_id`` of VDN ``vdn_id``."""

    def describe(self) -> str:
        return f"caller-numbers.delete {self.vdn_id}/{self.campaign_id}"

    def send(
        self, client: Any, numbers: AsyncIterable[str], *, concurrency: int
    ) -> AsyncIterator[NumberResult]:
        isales = cast(ISalesClient, client)
        return _flatten(isales.caller_numbers.delete_chunks(self.vdn_id, self.campaign_id, numbers))


@operation
class AddCallerNumbers(_CallerNumbersOperation, frozen=True, tag="caller-numbers.add"):
    """iSales calling-number addition to campaign ``campaign_id`` of VDN ``vdn_id``."""

    priority: int = 1

    def describe(self) -> str:
        return f"caller-numbers.add {self.vdn_id}/{self.campaign_id} priority {self.priority}"

    def send(
        self, client: Any, numbers: AsyncIterable[str], *, concurrency: int
    ) -> AsyncIterator[NumberResult]:
        isales = cast(ISalesClient, client)
        chunks = isales.caller_numbers.add_chunks(
            self.vdn_id, self.campaign_id, numbers, priority=self.priority
        )
        return _flatten(chunks)


__all__ = [
    "Account",
    "AddCallerNumbers",
    "DeleteBlockNumbers",
    "DeleteBulkData",
    "DeleteCallerNumbers",
    "DeleteCampaignData",
    "DeleteScheduledData",
    "Operation",
    "operation",
]
