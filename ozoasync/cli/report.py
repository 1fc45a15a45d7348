"""The machine-readable report of a run: every item and its outcome, as JSON or CSV (chosen
by the file's extension), written as results arrive so a million rows never sit in memory.

JSON: ``{"operation", "scope", "results": [{"number", "outcome", "message", "attempts"}...],
"summary": {outcome: count}}``. CSV: a header row then one row per item, every cell that a
spreadsheet would run as a formula neutralised (:func:`spreadsheet_safe`).

The report is written to a temporary file beside the one named, fsynced and renamed over it
when the run ends: a crash or a kill never leaves a half-written report (nor destroys the
previous one). A write that fails (full disk, read-only directory) is one :class:`ReportError`.
"""

from __future__ import annotations

import contextlib
import csv
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from typing import IO, Protocol

import msgspec

from .tally import Item

FIELDS = ("number", "outcome", "message", "attempts", "place")
FORMATS = (".json", ".csv")

# OWASP's CSV-injection rule: a cell starting with one of these is run as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PHONE_NUMBER = re.compile(r"\+[0-9]{1,20}")  # a spreadsheet shows it as a number, runs nothing


class ReportError(Exception):
    """The report cannot be written where asked."""


def report_format(path: str) -> str:
    """``.json`` or ``.csv``, from the path's extension."""
    extension = os.path.splitext(path)[1].lower()
    if extension not in FORMATS:
        raise ReportError(f"--report {path}: the name must end in .json or .csv")
    return extension


def spreadsheet_safe(cell: str) -> str:
    """``cell`` prefixed with ``'`` when a spreadsheet would run it as a formula (it starts
    with ``= + - @``, a tab or a carriage return); a phone number such as ``+919876543210``
    stays as it is."""
    if cell.startswith(FORMULA_STARTS) and not PHONE_NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


def safe_cells(cells: Mapping[str, object]) -> dict[str, object]:
    """A CSV row with every text cell :func:`spreadsheet_safe`."""
    return {k: spreadsheet_safe(v) if isinstance(v, str) else v for k, v in cells.items()}


def row(item: Item) -> dict[str, object]:
    """One result; ``place`` only where a run has several (forget)."""
    cells: dict[str, object] = {
        "number": item.number,
        "outcome": item.fate.value,
        "message": item.message,
        "attempts": item.attempts,
    }
    if item.place:
        cells["place"] = item.place
    return cells


class AtomicFile:
    """A text file that appears under its name, whole, only when :meth:`commit` is called.
    After a failed write it is discarded, and later writes and the commit do nothing (the
    error raised said it all)."""

    def __init__(self, path: str) -> None:
        self.path = path
        directory = os.path.dirname(os.path.abspath(path))
        try:
            fd, self._temporary = tempfile.mkstemp(
                dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp"
            )
        except OSError as exc:
            raise self.error(exc) from None
        self.file: IO[str] = os.fdopen(fd, "w", encoding="utf-8", newline="")

    def error(self, exc: OSError) -> ReportError:
        return ReportError(f"cannot write report {self.path}: {exc.strerror or exc}")

    def write(self, text: str) -> None:
        if self.file.closed:
            return
        try:
            self.file.write(text)
        except OSError as exc:
            self.discard()
            raise self.error(exc) from None

    def commit(self) -> None:
        if self.file.closed:
            return
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self._temporary, self.path)
        except OSError as exc:
            self.discard()
            raise self.error(exc) from None
        _fsync_directory(os.path.dirname(os.path.abspath(self.path)))

    def discard(self) -> None:
        with contextlib.suppress(OSError):  # the write that failed already said why
            self.file.close()
        if os.path.exists(self._temporary):
            os.unlink(self._temporary)


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (where the platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse fsync on a directory; the rename is still atomic
    finally:
        os.close(fd)


class Report(Protocol):
    def write(self, items: Iterable[Item]) -> None: ...

    def close(self, summary: Mapping[str, int]) -> None: ...


class JsonReport:
    def __init__(self, file: AtomicFile, operation: str, scope: str) -> None:
        self._file = file
        self._first = True
        head = msgspec.json.encode({"operation": operation, "scope": scope}).decode()
        file.write(head[:-1] + ',"results":[')

    def write(self, items: Iterable[Item]) -> None:
        for item in items:
            self._file.write(
                ("\n" if self._first else ",\n") + msgspec.json.encode(row(item)).decode()
            )
            self._first = False

    def close(self, summary: Mapping[str, int]) -> None:
        self._file.write(f'\n],"summary":{msgspec.json.encode(dict(summary)).decode()}}}\n')
        self._file.commit()


class CsvReport:
    def __init__(self, file: AtomicFile) -> None:
        self._file = file
        self._writer = csv.DictWriter(file, FIELDS)
        self._writer.writeheader()

    def write(self, items: Iterable[Item]) -> None:
        self._writer.writerows(safe_cells(row(item)) for item in items)

    def close(self, summary: Mapping[str, int]) -> None:
        self._file.commit()


class JsonLinesStream:
    """``--output jsonl``: one JSON object per input line, flushed as each result arrives
    (for ``jq``, a log shipper, or another program)."""

    def __init__(self, file: IO[str]) -> None:
        self._file = file

    def write(self, items: Iterable[Item]) -> None:
        self._file.write("".join(msgspec.json.encode(row(item)).decode() + "\n" for item in items))
        self._file.flush()

    def close(self, summary: Mapping[str, int]) -> None:
        self._file.flush()


def open_report(path: str, operation: str, scope: str) -> Report:
    extension = report_format(path)
    file = AtomicFile(path)
    if extension == ".csv":
        return CsvReport(file)
    return JsonReport(file, operation, scope)
