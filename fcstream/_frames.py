"""What the framer hands out: ``SSEMessage``, ``Unterminated`` and ``PayloadRun``.

msgspec Structs live outside the modules mypyc compiles (``_native.COMPILED``): mypyc stores a
class body's annotations as runtime classes, ``int | None`` as ``type``, and msgspec reads its
field types from them.
"""

from __future__ import annotations

import msgspec

__all__ = ["PayloadRun", "SSEMessage", "Unterminated"]


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
    run has index ``index + k`` and starts at byte ``_runs.offset_at(run, k)``; ``_runs`` has
    the functions that read a run. A Struct: one is made per network read, and a class's
    Python ``__init__`` costs three times as much.
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
    known: int = 0
    """A block whose start is known (``_runs.offset_at`` moves it on as it is asked)..."""
    known_at: int = 0
    """...and that start, in bytes from the run's start."""
