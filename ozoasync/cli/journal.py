"""The resumable journal: an append-only JSON Lines file of finished numbers.

Each line records one number that is done for good (deleted, already gone, added) for one
operation and target (``op`` and ``scope``); a re-run with the same journal skips those
numbers. A line is written and flushed as soon as its number finishes, so a process killed
with SIGKILL loses at most the numbers in flight, which a re-run sends again (deletes are
safe to repeat). The file is also fsynced about once a second, bounding what a power loss
can take. A kill can tear the last line: on reload an unterminated last line is dropped
(and cut off the file before appending). Any other line that is not a record means the file
is not a journal, which stops the run rather than append to someone else's file.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import IO

import msgspec

from .tally import Item

try:  # a second run on the same journal would send everything twice
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

FSYNC_INTERVAL = 1.0


class JournalError(Exception):
    """The journal cannot be used (not a journal, unreadable, or in use)."""


class Record(msgspec.Struct, frozen=True, forbid_unknown_fields=False):
    """One journal line."""

    op: str
    scope: str
    number: str
    outcome: str
    at: str = ""


@dataclass(slots=True)
class Scan:
    """What a journal holds for one operation and scope: the finished numbers, and how many
    leading bytes are whole lines (the rest is a torn last line)."""

    finished: set[str] = field(default_factory=set)
    intact_bytes: int = 0
    records: int = 0


def scan(lines: Iterable[bytes], op: str, scope: str, name: str = "journal") -> Scan:
    """Read journal lines (each with its ``\\n``, the last one possibly without)."""
    result = Scan()
    decoder = msgspec.json.Decoder(Record)
    for number, line in enumerate(lines, start=1):
        if not line.endswith(b"\n"):
            break  # torn by a kill mid-write: that number is simply sent again
        result.intact_bytes += len(line)
        if not line.strip():
            continue
        try:
            record = decoder.decode(line)
        except msgspec.DecodeError:
            raise JournalError(f"{name}: line {number} is not an ozoasync journal record") from None
        result.records += 1
        if record.op == op and record.scope == scope:
            result.finished.add(record.number)
    return result


def load(path: str, op: str, scope: str) -> Scan:
    """The journal at ``path`` (an absent file is an empty journal)."""
    try:
        with open(path, "rb") as file:
            return scan(file, op, scope, path)
    except FileNotFoundError:
        return Scan()
    except OSError as exc:
        raise JournalError(f"cannot read journal {path}: {exc.strerror}") from None


def encode(item: Item, op: str, scope: str, at: datetime) -> bytes:
    record = Record(
        op=op,
        scope=scope,
        number=item.number,
        outcome=item.fate.value,
        at=at.isoformat(timespec="milliseconds"),
    )
    return msgspec.json.encode(record) + b"\n"


class Journal:
    """The journal of one run: load it with :meth:`open`, then :meth:`append` finished items.

    The file is locked while the run holds it, so two runs cannot share a journal (both
    would send what neither has finished)."""

    def __init__(self, path: str, op: str, scope: str, scan_result: Scan, file: IO[bytes]):
        self.path = path
        self.op = op
        self.scope = scope
        self.finished = scan_result.finished
        self._file = file
        self._synced = time.monotonic()

    @classmethod
    def open(cls, path: str, op: str, scope: str) -> Journal:
        try:
            file = open(path, "ab")  # noqa: SIM115 - closed by close()
        except OSError as exc:
            raise JournalError(f"cannot open journal {path}: {exc.strerror}") from None
        try:
            _lock(file, path)
            scanned = load(path, op, scope)
            if file.tell() > scanned.intact_bytes:
                file.truncate(scanned.intact_bytes)
                file.seek(scanned.intact_bytes)
        except BaseException:
            file.close()
            raise
        return cls(path, op, scope, scanned, file)

    def append(self, items: Iterable[Item]) -> None:
        """Record the finished ones among ``items`` (flushed to the OS at once)."""
        now = datetime.now(UTC)
        lines = [encode(item, self.op, self.scope, now) for item in items if item.finished]
        if not lines:
            return
        self._file.write(b"".join(lines))
        self._file.flush()
        if time.monotonic() - self._synced >= FSYNC_INTERVAL:
            os.fsync(self._file.fileno())
            self._synced = time.monotonic()

    def close(self) -> None:
        if self._file.closed:
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _lock(file: IO[bytes], path: str) -> None:
    if fcntl is None:  # pragma: no cover
        return
    try:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise JournalError(f"journal {path} is in use by another ozoasync run") from None
