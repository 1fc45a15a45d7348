"""Reading an answer's body with a cap on its decompressed size.

aiohttp's automatic decompression is turned off for every request (whatever the session
says) and the body is decompressed here, chunk by chunk, with zlib's ``max_length``: a small
gzip or deflate body that expands to gigabytes stops at the cap, with memory bounded by the
cap plus one network chunk.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import aiohttp

DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024
"""The default cap on a body's decompressed size: 1 MiB (the vendors' answers are a few KiB)."""

ACCEPT_ENCODING = "gzip, deflate"
"""The encodings :func:`read_capped` decodes, sent as ``Accept-Encoding``."""


@dataclass(frozen=True, slots=True)
class Body:
    """A body read up to the cap: ``data`` is whole unless ``problem`` says why it is not
    (too large, an unknown or corrupt encoding); then ``data`` is what could be read."""

    data: bytes
    problem: str | None = None


def _decompressor(encoding: str, first: bytes) -> zlib._Decompress:
    if encoding == "gzip":
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
    wrapped = len(first) > 0 and first[0] & 0x0F == 8
    return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> Body:
    """The body of ``response``, decompressed, at most ``limit`` bytes."""
    encoding = response.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "", "gzip", "deflate"):
        return Body(b"", f"unsupported Content-Encoding {encoding[:40]!r}")
    parts: list[bytes] = []
    size = 0
    decompressor: zlib._Decompress | None = None
    async for chunk in response.content.iter_any():
        if encoding in ("gzip", "deflate"):
            if decompressor is None:
                decompressor = _decompressor(encoding, chunk)
            pending = chunk
            while pending:
                try:
                    # One byte past the cap tells "exactly the cap" from "over it".
                    out = decompressor.decompress(pending, limit - size + 1)
                except zlib.error:
                    return Body(b"".join(parts), f"corrupt {encoding} body")
                pending = decompressor.unconsumed_tail
                size += len(out)
                parts.append(out)
                if size > limit:
                    break
        else:
            size += len(chunk)
            parts.append(chunk)
        if size > limit:
            data = b"".join(parts)[:limit]
            return Body(data, f"body larger than max_response_bytes ({limit} bytes)")
    return Body(b"".join(parts))
