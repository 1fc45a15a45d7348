"""Reading numbers: lines, a named CSV column, files and their problems."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from ozoasync.cli.inputs import InputError, Reader, Source, column_values, line_values, read


def test_lines_are_stripped_and_blank_ones_skipped() -> None:
    text = " 9876543210 \n\n\t\n+919876543211\r\nabc\n"

    assert list(line_values(io.StringIO(text))) == ["9876543210", "+919876543211", "abc"]


@pytest.mark.parametrize("column", ["Mobile", "mobile", " MOBILE "[1:-1]])
def test_a_column_is_found_by_name_ignoring_case(column: str) -> None:
    text = "name,Mobile,city\nA,9876543210,Pune\nB, 9876543211 ,Goa\n"

    assert list(column_values(io.StringIO(text), column, "f.csv")) == [
        "9876543210",
        "9876543211",
    ]


def test_blank_cells_and_short_rows_are_skipped() -> None:
    text = 'name,phone\nA,\nB\n"C, Jr.",9876543210\n'

    assert list(column_values(io.StringIO(text), "phone", "f.csv")) == ["9876543210"]


def test_an_unknown_column_names_the_header() -> None:
    values = column_values(io.StringIO("name,phone\nA,1\n"), "mobile", "f.csv")

    with pytest.raises(
        InputError, match=r"f.csv: no column 'mobile' in the header \(name, phone\)"
    ):
        list(values)


def test_an_empty_csv_has_no_values() -> None:
    assert list(column_values(io.StringIO(""), "phone", "f.csv")) == []


def test_a_file_saved_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "numbers.csv"
    path.write_text("phone\n9876543210\n", encoding="utf-8-sig")

    assert list(read(Source(str(path), "phone"))) == ["9876543210"]


def test_stdin_is_read_when_the_path_is_a_dash() -> None:
    assert list(read(Source("-"), io.BytesIO(b"1\n2\n"))) == ["1", "2"]


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read .*absent\.txt: No such file"):
        list(read(Source(str(tmp_path / "absent.txt"))))


def test_a_binary_file_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "numbers.xlsx"
    path.write_bytes(b"PK\x03\x04\xff\xfe\x00binary")

    with pytest.raises(InputError, match=r"numbers\.xlsx: not UTF-8 text"):
        list(read(Source(str(path))))


def test_reading_is_lazy() -> None:
    stream = io.BytesIO(b"1\n2\n3\n")
    items = read(Source("-"), stream)

    assert next(items) == "1"
    assert stream.tell() == 2  # one line read, not the whole input
    assert list(items) == ["2", "3"]


def test_comment_lines_are_ignored_in_lines_and_in_csv() -> None:
    assert list(line_values(["# opt-outs of May\n", "1\n", "  # indented\n", "\n", "2\n"])) == [
        "1",
        "2",
    ]
    csv_lines = ["# exported by the CRM\n", "name,phone\n", "a,1\n", "# a note\n", "b,2\n"]
    assert list(column_values(csv_lines, "phone", "x.csv")) == ["1", "2"]


def test_the_reader_counts_the_bytes_it_has_consumed(tmp_path: Path) -> None:
    path = tmp_path / "numbers.txt"
    path.write_bytes(b"111\n222\n333\n")
    reader = Reader(Source(str(path)))
    values = iter(reader)

    assert next(values) == "111"
    assert (reader.bytes_read, reader.size) == (4, 12)  # one line read, the size known
    assert list(values) == ["222", "333"]
    assert reader.bytes_read == 12
