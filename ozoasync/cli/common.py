"""What every command shares: its context, and the run of a bulk command (dry or real)."""

from __future__ import annotations

import argparse
import math
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

from rich.console import Console

from .. import CloudAgentClient, ISalesClient, RateLimit
from ..errors import OzoError, ServerUnreachableError
from ..jobs import Account, Operation
from ..results import BlockNumberChunk, CallerNumberChunk, NumberResult
from . import inputs
from .bulk import BulkRun, Job, Outputs, Sender, Sink, run_bulk, sendable
from .clients import Tuning
from .interrupt import Interruption, exit_code
from .stored import run_stored
from .summary import print_dry_run, print_run
from .tally import EXIT_FAILED, EXIT_OK, Item, bulk_exit_code, one_line


class UsageError(Exception):
    """The arguments cannot work together (exit 2)."""


@dataclass(frozen=True, slots=True)
class Context:
    """The command's world: environment, streams and consoles."""

    env: Mapping[str, str]
    stdin: TextIO
    out: Console  # summaries and results
    err: Console  # progress bar, logs and error lines
    interruption: Interruption = field(default_factory=Interruption)


def tuning(args: argparse.Namespace, endpoint: str | None = None) -> Tuning:
    """Transport options; ``--rate-limit`` applies to the command's ``endpoint``."""
    limit: RateLimit | None = getattr(args, "rate_limit", None)
    return Tuning(
        rate_limits={endpoint: limit} if endpoint is not None and limit is not None else None,
        max_attempts=args.max_attempts,
        timeout=args.timeout,
    )


def source_of(args: argparse.Namespace, ctx: Context) -> inputs.Reader:
    source = inputs.Source(args.input, args.column)
    if source.path == inputs.STDIN and ctx.stdin.isatty():
        raise UsageError("give a FILE of numbers, or pipe them on stdin")
    return inputs.Reader(source, ctx.stdin.buffer)


def explained(error: OzoError, args: argparse.Namespace) -> str:
    """The error's line, with what to check when the server cannot be reached at all: the
    variables that say where it is (set per command group by the parser)."""
    text = str(error)
    variables: str | None = getattr(args, "server_variables", None)
    if isinstance(error, ServerUnreachableError) and variables is not None:
        text += f" (check {variables}, and the network)"
    return text


def print_error(console: Console, message: str) -> None:
    console.print(f"ozoasync: {one_line(message)}", markup=False, highlight=False, soft_wrap=True)


@dataclass(frozen=True, slots=True)
class BulkCommand:
    """A bulk command: its job, how many numbers go in one request, and the rate limit
    that applies (for the dry run's estimate)."""

    job: Job
    per_request: int
    limit: RateLimit | None
    operation: Operation


def dry(ctx: Context, args: argparse.Namespace, command: BulkCommand) -> int:
    """--dry-run: the real run's input pipeline, counted; nothing written, nothing sent
    (a job store is not read: the counts are the input's). Exit 1 if any line is invalid
    (a real run would fail it)."""
    job = command.job
    run = BulkRun(job)
    for _ in sendable(source_of(args, ctx), job, run, record(run), ctx.interruption):
        pass
    if run.lines_read == 0:
        raise inputs.InputError("the input holds no numbers")
    requests = math.ceil(run.to_send / command.per_request)
    print_dry_run(ctx.out, run, requests, command.limit)
    return EXIT_FAILED if run.tally.failed else EXIT_OK


def record(run: BulkRun) -> Sink:
    def sink(items: Sequence[Item]) -> None:
        for item in items:
            run.tally.add(item)

    return sink


def finish(ctx: Context, args: argparse.Namespace, run: BulkRun) -> int:
    """Print the summary (and the error that stopped the run) and return the exit code.
    With ``--output jsonl`` stdout holds only the JSON lines: the summary goes to stderr."""
    report: str | None = args.report
    print_run(ctx.err if args.output == "jsonl" else ctx.out, run, report)
    if run.error is not None:
        print_error(ctx.err, explained(run.error, args))
    if run.stopped_by is not None:
        written = f"; report written to {report}" if report else ""
        print_error(
            ctx.err,
            f"stopped by {run.stopped_by.name}: {run.tally.processed:,} processed{written}; "
            "with --journal, a re-run resumes",
        )
        return exit_code(run.stopped_by)
    return bulk_exit_code(run.tally.failed, run.error)


async def bulk(
    ctx: Context,
    args: argparse.Namespace,
    command: BulkCommand,
    send: Sender,
    client: CloudAgentClient | ISalesClient,
    account: Account,
) -> int:
    """The run: through the job store with ``--journal``, else straight through ``send``."""
    source = source_of(args, ctx)
    stream = ctx.out.file if args.output == "jsonl" else None
    outputs = Outputs(journal=args.journal, report=args.report, stream=stream)
    if args.journal is None:
        run = await run_bulk(command.job, send, source, outputs, ctx.err, ctx.interruption)
    else:
        run = await run_stored(
            command.job,
            command.operation,
            account,
            client,
            source,
            outputs,
            ctx.err,
            ctx.interruption,
            name=args.job,
            concurrency=getattr(args, "concurrency", 1),
            lease=args.lease,
        )
    return finish(ctx, args, run)


Chunk = BlockNumberChunk | CallerNumberChunk
ChunkStream = Callable[[Iterator[str]], AsyncIterator[Chunk]]


def number_item(result: NumberResult) -> Item:
    """One number of a chunk, as the SDK decided it."""
    message = result.message or (str(result.error) if result.error is not None else "")
    return Item(result.number, result.outcome, one_line(message))


def chunked(stream: ChunkStream) -> Sender:
    """A sender for the chunked operations: the SDK's chunk stream (``delete_chunks``,
    ``add_chunks``) over the numbers, each chunk recorded as it finishes. An error that
    dooms later chunks comes after the chunk it failed."""

    async def send(numbers: Iterator[str], sink: Sink) -> None:
        async for chunk in stream(numbers):
            sink([number_item(result) for result in chunk.items])

    return send
