"""The journal: parsing (torn last line, foreign lines), appending, locking."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ozoasync.cli.journal import Journal, JournalError, encode, load, scan
from ozoasync.cli.tally import LABELS, Fate, Item
from ozoasync.results import Outcome

OP, SCOPE = "campaign-data delete", "campaign=spring"
AT = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def line(number: str, op: str = OP, scope: str = SCOPE, status: Fate = Outcome.DELETED) -> bytes:
    return encode(Item(number, status), op, scope, AT)


def lines_of(data: bytes) -> list[bytes]:
    return list(io.BytesIO(data))


def test_a_record_is_one_json_line() -> None:
    assert line("9876543210") == (
        b'{"op":"campaign-data delete","scope":"campaign=spring","number":"9876543210",'
        b'"outcome":"deleted","at":"2025-01-02T03:04:05.000+00:00"}\n'
    )


def test_scan_keeps_the_numbers_of_this_operation_and_scope_only() -> None:
    data = b"".join(
        [
            line("1"),
            line("2", scope="campaign=autumn"),
            line("3", op="block-numbers delete"),
            b"\n",
            line("4", status=Outcome.NOT_FOUND),
        ]
    )

    result = scan(lines_of(data), OP, SCOPE)

    assert result.finished == {"1", "4"}
    assert result.records == 4
    assert result.intact_bytes == len(data)


def test_a_torn_last_line_is_ignored() -> None:
    whole = line("1") + line("2")
    torn = line("3")[:25]

    result = scan(lines_of(whole + torn), OP, SCOPE)

    assert result.finished == {"1", "2"}
    assert result.intact_bytes == len(whole)


def test_a_whole_last_line_without_its_newline_counts_as_torn() -> None:
    result = scan(lines_of(line("1") + line("2")[:-1]), OP, SCOPE)

    assert result.finished == {"1"}


@pytest.mark.parametrize("foreign", [b"number,outcome\n", b'{"op": "x"}\n', b"[1, 2]\n"])
def test_a_line_that_is_not_a_record_stops_with_its_line_number(foreign: bytes) -> None:
    with pytest.raises(JournalError, match=r"j\.jsonl: line 2 is not an ozoasync journal record"):
        scan(lines_of(line("1") + foreign + line("2")), OP, SCOPE, "j.jsonl")


@given(count=st.integers(0, 12), cut=st.integers(0, 2000))
def test_cutting_the_file_anywhere_loses_only_the_cut_records(count: int, cut: int) -> None:
    records = [line(str(9_000_000_000 + i)) for i in range(count)]
    data = b"".join(records)[:cut]

    result = scan(lines_of(data), OP, SCOPE)

    whole, end = set(), 0
    for i, record in enumerate(records):
        end += len(record)
        if end <= cut:
            whole.add(str(9_000_000_000 + i))
    assert result.finished == whole
    assert data[: result.intact_bytes].count(b"\n") == len(whole)


def test_an_absent_journal_is_empty(tmp_path: Path) -> None:
    assert load(str(tmp_path / "new.jsonl"), OP, SCOPE).finished == set()


def test_open_cuts_a_torn_tail_before_appending(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    path.write_bytes(line("1") + line("2")[:30])

    with Journal.open(str(path), OP, SCOPE) as journal:
        assert journal.finished == {"1"}
        journal.append([Item("3", Outcome.DELETED)])

    assert path.read_bytes() == line("1") + path.read_bytes().splitlines(keepends=True)[1]
    assert load(str(path), OP, SCOPE).finished == {"1", "3"}


def test_append_records_finished_items_only(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    items = [Item(fate.value, fate) for fate in LABELS]

    with Journal.open(str(path), OP, SCOPE) as journal:
        journal.append(items)

    assert load(str(path), OP, SCOPE).finished == {
        "deleted",
        "not_found",
        "added",
        "partly_confirmed",
    }
    assert path.read_bytes().count(b"\n") == 4


def test_two_runs_cannot_share_a_journal(tmp_path: Path) -> None:
    path = str(tmp_path / "journal.jsonl")
    with (
        Journal.open(path, OP, SCOPE),
        pytest.raises(JournalError, match="in use by another ozoasync run"),
    ):
        Journal.open(path, OP, SCOPE)
    Journal.open(path, OP, SCOPE).close()  # free again once the first run is done


def test_an_unwritable_journal_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(JournalError, match="cannot open journal"):
        Journal.open(str(tmp_path / "missing-dir" / "journal.jsonl"), OP, SCOPE)
