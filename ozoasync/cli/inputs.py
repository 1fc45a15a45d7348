"""Input items (numbers) read lazily from a file or stdin: one per line, or one column of a
CSV file with a header row. Blank lines and blank cells are skipped; values are stripped."""

from __future__ import annotations

import csv
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TextIO

STDIN = "-"


class InputError(Exception):
    """The input cannot be read as asked (missing file, unknown column, not text)."""


@dataclass(frozen=True, slots=True)
class Source:
    """Where the items come from: ``path`` (``"-"`` for stdin), and for a CSV file the
    header name of the ``column`` that holds them."""

    path: str = STDIN
    column: str | None = None

    @property
    def name(self) -> str:
        return "stdin" if self.path == STDIN else self.path


def line_values(lines: Iterable[str]) -> Iterator[str]:
    """One value per non-blank line."""
    for line in lines:
        value = line.strip()
        if value:
            yield value


def column_index(header: list[str], column: str, name: str) -> int:
    """Where ``column`` is in the header (exact match first, then ignoring case)."""
    names = [cell.strip() for cell in header]
    if column in names:
        return names.index(column)
    folded = [cell.casefold() for cell in names]
    if column.casefold() in folded:
        return folded.index(column.casefold())
    raise InputError(f"{name}: no column {column!r} in the header ({', '.join(names)})")


def column_values(lines: Iterable[str], column: str, name: str) -> Iterator[str]:
    """The non-blank values of one named column of CSV text (the first row is the header)."""
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    index = column_index(header, column, name)
    for row in reader:
        value = row[index].strip() if index < len(row) else ""
        if value:
            yield value


def values(lines: Iterable[str], column: str | None, name: str) -> Iterator[str]:
    if column is None:
        return line_values(lines)
    return column_values(lines, column, name)


def read(source: Source, stdin: TextIO | None = None) -> Iterator[str]:
    """The items of ``source``, read as they are consumed."""
    if source.path == STDIN:
        yield from _decoded(values(stdin or sys.stdin, source.column, source.name), source)
        return
    try:
        # utf-8-sig: spreadsheets save CSV with a byte-order mark; newline="" for csv.
        file = open(source.path, encoding="utf-8-sig", newline="")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"cannot read {source.path}: {exc.strerror}") from None
    with file:
        yield from _decoded(values(file, source.column, source.name), source)


def _decoded(items: Iterator[str], source: Source) -> Iterator[str]:
    try:
        yield from items
    except UnicodeDecodeError:
        raise InputError(f"{source.name}: not UTF-8 text") from None
    except csv.Error as exc:
        raise InputError(f"{source.name}: not readable as CSV: {exc}") from None
