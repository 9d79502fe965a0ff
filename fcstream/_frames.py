"""What the framer hands out: ``SSEMessage`` and ``Unterminated`` (and ``_runs.PayloadRun``).

msgspec Structs live outside the modules mypyc compiles (``_native.COMPILED``): mypyc stores a
class body's annotations as runtime classes, ``int | None`` as ``type``, and msgspec reads its
field types from them.
"""

from __future__ import annotations

import msgspec

__all__ = ["SSEMessage", "Unterminated"]


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
