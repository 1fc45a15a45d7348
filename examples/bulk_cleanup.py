"""Delete every number of a file from a CloudAgent campaign, at the vendor's limit.

    export OZONETEL_USERNAME=acme OZONETEL_API_KEY=...
    python examples/bulk_cleanup.py numbers.txt --campaign spring

One number per line (blank lines skipped). Progress goes to stderr, the numbers that failed
and a summary to stdout. Exit status: 0 when nothing failed, 1 when some numbers failed, 2
when the run stopped early (refused credentials, an unknown campaign, Redis unreachable).
Environment: ``OZONETEL_USERNAME``, ``OZONETEL_API_KEY``, ``OZONETEL_AUTH`` (``api_key`` or
``token``), ``OZONETEL_REGION`` or ``OZONETEL_BASE_URL``; ``OZONETEL_CAMPAIGN`` for
``--campaign``. For a resumable run with a journal and a report, use the ``ozoasync``
command line instead.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Iterator
from contextlib import aclosing

from ozoasync import CloudAgentClient, Outcome, OzoError, Progress, RateLimit


def numbers_from(path: str) -> Iterator[str]:
    """The file's numbers, read lazily: a file of millions takes no memory."""
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            if number := line.strip():
                yield number


class ProgressLine:
    """Progress on stderr: rewritten in place on a terminal, a line every few seconds
    otherwise (a log file)."""

    def __init__(self, every: float = 5.0) -> None:
        self.tty = sys.stderr.isatty()
        self.every = every
        self.shown = 0.0

    def __call__(self, progress: Progress) -> None:
        now = time.monotonic()
        if self.tty or now - self.shown >= self.every:
            self.shown = now
            self.show(progress)

    def show(self, progress: Progress) -> None:
        text = (
            f"{progress.done:,} done: {progress.deleted:,} deleted, "
            f"{progress.not_found:,} already gone, {progress.failed:,} failed, "
            f"{progress.rate:.1f}/s"
        )
        print(f"\r{text}" if self.tty else text, end="" if self.tty else "\n", file=sys.stderr)


def rate_limit(text: str) -> RateLimit:
    count, _, seconds = text.partition("/")
    return RateLimit(int(count), float(seconds))


async def cleanup(args: argparse.Namespace) -> int:
    env = os.environ
    progress = ProgressLine()
    last = Progress()

    def on_progress(counts: Progress) -> None:
        nonlocal last
        last = counts
        progress(counts)

    async with CloudAgentClient(
        env["OZONETEL_USERNAME"],
        env["OZONETEL_API_KEY"],
        auth="token" if env.get("OZONETEL_AUTH") == "token" else "api_key",
        region="international" if env.get("OZONETEL_REGION") == "international" else "domestic",
        base_url=env.get("OZONETEL_BASE_URL"),
        rate_limits={"deleteCampaignData": rate_limit(args.rate_limit)},
    ) as ca:
        results = ca.campaign_data.delete_many(
            args.campaign,
            numbers_from(args.numbers),
            concurrency=args.concurrency,
            on_progress=on_progress,
        )
        stopped: OzoError | None = None
        try:
            async with aclosing(results):
                async for result in results:
                    if result.outcome is Outcome.FAILED:
                        print(f"failed: {result.phone_number}: {result.error}")
        except OzoError as error:  # one that every later request would hit too
            stopped = error
    progress.show(last)
    if progress.tty:
        print(file=sys.stderr)
    print(
        f"{last.done:,} numbers: {last.deleted:,} deleted, {last.not_found:,} already gone, "
        f"{last.failed:,} failed"
    )
    if stopped is not None:
        print(f"stopped early: {stopped}")
        return 2
    return 1 if last.failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("numbers", help="file of phone numbers, one per line")
    parser.add_argument("--campaign", default=os.environ.get("OZONETEL_CAMPAIGN"))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--rate-limit", default="100/60", help="N/SECONDS (default: the vendor's 100/60)"
    )
    args = parser.parse_args()
    if not args.campaign:
        parser.error("--campaign (or OZONETEL_CAMPAIGN) is required")
    for name in ("OZONETEL_USERNAME", "OZONETEL_API_KEY"):
        if not os.environ.get(name):
            parser.error(f"set {name} in the environment")
    return asyncio.run(cleanup(args))


if __name__ == "__main__":
    sys.exit(main())
