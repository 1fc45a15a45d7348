"""Input lines (numbers) read lazily, once, from a file or stdin: one per line, or one
column of a CSV file with a header row.

Blank lines (cells) and lines starting with ``#`` are ignored; values are stripped. The
reader counts the bytes it has consumed, so the progress bar can estimate the total and the
ETA of a file without reading it twice.
"""

from __future__ import annotations

import codecs
import csv
import os
import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

STDIN = "-"

# Written inside numbers by people and spreadsheets: "+91-98765-43210", "(022) 4000.1234".
SEPARATORS = re.compile(r"[\s\-.()]")


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


def normalised(value: str) -> str:
    """``value`` without the separators people write inside numbers."""
    return SEPARATORS.sub("", value)


def line_values(lines: Iterable[str]) -> Iterator[str]:
    """One value per line that is neither blank nor a ``#`` comment."""
    for line in lines:
        value = line.strip()
        if value and not value.startswith("#"):
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
    """The values of one named column of CSV text (the first row is the header); blank
    cells and ``#`` comment lines are ignored."""
    reader = csv.reader(line for line in lines if not line.startswith("#"))
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


class Reader:
    """The values of ``source``, read as they are consumed, counting the bytes consumed.
    ``size`` is the file's size in bytes (None for stdin)."""

    def __init__(self, source: Source, stdin: BinaryIO | None = None) -> None:
        self.source = source
        self.bytes_read = 0
        self.size: int | None = None
        self._stdin = stdin
        if source.path != STDIN:
            try:
                self.size = os.stat(source.path).st_size
            except OSError as exc:
                raise InputError(f"cannot read {source.path}: {exc.strerror}") from None

    def __iter__(self) -> Iterator[str]:
        if self.source.path == STDIN:
            yield from self._values(self._stdin or sys.stdin.buffer)
            return
        try:
            file = open(self.source.path, "rb")  # noqa: SIM115
        except OSError as exc:
            raise InputError(f"cannot read {self.source.path}: {exc.strerror}") from None
        with file:
            yield from self._values(file)

    def _lines(self, file: BinaryIO) -> Iterator[str]:
        # utf-8-sig: spreadsheets save CSV with a byte-order mark.
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        for raw in file:
            self.bytes_read += len(raw)
            yield decoder.decode(raw)
        decoder.decode(b"", final=True)

    def _values(self, file: BinaryIO) -> Iterator[str]:
        name = self.source.name
        try:
            yield from values(self._lines(file), self.source.column, name)
        except UnicodeDecodeError:
            raise InputError(f"{name}: not UTF-8 text") from None
        except csv.Error as exc:
            raise InputError(f"{name}: not readable as CSV: {exc}") from None


def read(source: Source, stdin: BinaryIO | None = None) -> Iterator[str]:
    """The values of ``source``, read as they are consumed."""
    return iter(Reader(source, stdin))
