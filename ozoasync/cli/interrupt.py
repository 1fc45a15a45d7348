"""Stopping on a signal: SIGINT (Ctrl-C), SIGTERM (systemd, Kubernetes, ``timeout``) and
SIGHUP (a closed terminal) are handled alike.

While a bulk run is going, the first signal stops reading the input: requests in flight may
finish for up to :data:`GRACE_SECONDS`, then they are cancelled (a second signal cancels them
at once). The run then ends normally: work stopped, report written whole, summary and a
one-line message printed, exit code ``128 + signal number`` (130 SIGINT, 143 SIGTERM,
129 SIGHUP). Outside a bulk run a signal cancels the command at once, with the same code.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from typing import TypeVar

GRACE_SECONDS = 10.0
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

T = TypeVar("T")


def exit_code(signum: signal.Signals) -> int:
    """The shell's convention: 128 + the signal's number."""
    return 128 + int(signum)


class Stopped(Exception):
    """A signal stopped a command that had nothing to finish gracefully."""

    def __init__(self, signum: signal.Signals) -> None:
        self.signum = signum
        super().__init__(f"stopped by {signum.name}")


class Interruption:
    """The signals received while a command runs. A bulk run asks :attr:`requested` before
    each input item, and runs its sending through :meth:`graceful`."""

    def __init__(self, grace: float = GRACE_SECONDS) -> None:
        self.grace = grace
        self.signum: signal.Signals | None = None
        self._received = asyncio.Event()
        self._main: asyncio.Task[object] | None = None
        self._graceful = False
        self._hurry = asyncio.Event()

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def receive(self, signum: signal.Signals) -> None:
        if self.signum is not None:
            self._hurry.set()  # a second signal: no more grace
            return
        self.signum = signum
        self._received.set()
        if not self._graceful and self._main is not None:
            self._main.cancel()

    async def graceful(self, work: Awaitable[T], *, grace: float | None = None) -> T | None:
        """Await ``work``; after a signal, give it the grace period (``grace``, default the
        interruption's) to finish (it stops taking input by itself), then cancel it.
        Returns None when it was cancelled."""
        task = asyncio.ensure_future(work)
        self._graceful = True
        try:
            received = asyncio.create_task(self._received.wait())
            await asyncio.wait({task, received}, return_when=asyncio.FIRST_COMPLETED)
            received.cancel()
            if not task.done():
                hurry = asyncio.create_task(self._hurry.wait())
                await asyncio.wait({task, hurry}, timeout=self.grace if grace is None else grace)
                hurry.cancel()
            if not task.done():
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                return None
            return task.result()
        finally:
            self._graceful = False

    async def wait(self) -> None:
        """Until a signal arrives (for commands that serve until stopped)."""
        self._graceful = True
        try:
            await self._received.wait()
        finally:
            self._graceful = False

    async def run(self, main: Callable[[], Awaitable[T]]) -> T:
        """Run ``main`` with the signal handlers installed; raise :class:`Stopped` if a
        signal cancelled it."""
        loop = asyncio.get_running_loop()
        self._main = asyncio.current_task()
        for signum in SIGNALS:
            loop.add_signal_handler(signum, self.receive, signum)
        try:
            return await main()
        except asyncio.CancelledError:
            if self.signum is None:
                raise
            raise Stopped(self.signum) from None
        finally:
            for signum in SIGNALS:
                loop.remove_signal_handler(signum)
