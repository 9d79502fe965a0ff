"""What a ``PayloadRun`` tells about its events: each one's message, start offset, and the run
from an event on.

Functions, not methods of the run: a msgspec Struct's methods run as Python, and the
accumulators ask for a message at every event their hot loops hand to the full path (a
stream's opening, closing and call events). mypyc compiles this module, so those steps cost
a C call instead of a Python frame.
"""

from __future__ import annotations

from typing import Final

from ._frames import PayloadRun, SSEMessage

__all__ = ["message_at", "messages_of", "offset_at", "rest_from"]

_SSE_MESSAGE: Final = SSEMessage  # Final: mypyc reads it from a C static, not the module dict
_PAYLOAD_RUN: Final = PayloadRun

def offset_at(run: PayloadRun, k: int) -> int:
    """Where block ``k`` starts. Worked out only when asked: the hot paths need a block's
    offset only to report it or to hand it over on their slow path. The blocks between the
    last one asked (the run remembers it) and ``k`` are summed, or those after ``k`` when the
    run's end is nearer (the finish, ``[DONE]``), so offsets asked in order cost one pass
    over the run in all."""
    if not k:
        return run.offset
    payloads = run.payloads
    heads = run.heads
    around = run.around
    at = run.known
    start = run.known_at
    if k < at:  # asked out of order: counted from the run's start
        at = start = 0
    if run.size >= 0 and len(payloads) - k < k - at:  # the end is nearer: count back
        tail = 0
        for j in range(k, len(payloads)):
            tail += len(payloads[j]) + around + (heads[j] if heads is not None else 0)
        return run.offset + run.size - tail
    for j in range(at, k):
        start += len(payloads[j]) + around + (heads[j] if heads is not None else 0)
    run.known = k
    run.known_at = start
    return run.offset + start


def message_at(run: PayloadRun, k: int, offset: int = -1) -> SSEMessage:
    """Event ``k`` as a message (``offset``: its start, when the caller knows it)."""
    names = run.names
    ids = run.ids
    return _SSE_MESSAGE(
        names[k] if names is not None else "message",
        run.payloads[k],
        ids[k] if ids is not None else run.event_id,
        run.retry,
        offset if offset >= 0 else offset_at(run, k),
        run.index + k,
    )


def messages_of(run: PayloadRun) -> list[SSEMessage]:
    return [message_at(run, k) for k in range(len(run.payloads))]


def rest_from(run: PayloadRun, k: int) -> PayloadRun:
    """The events from ``k`` on, as a run of their own."""
    offset = offset_at(run, k)
    names = run.names
    heads = run.heads
    ids = run.ids
    event_id = ids[k - 1] if ids is not None and k else run.event_id
    size = run.size - (offset - run.offset) if run.size >= 0 else -1
    return _PAYLOAD_RUN(
        run.payloads[k:], run.index + k, offset, event_id, run.retry,
        names[k:] if names is not None else None, run.around,
        heads[k:] if heads is not None else None, ids[k:] if ids is not None else None, size,
    )
