"""``OZOASYNC_LOG=debug|info``: a stderr handler on the ``ozoasync`` logger, turned on at
import, as ``OPENAI_LOG`` does for openai-python. For a quick look at what the client does
without touching the application's logging configuration.

The records themselves never hold a key, token, secret or signature (the transport leaves
them out); this handler adds only a UTC timestamp, the level and the logger's name.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime

ENVIRONMENT_VARIABLE = "OZOASYNC_LOG"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}


class UTCFormatter(logging.Formatter):
    """``2026-12-01T21:38:45.123Z DEBUG ozoasync: ...``: ISO-8601 timestamps in UTC."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def configure_from_environment(environ: Mapping[str, str] = os.environ) -> logging.Handler | None:
    """Add the stderr handler if ``OZOASYNC_LOG`` asks for it; the handler added, if any."""
    wanted = environ.get(ENVIRONMENT_VARIABLE, "").strip().lower()
    if not wanted:
        return None
    level = LEVELS.get(wanted)
    if level is None:
        warnings.warn(
            f"{ENVIRONMENT_VARIABLE}={wanted!r} is ignored: use one of {', '.join(LEVELS)}",
            stacklevel=2,
        )
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(UTCFormatter())
    logger = logging.getLogger("ozoasync")
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
