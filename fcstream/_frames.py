"""What the framer hands out: ``SSEMessage``, ``Unterminated`` and ``PayloadRun``.

msgspec Structs live outside the modules mypyc compiles (``_native.COMPILED``): mypyc stores a
class body's annotations as runtime classes, ``int | None`` as ``type``, and msgspec reads its
field types from them.
"""

from __future__ import annotations

from itertools import accumulate
from operator import add
from typing import Final

import msgspec

__all__ = ["PayloadRun", "SSEMessage", "Unterminated"]

_NEAR: Final = 4
"""``PayloadRun.offset_of`` counts this many first (last) blocks from the run's start (end)
before it sums every block once."""


class SSEMessage(msgspec.Struct, frozen=True, gc=False):
    """One dispatched event.

    ``data`` is the joined data buffer as bytes (``SSEFramer.feed_items``, the parser's way
    in, may lend its own ``bytearray`` for an event over 64 KB); ``id`` the last-event-ID
    buffer at dispatch (``""`` if never set); ``retry`` the latest valid reconnection time so
    far (``None`` if none); ``offset`` the stream byte offset where the event's block starts
    (comment lines before its first field are not part of it); ``index`` the 0-based ordinal
    among dispatched events.
    """

    event: str
    data: bytes | bytearray
    id: str
    retry: int | None
    offset: int
    index: int


class Unterminated(msgspec.Struct, frozen=True, gc=False):
    """What was left when input ended: the open block's bytes and whether it held an event.

    ``truncated`` is true when the leftover would have become (part of) an event: data lines
    without their closing blank line, or an unterminated field line. A trailing comment or blank
    space is not a truncation.
    """

    data: bytes
    offset: int
    truncated: bool


class PayloadRun(msgspec.Struct, gc=False):
    """Consecutive events of one ``data:`` line each, next to one ``event:`` line each when
    ``names`` is set, or one ``id:`` line each when ``ids`` is; kept as a list of payloads.

    The framer's fast path makes these for the parser, which hands the whole list to the
    accumulator in one call: no per-event message object on the hot path. Event ``k`` of the
    run has index ``index + k`` and starts at byte ``offset_of(k)``. A Struct: one is made per
    network read, and a class's Python ``__init__`` costs three times as much.
    """

    payloads: list[bytes]
    index: int
    offset: int
    event_id: str
    retry: int | None
    names: list[str] | None = None
    """Each event's type when the blocks carried ``event:`` lines; ``None``: all
    ``message``."""
    around: int = 8
    """Bytes of each block besides its payload and field line: ``data: `` and the line ends."""
    heads: list[int] | None = None
    """Bytes of each block's ``event:`` or ``id:`` line (line end excluded)."""
    ids: list[str] | None = None
    """Each event's last-event-ID when the blocks carried ``id:`` lines."""
    size: int = -1
    """The run's bytes, when known: offsets near its end are then counted back from it."""
    _ends: list[int] | None = None  # where each block ends, from the run's start: made once

    def offset_of(self, k: int) -> int:
        """Where block ``k`` starts. Worked out only when asked (the hot paths need a block's
        offset only to report it or to hand it over on their slow path). One of the last few
        blocks (the finish, ``[DONE]``), or of the first few of a plain run (a call starts),
        is counted from the nearer end of the run; for any other, the blocks' ends are summed
        in one C-level pass, and every offset is then one lookup."""
        if not k:
            return self.offset
        ends = self._ends
        if ends is None:
            if k <= _NEAR and self.heads is None:  # named runs (Responses) ask all through
                return self.offset + sum(map(len, self.payloads[:k])) + self.around * k
            back = len(self.payloads) - k
            if back <= _NEAR and self.size >= 0:
                tail = sum(map(len, self.payloads[k:])) + self.around * back
                if self.heads is not None:
                    tail += sum(self.heads[k:])
                return self.offset + self.size - tail
            sizes = map(len, self.payloads)
            if self.heads is not None:
                sizes = map(add, sizes, self.heads)
            ends = self._ends = list(accumulate(sizes))
        return self.offset + ends[k - 1] + self.around * k

    def message(self, k: int, offset: int | None = None) -> SSEMessage:
        """Event ``k`` as a message (``offset``: its start, when the caller knows it)."""
        name = self.names[k] if self.names is not None else "message"
        if offset is None:
            ends = self._ends  # once summed, an offset is one lookup: no call for it
            offset = (self.offset if not k else self.offset + ends[k - 1] + self.around * k
                      if ends is not None else self.offset_of(k))
        event_id = self.ids[k] if self.ids is not None else self.event_id
        return SSEMessage(name, self.payloads[k], event_id, self.retry, offset, self.index + k)

    def messages(self) -> list[SSEMessage]:
        return [self.message(k) for k in range(len(self.payloads))]

    def rest(self, k: int) -> PayloadRun:
        """The events from ``k`` on, as a run of their own."""
        offset = self.offset_of(k)
        names = self.names[k:] if self.names is not None else None
        heads = self.heads[k:] if self.heads is not None else None
        ids = self.ids[k:] if self.ids is not None else None
        event_id = self.ids[k - 1] if self.ids is not None and k else self.event_id
        size = self.size - (offset - self.offset) if self.size >= 0 else -1
        return PayloadRun(self.payloads[k:], self.index + k, offset, event_id, self.retry, names,
                          self.around, heads, ids, size)
