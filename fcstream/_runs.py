"""``PayloadRun``, the framer's run of plain events, and what it tells about them: each one's
message, start offset, and the run from an event on.

mypyc compiles this module: the run is a native class, whose fields compiled code reads
directly (a msgspec Struct's are looked up by name, ~15x the cost), and these functions cost
a C call where a Struct's methods ran as Python. The accumulators ask for a message at every
event their hot loops hand to the full path (a stream's opening, closing and call events).
"""

from __future__ import annotations

from typing import Final

from ._frames import SSEMessage

__all__ = ["PayloadRun", "message_at", "messages_of", "offset_at", "rest_from"]

_SSE_MESSAGE: Final = SSEMessage  # Final: mypyc reads it from a C static, not the module dict


class PayloadRun:
    """Consecutive events of one ``data:`` line each, next to one ``event:`` line each when
    ``names`` is set, or one ``id:`` line each when ``ids`` is; kept as a list of payloads.

    The framer's fast path makes these for the parser, which hands the whole list to the
    accumulator in one call: no per-event message object on the hot path. Event ``k`` of the
    run has index ``index + k`` and starts at byte ``offset_at(run, k)``.

    ``names``: each event's type when the blocks carried ``event:`` lines (``None``: all
    ``message``); ``around``: bytes of each block besides its payload and field line
    (``data: `` and the line ends); ``heads``: bytes of each block's ``event:`` or ``id:``
    line (line end excluded); ``ids``: each event's last-event-ID when the blocks carried
    ``id:`` lines; ``size``: the run's bytes, when known (offsets near its end are then
    counted back from it); ``known`` and ``known_at``: a block whose start ``offset_at``
    worked out last, and that start in bytes from the run's start.
    """

    __slots__ = ("around", "event_id", "heads", "ids", "index", "known", "known_at", "names",
                 "offset", "payloads", "retry", "size")

    def __init__(
        self,
        payloads: list[bytes],
        index: int,
        offset: int,
        event_id: str,
        retry: int | None,
        names: list[str] | None = None,
        around: int = 8,
        heads: list[int] | None = None,
        ids: list[str] | None = None,
        size: int = -1,
    ) -> None:  # positional: one is made per network read
        self.payloads = payloads
        self.index = index
        self.offset = offset
        self.event_id = event_id
        self.retry = retry
        self.names = names
        self.around = around
        self.heads = heads
        self.ids = ids
        self.size = size
        self.known = 0
        self.known_at = 0

    def __repr__(self) -> str:
        return (f"PayloadRun({len(self.payloads)} events from #{self.index}, "
                f"byte {self.offset})")


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


def message_at(run: PayloadRun, k: int) -> SSEMessage:
    """Event ``k`` as a message."""
    names = run.names
    ids = run.ids
    return _SSE_MESSAGE(
        names[k] if names is not None else "message",
        run.payloads[k],
        ids[k] if ids is not None else run.event_id,
        run.retry,
        offset_at(run, k),
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
    return PayloadRun(
        run.payloads[k:], run.index + k, offset, event_id, run.retry,
        names[k:] if names is not None else None, run.around,
        heads[k:] if heads is not None else None, ids[k:] if ids is not None else None, size,
    )
