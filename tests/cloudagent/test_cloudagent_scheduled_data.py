"""deleteScheduledData over real HTTP: every row-id form sent in the compact form, against a
server that reads either "row_id" or "rowId"."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ozoasync import NotFoundError, ScheduledDataDeletion
from ozoasync.testing import FakeCloudAgent


def ids(*values: int) -> Iterator[int]:
    yield from values


FORMS = [
    (7, "7", {7}),
    (range(3, 11), "3-10", set(range(3, 11))),
    ([1, 2, 3, 7], "1-3,7", {1, 2, 3, 7}),
    ([7, 3, 2, 1, 3], "1-3,7", {1, 2, 3, 7}),
    ({12, 14}, "12,14", {12, 14}),
    (lambda: ids(5, 6, 7, 9), "5-7,9", {5, 6, 7, 9}),  # a fresh generator per run
    ("7", "7", {7}),
    ("2,3,5,6", "2,3,5,6", {2, 3, 5, 6}),
    ("3-10", "3-10", set(range(3, 11))),
    ("1,3-10,12", "1,3-10,12", {1, 12, *range(3, 11)}),
    ("10-12, 1-2", "1,2,10-12", {1, 2, 10, 11, 12}),
]


@pytest.mark.parametrize("field", ["row_id", "rowId"])
@pytest.mark.parametrize(("row_ids", "compact", "deleted"), FORMS)
async def test_every_row_id_form_deletes_those_rows(
    make_client: Any, field: Any, row_ids: object, compact: str, deleted: set[int]
) -> None:
    async with FakeCloudAgent(row_id_field=field) as fake:
        fake.add_scheduled_rows(range(1, 21))
        given = row_ids() if callable(row_ids) else row_ids
        result = await make_client(fake.url).scheduled_data.delete(given)

    assert result == ScheduledDataDeletion(
        row_ids=compact,
        message=f'{{"deleted":{len(deleted)},"row_id":"{compact}"}}',
    )
    assert fake.scheduled_rows == set(range(1, 21)) - deleted
    (request,) = fake.requests
    assert (request.method, request.path) == ("DELETE", "/ca_apis/deleteScheduledData")
    assert request.json() == {"userName": "demo", "row_id": compact, "rowId": compact}


@pytest.mark.parametrize("field", ["row_id", "rowId"])
async def test_unknown_rows_raise_not_found(make_client: Any, field: Any) -> None:
    async with FakeCloudAgent(row_id_field=field) as fake:
        fake.add_scheduled_rows([1])
        with pytest.raises(NotFoundError) as caught:
            await make_client(fake.url).scheduled_data.delete("50-60")
    assert caught.value.message == "No data found"
    assert fake.scheduled_rows == {1}
