"""Decoding: msgspec decoders (what ozoasync runs) against json.loads plus hand-written dict
handling (what a hand-written client runs), on the vendors' documented bodies.

    python benchmarks/decoding.py [--seconds 0.5]

Both sides turn the bytes into the same checked values (a wrong type raises on both), so the
ratio is the cost of decoding and checking, not of skipping checks.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from typing import Any

import msgspec

from ozoasync.cloudagent import wire

# The vendors' documented bodies (deleteCampaignData and deleteBlockNumberGroup pages; the
# block-number page prints each array of its sample twice, kept here once).
DELETED = b'{"status": "Success","message": "Deleted Successfully"}'
NO_RECORD = b'{"status": "Error","message": "No Record Found"}'
BAD_KEY = b'{"status": "false","message": "Invalid User Details","data": null}'
BLOCK_SAMPLE = (
    b'{"status": "success","message": "deleted","input": {"id": 1,"blockNumbers": '
    b'["91XX88XXX8","9197XXX0XX94","9197XXX0XX93","9197XXX0XX94","9197XXX0XX95"]},'
    b'"output": {"success": ["+9191XX88XXX8","+9197XXX0XX94","+9197XXX0XX93",'
    b'"+9197XXX0XX94","+9197XXX0XX95"],"error": [],"deleted": 4}}'
)
# A full chunk: the same answer for 100 numbers.
_chunk = [str(9_000_000_000 + i) for i in range(100)]
BLOCK_CHUNK = json.dumps(
    {
        "status": "success",
        "message": "deleted",
        "input": {"id": 1, "blockNumbers": _chunk},
        "output": {"success": ["+91" + n for n in _chunk], "error": [], "deleted": 100},
    }
).encode()


def _text_or_none(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError("expected a string")
    return value


def hand_status_message(body: bytes) -> tuple[str | None, Any]:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("expected an object")
    message = data.get("message")
    if message is not None and not isinstance(message, str | dict | list):
        raise ValueError("bad message")
    return _text_or_none(data.get("status")), message


def hand_block(body: bytes) -> tuple[str | None, Any, list[str], list[Any], int]:
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("expected an object")
    status, message = _text_or_none(data.get("status")), data.get("message")
    output = data.get("output")
    if not isinstance(output, dict):
        raise ValueError("expected an output object")
    success, error, deleted = (
        output.get("success", []),
        output.get("error", []),
        output.get("deleted", 0),
    )
    if not isinstance(success, list) or not all(isinstance(n, str) for n in success):
        raise ValueError("bad success list")
    if not isinstance(error, list):
        raise ValueError("bad error list")
    if isinstance(deleted, bool) or not isinstance(deleted, int):
        raise ValueError("bad deleted count")
    return status, message, success, error, deleted


# The call ozoasync.cloudagent.wire makes for every answer.
def msgspec_status_message(body: bytes) -> wire.StatusMessage:
    return msgspec.json.decode(body, type=wire.StatusMessage)


def msgspec_block(body: bytes) -> wire.BlockAnswer:
    return msgspec.json.decode(body, type=wire.BlockAnswer)


def per_call(function: Callable[[bytes], object], body: bytes, seconds: float) -> float:
    """Nanoseconds per call, the best of 5 runs of about ``seconds`` each."""
    calls = 1
    while True:  # find a number of calls that takes about ``seconds``
        started = time.perf_counter()
        for _ in range(calls):
            function(body)
        elapsed = time.perf_counter() - started
        if elapsed >= seconds / 10:
            break
        calls *= 4
    calls = max(1, int(calls * seconds / elapsed))
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(calls):
            function(body)
        best = min(best, time.perf_counter() - started)
    return best / calls * 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.5)
    args = parser.parse_args()
    cases = [
        ("deleteCampaignData success", DELETED, hand_status_message, msgspec_status_message),
        ("deleteCampaignData no record", NO_RECORD, hand_status_message, msgspec_status_message),
        ("invalid user details", BAD_KEY, hand_status_message, msgspec_status_message),
        ("block numbers, page sample", BLOCK_SAMPLE, hand_block, msgspec_block),
        ("block numbers, 100-number chunk", BLOCK_CHUNK, hand_block, msgspec_block),
    ]
    print(f"{'body':<34}{'bytes':>6}{'json+dict ns':>14}{'msgspec ns':>12}{'speed-up':>10}")
    for name, body, hand, typed in cases:
        assert msgspec.structs.asdict(typed(body))["status"] == hand(body)[0]
        hand_ns = per_call(hand, body, args.seconds)
        typed_ns = per_call(typed, body, args.seconds)
        print(
            f"{name:<34}{len(body):>6}{hand_ns:>14,.0f}{typed_ns:>12,.0f}"
            f"{hand_ns / typed_ns:>9.1f}x"
        )


if __name__ == "__main__":
    main()
