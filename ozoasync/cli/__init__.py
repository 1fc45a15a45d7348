"""The ``ozoasync`` command line (console script and ``python -m ozoasync``).

Every failure is reported as one line on stderr, never a traceback (``-vv`` shows the
traceback of an internal error). Exit codes: 0 nothing failed, 1 some items failed (or the
service failed a single operation), 2 usage or configuration error (including credentials
the server refuses, a bulk target it does not know, a server that cannot be reached),
128 + the signal's number when a signal stopped it (130 SIGINT, 143 SIGTERM, 129 SIGHUP;
see :mod:`.interrupt`).
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import NoReturn, TextIO

from rich.console import Console
from rich.logging import RichHandler

from ..errors import OzoError
from .common import Context, UsageError, explained, print_error
from .config import ConfigError
from .inputs import InputError
from .interrupt import Interruption, Stopped, exit_code
from .parser import build_parser
from .report import ReportError
from .tally import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, error_exit_code

# Problems the user fixes in the arguments, the environment or the files named.
USAGE_ERRORS = (UsageError, ConfigError, InputError, ReportError)


class UtcFormatter(logging.Formatter):
    """Timestamps in ISO 8601, UTC, to the millisecond: ``2026-12-01T21:57:42.123Z``."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def configure_logging(verbosity: int, console: Console) -> None:
    """Log lines on stderr, each with an ISO 8601 UTC timestamp: through rich on a terminal
    (so they stay above the progress bar), plain lines otherwise (never wrapped)."""
    if verbosity <= 0:
        return
    logger = logging.getLogger("ozoasync")
    logger.setLevel(logging.DEBUG if verbosity >= 2 else logging.INFO)
    handler: logging.Handler
    if console.is_terminal:
        handler = RichHandler(console=console, show_path=False, show_time=False, markup=False)
        handler.setFormatter(UtcFormatter("%(asctime)s %(message)s"))
    else:
        handler = logging.StreamHandler(console.file)
        handler.setFormatter(UtcFormatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)


def console(file: TextIO, quiet: bool) -> Console:
    """A console on ``file``; when it is not a terminal, no line is wrapped (a log file or a
    pipe gets whole lines, whatever their length)."""
    return Console(file=file, quiet=quiet, highlight=False, soft_wrap=not file.isatty())


def run(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, --version and usage errors
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    quiet = getattr(args, "quiet", False)
    interruption = Interruption()
    ctx = Context(
        env=os.environ,
        stdin=sys.stdin,
        out=console(sys.stdout, quiet),
        err=console(sys.stderr, quiet),
        interruption=interruption,
    )
    errors = console(sys.stderr, quiet=False)  # error lines show even with --quiet
    verbosity = getattr(args, "verbose", 0)
    configure_logging(verbosity, ctx.err)
    try:
        code: int = asyncio.run(interruption.run(lambda: args.handler(args, ctx)))
    except Stopped as stopped:
        print_error(errors, f"{stopped} (what finished is in the job store, if you gave --journal)")
        return exit_code(stopped.signum)
    except KeyboardInterrupt:  # before the signal handlers were installed
        print_error(errors, "interrupted (what finished is in the job store, with --journal)")
        return EXIT_INTERRUPTED
    except USAGE_ERRORS as error:
        print_error(errors, str(error))
        return EXIT_USAGE
    except OzoError as error:
        print_error(errors, explained(error, args))
        return error_exit_code(error)
    except Exception as error:
        if verbosity >= 2:
            raise
        print_error(errors, f"internal error: {type(error).__name__}: {error} (-vv for details)")
        return EXIT_FAILED
    return code


def main() -> NoReturn:
    """The console script."""
    sys.exit(run())
