"""The machine-readable report of a run: every item and its outcome, as JSON or CSV (chosen
by the file's extension), written as results arrive so a million rows never sit in memory.

JSON: ``{"operation", "scope", "results": [{"number", "outcome", "message", "attempts"}...],
"summary": {outcome: count}}``. CSV: a header row then one row per item.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from typing import IO, Protocol

import msgspec

from .tally import Item

FIELDS = ("number", "outcome", "message", "attempts")
FORMATS = (".json", ".csv")


class ReportError(Exception):
    """The report cannot be written where asked."""


def report_format(path: str) -> str:
    """``.json`` or ``.csv``, from the path's extension."""
    extension = os.path.splitext(path)[1].lower()
    if extension not in FORMATS:
        raise ReportError(f"--report {path}: the name must end in .json or .csv")
    return extension


def row(item: Item) -> dict[str, object]:
    return {
        "number": item.number,
        "outcome": item.status.value,
        "message": item.message,
        "attempts": item.attempts,
    }


class Report(Protocol):
    def write(self, items: Iterable[Item]) -> None: ...

    def close(self, summary: Mapping[str, int]) -> None: ...


class JsonReport:
    def __init__(self, file: IO[str], operation: str, scope: str) -> None:
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
        self._file.close()


class CsvReport:
    def __init__(self, file: IO[str]) -> None:
        self._file = file
        self._writer = csv.DictWriter(file, FIELDS)
        self._writer.writeheader()

    def write(self, items: Iterable[Item]) -> None:
        self._writer.writerows(row(item) for item in items)

    def close(self, summary: Mapping[str, int]) -> None:
        self._file.close()


def open_report(path: str, operation: str, scope: str) -> Report:
    extension = report_format(path)
    try:
        file = open(path, "w", encoding="utf-8", newline="")  # noqa: SIM115
    except OSError as exc:
        raise ReportError(f"cannot write report {path}: {exc.strerror}") from None
    if extension == ".csv":
        return CsvReport(file)
    return JsonReport(file, operation, scope)
