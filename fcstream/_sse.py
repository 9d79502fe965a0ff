"""Server-sent events framing, incremental and sans-I/O: bytes in, messages out.

Follows the WHATWG HTML "event stream" interpretation rules: LF, CRLF and lone CR end lines (a
CRLF split across two chunks is one line end), one leading UTF-8 BOM is dropped, ``:`` starts a
comment, a field without a colon has an empty value, one space after the colon is dropped,
``data`` lines are joined with ``\\n``, an ``id`` containing NUL is ignored, ``retry`` is taken
only when it is all ASCII digits, the event type defaults to ``message`` and a block without data
is not dispatched. A block still open when input ends is not dispatched: ``finish()`` reports it
with its bytes.

Goal: cost linear in the bytes fed, whatever the chunking. The framer remembers how far it has
searched for a line end (``_scan``), so a 1 MB line fed one byte at a time is searched once, and
it compacts its buffer only when the consumed prefix is at least half of it, so the memmove cost
is amortised O(1) per byte. Payloads stay ``bytes``: msgspec decodes them without a str copy.

Fast path: runs of blocks of one ``data: X`` line, alone or next to one ``event: NAME`` or
``id: N`` line (before it or after it; ``data:`` with or without its space), with LF or CRLF
line ends, are cut out of a read with C-level splits and counts; every other shape (comments,
``retry:``, multi-line data, lone CRs...) goes through the line loop, which follows the rules
above to the letter. Both give the same messages for any chunking (property-tested).
"""

from __future__ import annotations

import re
from typing import Final, cast

import msgspec

from ._errors import StreamFormatError, excerpt
from ._frames import SSEMessage, Unterminated
from ._native import mypyc_attr
from ._runs import PayloadRun, messages_of

__all__ = ["DEFAULT_MAX_EVENT_BYTES", "PayloadRun", "SSEFramer", "SSEMessage", "Unterminated"]

# mypyc reads a Final module name from a C static, and any other global (an imported class
# included) from the module's dict on every use: the classes this module makes, bound once.
_SSE_MESSAGE: Final = SSEMessage
_UNTERMINATED: Final = Unterminated

DEFAULT_MAX_EVENT_BYTES: Final = 64 * 1024 * 1024
"""Cap on one event's bytes: far above any real tool call, low enough to stop a runaway line."""

_BOM: Final = b"\xef\xbb\xbf"
_EOL: Final = re.compile(rb"[\r\n]")
_CR: Final = 0x0D
_LF: Final = 0x0A
_COLON: Final = 0x3A
_NUL: Final = 0x00
"""Byte values: ``_LF in data`` is a plain byte search, where ``b"\n" in data`` first tries
``data`` as an int and raises and clears a ``TypeError`` inside CPython."""
_SPACE: Final = 0x20
_FAST_RETRIES: Final = 8
"""How many times one read goes back to the split after a block it could not take. Each retry
copies the rest of the read, so a bound keeps a read of many odd blocks linear; comments and
keep-alives between runs of plain events take a few."""
_REREAD_MAX: Final = 64 * 1024
"""Open blocks up to this size are read again with the read that completes them (one run per
read); a bigger one is completed in the buffer, so its megabytes are not copied twice."""
_PREFIX: Final = 6
"""``data: ``: a line may be this much longer than ``max_event_bytes`` (an event's data)."""
_JOIN_MAX: Final = 256 * 1024
"""Reads up to this size check their payloads for line ends on one joined copy."""
_NAMES: Final[dict[bytes, str]] = {}
"""``event: NAME`` lines seen by the fast path, decoded once (a stream has a handful)."""


def _at(data: bytes, at: int, prefix: bytes) -> bool:
    """``data.startswith(prefix, at)`` as a compiled loop over the prefix's few bytes: the
    method call parses its arguments and boxes ``at``, several times per network read."""
    if at < 0:
        at = max(at + len(data), 0)
    if at + len(prefix) > len(data):
        return False
    return all(data[at + k] == prefix[k] for k in range(len(prefix)))


def _data_prefix(data: bytes, at: int) -> bytes | None:
    """The ``data:`` prefix of the line at ``at``: with its space, without one, or ``None``."""
    if _at(data, at, b"data: "):
        return b"data: "
    return b"data:" if _at(data, at, b"data:") else None


def _spaced(payloads: list[bytes]) -> bool:
    """Whether a payload cut after ``data:`` starts with a space, which the line loop would
    drop: a run cut at ``data:`` must not hold one."""
    return any(payload.startswith(b" ") for payload in payloads)


def _field_prefix(heads: list[bytes], datas: list[bytes], field: bytes, prefix: bytes) -> int:
    """How many blocks from the start are ``field`` + value, then ``prefix`` + payload (an
    ``id`` with NUL is ignored by the rules: the line loop takes it)."""
    bare = len(prefix) == 5  # ``data:`` with no space: a line with one ends the run
    for k, (head, line) in enumerate(zip(heads, datas, strict=True)):
        if not (head.startswith(field) and line.startswith(prefix)) or (
                bare and line.startswith(b"data: ")) or (field == b"id: " and _NUL in head):
            return k
    return len(heads)


def _line_end_in(pieces: list[bytes], cr: bool, data: bytes, stop: int, lines: int) -> bool:
    """Whether a piece a split cut out of ``data[:stop]`` holds an LF (or a CR, when ``cr``):
    then its block had more lines than the split assumed. Checked on the pieces joined: a
    copy and a ``memchr`` cost a few times less than counting the read's line ends, which goes
    byte by byte. A big read is counted instead (it holds ``lines`` line ends when no piece
    holds one), so the check never copies more than ``_JOIN_MAX`` bytes."""
    if stop <= _JOIN_MAX:
        joined = b"".join(pieces)
        return _LF in joined or (cr and _CR in joined)
    return data.count(b"\n", 0, stop) != lines or (cr and data.count(b"\r", 0, stop) != lines)


def _one_event(data: bytes, index: int, offset: int, event_id: str, retry: int | None,
               cap: int, crlf: bool) -> PayloadRun | None:
    """``data`` as a run of one event when it is exactly one block of a ``data:`` line, or of
    an ``event: `` line and a ``data:`` line (what a live stream sends per read), with LF line
    ends (CRLF when ``crlf``: the stream uses them) and no other line end inside; else
    ``None``. The split paths give the same run, in more steps."""
    if not crlf:  # the usual shapes first, in as few steps as can be
        if data.startswith(b"data: "):
            end = data.find(b"\n")
            if end == len(data) - 2 and data[-1] == _LF and end - 6 <= cap and (
                    data.find(b"\r") < 0):
                return PayloadRun([data[6:end]], index, offset, event_id, retry)
            return None
        if data.startswith(b"event: "):
            second = data.find(b"\n") + 1
            end = data.find(b"\n", second)
            if end == len(data) - 2 and data[-1] == _LF and _at(
                    data, second, b"data: ") and end - second - 6 <= cap and (
                    second <= cap + _PREFIX and data.find(b"\r") < 0):
                return PayloadRun([data[second + 6 : end]], index, offset, event_id, retry,
                                  [_name_of(data[: second - 1])], 9, [second - 1])
            if data.startswith(b"data: ", second) or not data.startswith(b"data:", second):
                return None
    return _one_other_event(data, index, offset, event_id, retry, cap, crlf)


def _one_other_event(data: bytes, index: int, offset: int, event_id: str, retry: int | None,
                     cap: int, crlf: bool) -> PayloadRun | None:
    """``_one_event`` for CRLF line ends and for ``data:`` without its space (S01, S04)."""
    if not data.startswith((b"data:", b"event: ")):
        return None
    size = len(data)
    eol = 2 if crlf else 1
    lf = data.find(b"\n")
    end = size - 2 * eol  # where the payload ends
    if data[-1:] != b"\n" or (data.count(b"\r") != 2 + data.startswith(b"event: ")
                               or not data.endswith(b"\r\n\r\n") if crlf
                               else data.find(b"\r") >= 0):
        return None
    if data.startswith(b"data:"):
        if lf != end + eol - 1:
            return None
        skip = 6 if data[5] == _SPACE and end > 5 else 5
        if end - skip > cap:
            return None
        return PayloadRun([data[skip:end]], index, offset, event_id, retry, None,
                          skip + 2 * eol)
    if data.startswith(b"event: "):
        second = lf + 1  # where the data line starts
        if not data.startswith(b"data:", second) or data.find(b"\n", second) != end + eol - 1 or (
                crlf and data[lf - 1] != _CR):
            return None
        skip = 6 if data[second + 5] == _SPACE and end > second + 5 else 5
        if end - second - skip > cap or lf > cap + _PREFIX:
            return None
        head = data[: lf + 1 - eol]
        return PayloadRun([data[second + skip : end]], index, offset, event_id, retry,
                          [_name_of(head)], skip + 3 * eol, [len(head)])
    return None


def _only_comments(region: bytes) -> bool:
    """Whether ``region`` (whole blocks at a block boundary, LF line ends) holds only comment
    lines and blank lines: it then dispatches nothing and sets no field."""
    if region[0] != _COLON:
        return False  # a field first (a blank line first is rare: the line loop takes it)
    at = region.find(b"\n") + 1
    if at == len(region) - 1:
        return True  # one keep-alive comment: the usual case
    while at < len(region):  # line by line, up to the first field (never split whole)
        end = region.find(b"\n", at)
        if end < 0 or (region[at] != _COLON and end != at):  # a field line
            return False
        at = end + 1
    return True


def _plain_blocks(pieces: list[bytes], skip: int) -> int:
    """Cut ``pieces`` (an LF read split at ``\n\ndata:``) before the first piece that holds
    an LF: its block has more than a data line, or other blocks (a comment, an ``id:`` line)
    follow it before the next data line. That piece's own payload stays when its LF starts a
    blank line (its block is plain). Returns the bytes of the blocks kept: the first one is
    always plain (the caller checked), so never 0. A split is one C call where a line loop
    over the read costs a Python step per line, so a comment between events cuts a run in
    two instead of sending the whole read to the line loop."""
    at = skip  # where the piece starts in the read
    for k, piece in enumerate(pieces):
        lf = piece.find(b"\n")
        if lf >= 0:
            # a blank line after the data line: inside the piece, or the piece's last byte
            # then the split's first (a stray blank line before the next block)
            if lf == len(piece) - 1 or piece.startswith(b"\n\n", lf):
                pieces[k] = piece[:lf]
                del pieces[k + 1 :]
                return at + lf + 2
            del pieces[k:]
            return at - skip
        at += len(piece) + 2 + skip
    return at - skip  # pragma: no cover - the caller found a piece holding an LF


def _name_of(head: bytes) -> str:
    """The event type of an ``event: NAME`` line, decoded once per name (up to 256 kept)."""
    name = _NAMES.get(head)
    if name is None:
        name = head[7:].decode("utf-8", "replace") or "message"
        if len(_NAMES) < 256:
            _NAMES[head] = name
    return name


def _cached_names(heads: list[bytes]) -> list[str] | None:
    """The names of ``event: NAME`` lines all seen before (``None`` if one is new: only valid
    heads are cached). A run repeats its name from block to block, so a head equal to the one
    before takes its name without hashing the new bytes for a dict lookup."""
    names: list[str] = []
    last = b""
    name = ""
    for head in heads:
        if head != last:
            found = _NAMES.get(head)
            if found is None:
                return None
            last = head
            name = found
        names.append(name)
    return names


def _expand(items: list[SSEMessage | PayloadRun]) -> list[SSEMessage]:
    """``feed_items``' output as messages, each payload ``bytes`` (a lent one copied)."""
    out: list[SSEMessage] = []
    for item in items:
        if type(item) is PayloadRun:
            out.extend(messages_of(item))
        else:
            message = cast("SSEMessage", item)
            if not isinstance(message.data, bytes):  # lent (the type says bytes for users)
                message = msgspec.structs.replace(message, data=bytes(message.data))
            out.append(message)
    return out


def _block_end(data: bytes, start: int, eol: bytes) -> int:
    """Where the block holding ``start`` ends (just after its blank line), or -1, for line
    ends ``eol`` (LF, or CRLF: a read the caller checked holds no lone CR or LF). Found LF
    by LF: a one-byte search runs at memory speed, while CPython searches for a two-byte
    needle about as slowly as a Python loop over the few LFs an SSE read holds."""
    find = data.find
    at = find(b"\n", start)
    while at >= 0:
        if _at(data, at + 1, eol):
            return at + 1 + len(eol)
        at = find(b"\n", at + 1)
    return -1


@mypyc_attr(allow_interpreted_subclasses=True)  # public: compiled, still subclassable
class SSEFramer:
    """Turns chunks of an event stream into :class:`SSEMessage` objects.

    ``feed()`` accepts any bytes-like chunk, empty ones included, and returns the messages it
    completed. ``finish()`` ends input and returns what was left unterminated. An event whose
    data is longer than ``max_event_bytes``, or a line longer than that plus 6 bytes (a
    ``data: `` prefix), raises :class:`StreamFormatError` whatever the chunking, as soon as
    the bytes prove it; the framer then refuses further input (the stream cannot be
    re-synchronised reliably).
    """

    __slots__ = (
        "_base",
        "_block_bytes",
        "_block_start",
        "_bom_done",
        "_broken",
        "_buf",
        "_count",
        "_cr_mode",
        "_eol",
        "_event",
        "_last_id",
        "_max",
        "_parts",
        "_pos",
        "_retry",
        "_scan",
        "_skip_lf",
        "_stash_max",
    )

    def __init__(self, *, max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES) -> None:
        if not isinstance(max_event_bytes, int):  # as the compiled class checks it
            raise TypeError(f"max_event_bytes must be an int, not {max_event_bytes!r}")
        self._buf = bytearray()
        self._base = 0  # stream offset of _buf[0]
        self._pos = 0  # start of the next unconsumed line, in _buf
        self._scan = 0  # where the search for the next line end resumes, in _buf
        self._block_start = 0  # start of the open block, in _buf
        self._block_bytes = 0
        self._skip_lf = False  # the last line ended with a CR at the end of a chunk
        self._cr_mode = False  # a CR was ever seen: search for both line-end bytes
        self._eol = b"\n"  # the line end the fast split takes in this read (CRLF in CR mode)
        self._bom_done = False
        self._broken = False
        self._parts: list[bytes] = []
        self._event = ""
        self._last_id = ""
        self._retry: int | None = None
        self._count = 0
        self._max = max_event_bytes
        self._stash_max = min(max_event_bytes, _REREAD_MAX)

    @property
    def bytes_fed(self) -> int:
        """Total bytes received so far."""
        return self._base + len(self._buf)

    @property
    def open_bytes(self) -> int:
        """Bytes of the block still waiting for its blank line."""
        return len(self._buf) - self._block_start

    @property
    def dispatched(self) -> int:
        """How many events were dispatched so far."""
        return self._count

    @property
    def last_event_id(self) -> str:
        return self._last_id

    @property
    def retry(self) -> int | None:
        return self._retry

    def feed(self, data: bytes | bytearray | memoryview) -> list[SSEMessage]:
        """Frame ``data``; return every message it completed, in order.

        Raises :class:`StreamFormatError` when one event exceeds the size cap (sticky).
        """
        try:
            return _expand(self.feed_items(data))
        except StreamFormatError as exc:
            exc.events = _expand(exc.events)
            raise

    def feed_items(self, data: bytes | bytearray | memoryview) -> list[SSEMessage | PayloadRun]:
        """Like :meth:`feed`, but runs of plain ``data:`` events come as one
        :class:`PayloadRun` (the parser's fast path). Same events, same order. The payload
        of an event over 64 KB completed in the buffer may be that buffer itself, a
        ``bytearray`` lent rather than copied (``_lend``): the parser only decodes it and
        copies it to ``bytes`` before it puts it in an event; :meth:`feed` copies it."""
        if self._broken:
            raise StreamFormatError(
                "the stream could not be framed earlier; no further input is read",
                byte_offset=self.bytes_fed,
            )
        if self._bom_done and not self._buf and not self._skip_lf and type(data) is bytes:
            run = _one_event(data, self._count, self._base, self._last_id, self._retry,
                             self._max, self._cr_mode)
            if run is not None:  # a live read's usual shape, taken in one step
                self._count += 1
                self._base += len(data)
                return [run]
        out: list[SSEMessage | PayloadRun] = []
        if not data:
            return out
        if not self._bom_done and not self._buf and len(data) >= 3 and type(data) is bytes:
            self._bom_done = not data.startswith(_BOM)  # a BOM is dropped by the general loop
        try:
            if type(data) is not bytes or not self._bom_done:
                self._general(data, out)
            elif not self._cr_mode and data.find(b"\r") < 0:
                self._eol = b"\n"
                self._fast(data, out)
            else:
                # CRLF (some proxies, .NET, sse-starlette): the split takes CRLF blocks and
                # checks each run holds no lone CR or LF; the general loop reads the rest
                self._cr_mode = True
                self._eol = b"\r\n"
                if self._skip_lf:  # the LF of a CRLF that the last read cut: the loop has it
                    self._general(data[:1], out)
                    data = data[1:]
                if data:
                    self._fast(data, out)
        except StreamFormatError as exc:
            exc.events = out  # the messages completed before the oversized one
            raise
        return out

    def _fast(self, data: bytes, out: list[SSEMessage | PayloadRun]) -> None:
        """Split the plain events straight out of ``data`` (no copy into the buffer). Blocks
        the split cannot take (comments, ``retry:`` lines) go to the general loop up to the next
        block that starts like a plain one, and the split resumes there, up to
        ``_FAST_RETRIES`` times per read; then the general loop takes the rest.

        The open block waiting in the buffer is put in front of ``data`` once this chunk
        completes it (found by its blank line), so a network read gives one run, not a run and a
        stray event; while it is still incomplete the buffer keeps growing (each byte searched
        once)."""
        buf = self._buf
        eol = self._eol
        if buf:
            if buf.endswith(eol) and data.startswith(eol):
                cut = len(eol)
            else:
                cut = _block_end(data, 0, eol)
                if cut < 0:  # no blank line: the waiting event is still not complete (an LF
                    self._general(data, out)  # first ends a line, not the block: read on)
                    return
            if len(buf) - self._block_start > _REREAD_MAX:
                # a big event: completed where it is, its payload copied once out of the
                # buffer (or lent: see _lend), rather than copied whole to be split again
                head = data[:cut]
                if not self._lend(head, out):
                    self._general(head, out)
                data = data[cut:]
                if self._buf or not data:
                    if data:
                        self._general(data, out)
                    return
                self._fast(data, out)
                return
            # the open block is read again from its first byte (the buffer keeps it from
            # _block_start): its fields so far are dropped and come back with the rest
            start = self._block_start
            del buf[:start]
            buf += data
            data = bytes(buf)  # one copy of the open block, not three (a 1 MB event counts)
            self._base += start
            buf.clear()
            self._pos = self._scan = self._block_start = self._block_bytes = 0
            self._parts = []
            self._event = ""
        retries = _FAST_RETRIES
        fields = False  # the last odd blocks set fields (``retry:``, ``id:``, ``event:``...)
        while True:
            count = self._count
            if data.startswith(b"data:"):  # plain blocks, or the field line after the data
                used = self._split_plain(data, out) or self._split_named(data, out, True)
            else:
                used = self._split_named(data, out)
            if used == len(data):
                return
            if fields and self._count - count < 2:
                retries = 0  # odd blocks as often as plain ones: the line loop reads the rest
            rest = data[used:]
            if not self._cr_mode and self._stash(rest):
                return  # the usual rest of a read: the start of the next block, kept as is
            # the blocks the split does not take (comments, ``retry:`` lines, empty data
            # lines...) go to the general loop, up to the next block that starts like a
            # plain one; then the split is tried again on the rest
            pos = used
            while (end := _block_end(data, pos, eol)) >= 0:
                pos = end
                if (_at(data, pos, b"data:") or _at(data, pos, b"event: ")
                        or _at(data, pos, b"id: ")):
                    break
            if pos == used or not retries:
                data = rest
                break
            retries -= 1
            odd = data[used:pos]
            fields = self._cr_mode or pos - used > self._max or not _only_comments(odd)
            if fields:
                self._general(odd, out)
            else:  # keep-alive comments and blank lines: nothing to apply, nothing to read
                self._base += pos - used
            data = data[pos:]
            if self._buf or not data:
                break
        if data:  # the stash refused it above (or the buffer holds an open block)
            self._general(data, out)

    def _lend(self, head: bytes, out: list[SSEMessage | PayloadRun]) -> bool:
        """Dispatch the big open block that ``head`` (the rest of it, up to its blank line)
        completes, with the buffer itself as its payload: no copy of its megabytes. Only for
        a block whose open line is its one ``data:`` line, already read up to the buffer's
        end (so ``head`` holds its line end and the blank line, and nothing else); any other
        shape returns ``False`` untouched and the line loop reads it."""
        buf = self._buf
        pos = self._pos
        if (self._parts or self._cr_mode or self._scan != len(buf)
                or not buf.startswith(b"data:", pos)
                or head.find(b"\n") != len(head) - 2):
            return False
        value_at = pos + 5
        if (buf[value_at] if value_at < len(buf) else head[0]) == _SPACE:
            value_at += 1
        size = len(buf) + len(head)
        if size - 2 - value_at > self._max:
            return False  # the line loop raises for the oversized event
        buf += head
        offset = self._base + self._block_start
        del buf[size - 2 :]  # both only move the bytearray's ends: nothing is copied
        del buf[:value_at]
        out.append(_SSE_MESSAGE(self._event or "message", buf, self._last_id,
                                self._retry, offset, self._count))
        self._count += 1
        self._event = ""
        self._buf = bytearray()
        self._base += size
        self._pos = self._scan = self._block_start = 0
        return True

    def _stash(self, data: bytes) -> bool:
        """Keep the open block that ends a read in the buffer, unread: the next read usually
        completes it, and the split then reads it once, instead of the line loop reading its
        first lines now and the split reading them again. Only for a lone block of ``data``
        and ``event`` lines (nothing the line loop must apply at once, as ``id`` and
        ``retry``) with no size to check; the line loop reads it (once) if the next read does
        not complete it. Every line must start a field, so a blank line (a complete block)
        or a comment refuses the stash."""
        size = len(data)
        if self._buf or size > self._stash_max:
            return False
        start = 0
        while start < size:
            if not (_at(data, start, b"data:") or _at(data, start, b"event: ")):
                return False
            start = data.find(b"\n", start) + 1
            if not start:
                break
        self._buf += data  # _pos, _scan and _block_start stay at 0: nothing read yet
        return True

    def _split_plain(self, data: bytes, out: list[SSEMessage | PayloadRun]) -> int:
        """The plain ``data: X`` + blank line events at the start of ``data`` as one run;
        returns the bytes used (0 when the start is not plain). Checked with C-level scans:
        no payload the split cut out holds an LF (or, for CRLF, a CR), so every line end up
        to the last plain event is one the split cut at."""
        end = data.find(b"\n")
        prefix = _data_prefix(data, 0)
        if prefix is None:
            return 0
        skip = len(prefix)
        eol = self._eol
        crlf = len(eol) - 1  # 1 for CRLF: the line end starts one byte before its LF
        block = 2 * len(eol)  # the data line's end and the blank line
        end -= crlf  # where the first line ends
        if end + block == len(data) and data.endswith(eol) and data.startswith(eol, end):
            pieces = [data[skip:end]]  # exactly one event: a live read's shape
            stop = len(data)
        elif end < 0 or not data.startswith(eol + eol, end):
            return 0  # the first block is not plain: no split of the whole read for nothing
        else:
            pieces = data.split(eol + eol + prefix)
            last = pieces[-1]
            close = _block_end(last, 0, eol)
            if close >= 0:
                stop = len(data) - len(last) + close
                pieces[-1] = last[: close - block]
            elif len(pieces) > 1:
                stop = len(data) - len(last) - skip
                pieces.pop()
            else:
                return 0
            pieces[0] = pieces[0][skip:]
        if skip == 5 and _spaced(pieces):
            return 0
        if _line_end_in(pieces, crlf > 0, data, stop, 2 * len(pieces)):
            if crlf:
                return 0  # a payload holds a line end: its block has other lines
            stop = _plain_blocks(pieces, skip)  # the run ends before the first such block
        if stop > self._max and max(map(len, pieces)) > self._max:
            return 0  # the general loop raises for the oversized event
        out.append(PayloadRun(pieces, self._count, self._base, self._last_id, self._retry,
                              None, skip + block, size=stop))
        self._count += len(pieces)
        self._base += stop
        return stop

    def _split_named(self, data: bytes, out: list[SSEMessage | PayloadRun],
                     data_first: bool = False) -> int:
        """The same for blocks of ``event: NAME`` + one ``data:`` line (the Responses API's
        shape), or of the data line first (``data_first``: some recorders write the event
        line after it; the field applies at dispatch either way). One split at the line end
        gives lines in threes: the name, the data, the blank line (the data, the name, the
        blank line); the run ends at the first block of another shape."""
        size = len(data)
        second = data.find(b"\n") + 1  # where the second line starts
        at = second if data_first else 0  # where the field line starts
        if data_first and not second:
            return 0
        if _at(data, at, b"event: "):
            field = b"event: "
        elif _at(data, at, b"id: "):  # gateways that number their events (S03)
            field = b"id: "
        else:
            return 0
        third = data.find(b"\n", second)  # the second line's LF
        eol = self._eol
        crlf = len(eol) - 1
        ends = 1 + crlf  # the size of a line end
        third -= crlf  # where the data line ends
        prefix = _data_prefix(data, 0 if data_first else second) if second else None
        if prefix is None or not (third >= 0 and _at(data, third, eol)
                                  and _at(data, third + len(eol), eol)
                                  and _at(data, second - ends, eol)):
            return 0  # the first block is not event + data: no split of the whole read
        skip = len(prefix)
        around = skip + 3 * ends
        if third + 2 * ends == size and not data_first:  # one block: a live read
            if third - second - skip > self._max or second > self._max + _PREFIX or (crlf and (
                    data.count(b"\r") != 3 or data.count(b"\n") != 3)):
                return 0  # the general loop raises for the oversized event (or reads CRs)
            head = data[: second - 1 - crlf]
            if field == b"id: ":
                if _NUL in head:
                    return 0
                names, ids = None, [head[4:].decode("utf-8", "replace")]
            else:
                names, ids = [_name_of(head)], None
            out.append(PayloadRun([data[second + skip : third]], self._count, self._base,
                                  self._last_id, self._retry, names, around, [len(head)], ids))
            if ids:
                self._last_id = ids[0]
            self._count += 1
            self._base += size
            return size
        lines = data.split(b"\n")  # one byte: CPython splits at a two-byte one half as fast
        last = len(lines) - 1
        count = last // 3  # blocks whose blank line is there
        blanks = lines[2 : 3 * count : 3]
        blank = b"\r" if crlf else b""
        if blanks.count(blank) != count:  # a block of another shape: the run stops before it
            count = next(k for k, line in enumerate(blanks) if line != blank)
        heads = lines[data_first : 3 * count : 3]
        datas = lines[1 - data_first : 3 * count : 3]
        if crlf:  # each line ends with its CR (a lone LF leaves a line without one; lone CRs
            # inside lines are counted below); heads lose it here, payloads when cut out
            if not (all(head.endswith(b"\r") for head in heads)
                    and all(line.endswith(b"\r") for line in datas)):
                count = next(k for k in range(count)
                             if not (heads[k].endswith(b"\r") and datas[k].endswith(b"\r")))
                del heads[count:], datas[count:]
            heads = [head[:-1] for head in heads]
        if field == b"id: ":
            fits = all(head.startswith(field) for head in heads) and (
                _NUL not in b"".join(heads))
        else:
            cached = _cached_names(heads)
            fits = cached is not None
        # compiled loops (startswith is a C call), not all(map(bytes.startswith, ...)), which
        # parses its arguments line by line
        if not fits or not all(line.startswith(prefix) for line in datas) or (
                skip == 5 and any(line.startswith(b"data: ") for line in datas)):
            count = _field_prefix(heads, datas, field, prefix)
            del heads[count:], datas[count:]
        if field == b"id: ":
            names = None
            ids = [head[4:].decode("utf-8", "replace") for head in heads]
        else:
            names = cached[:count] if cached is not None else list(map(_name_of, heads))
            ids = None
        # compiled slices: no slice object per line, as ``map(itemgetter(slice))`` makes
        payloads = [line[skip:-1] for line in datas] if crlf else [line[skip:] for line in datas]
        if 3 * count == last and not lines[last]:
            used = size  # the run is the whole read: no need to add its lines up
        else:  # the field lines, the data lines (their CRs still on), and every line end
            used = 3 * count * ends - crlf * count
            for k in range(count):  # a compiled loop: sum(map(len, ...)) looks up builtins
                used += len(heads[k]) + len(datas[k])
        if not payloads:
            return 0
        if crlf and _line_end_in(heads + payloads, True, data, used, 3 * count):
            return 0  # a lone CR in the run: the general loop reads it
        if used > self._max and (max(map(len, payloads)) > self._max
                                 or max(map(len, heads)) > self._max + _PREFIX):
            return 0  # the general loop raises for the oversized event or line
        out.append(PayloadRun(payloads, self._count, self._base, self._last_id, self._retry,
                              names, around, [len(head) for head in heads], ids, used))
        if ids:
            self._last_id = ids[-1]
        self._count += count
        self._base += used
        return used

    def _general(self, data: bytes | bytearray | memoryview, out: list[SSEMessage | PayloadRun]
                 ) -> None:
        buf = self._buf
        start = len(buf)
        buf += data
        # searched in the buffer, not in ``data``: ``b"\r" in memoryview`` compares ints, never true
        if not self._cr_mode and buf.find(b"\r", start) >= 0:
            self._cr_mode = True
        if self._skip_lf:
            self._skip_lf = False
            if buf[self._pos] == _LF:  # the second half of a CRLF split across chunks
                if self._block_start == self._pos:
                    self._block_start += 1
                self._pos += 1
                self._scan = self._pos
        if not self._bom_done:
            if len(buf) < 3 and _BOM.startswith(buf):
                return
            self._bom_done = True
            if buf.startswith(_BOM):
                self._pos = self._scan = self._block_start = 3
        self._lines(out)
        self._compact()

    def finish(self) -> Unterminated:
        """End input; return the bytes of the block left open (maybe empty)."""
        if not self._buf and not self._parts:  # the usual end: every block was complete
            self._broken = True
            return _UNTERMINATED(b"", self._base, False)
        if self._scan < len(self._buf) and not (self._cr_mode or self._broken):
            self._lines([])  # a stashed block, read now (it holds no blank line to dispatch)
        buf = self._buf
        offset = self._base + self._block_start
        if not self._bom_done and buf == _BOM[: len(buf)]:
            rest = b""  # only (part of) the BOM arrived: nothing was left unterminated
            truncated = False
        else:
            rest = bytes(buf[self._block_start :])
            tail = buf[self._pos :]
            open_line = bool(tail) and tail[0] != _COLON
            truncated = bool(self._parts) or open_line
        self._buf = bytearray()
        self._base += len(buf)
        self._pos = self._scan = self._block_start = 0
        self._parts = []
        self._broken = True
        return _UNTERMINATED(rest, offset, truncated)

    # -- internals -----------------------------------------------------------------------

    def _simple_run(self, out: list[SSEMessage | PayloadRun]) -> None:
        """Fast path for the shape nearly every server sends: blocks of one ``data: `` line.

        At a block boundary, the complete part of the buffer is split in one call and checked
        with C-level scans (no payload holds an LF), instead of a Python step per line.
        Anything else (other fields, comments, CR, blank-line runs) leaves the region to the
        general loop, which gives the same messages.
        """
        buf = self._buf
        pos = self._pos
        if not buf.startswith(b"data: ", pos):
            return
        # [pos, _scan) holds no LF (the line loop stopped there), so a blank line can only
        # start at _scan: searching from pos would rescan a long open line on every feed
        end = buf.rfind(b"\n\n", max(pos, self._scan))
        if end <= pos:
            return
        region = bytes(buf[pos:end])
        payloads = region[6:].split(b"\n\ndata: ")
        # the region stops short of its last blank line: one block fewer ends in it
        if _line_end_in(payloads, False, region, len(region), 2 * (len(payloads) - 1)):
            return
        if len(region) > self._max and max(map(len, payloads)) > self._max:
            return  # let the general loop raise for the oversized event
        out.append(PayloadRun(payloads, self._count, self._base + pos, self._last_id,
                              self._retry, size=end + 2 - pos))
        index = self._count + len(payloads)
        self._count = index
        self._pos = self._scan = self._block_start = end + 2

    def _lines(self, out: list[SSEMessage | PayloadRun]) -> None:
        if not self._cr_mode and self._block_start == self._pos and not self._parts:
            self._simple_run(out)
        buf = self._buf
        pos = self._pos
        scan = self._scan
        end = len(buf)
        find = buf.find
        search = _EOL.search if self._cr_mode else None
        line_cap = self._max + _PREFIX
        while True:
            if search is None:
                eol = find(b"\n", scan)
                if eol < 0:
                    break
                nxt = eol + 1
            else:
                m = search(buf, scan)
                if m is None:
                    break
                eol = m.start()
                nxt = eol + 1
                if buf[eol] == _CR:
                    if nxt == end:
                        self._skip_lf = True
                    elif buf[nxt] == _LF:
                        nxt += 1
            if eol == pos:
                self._dispatch(out, nxt)
            elif eol - pos > line_cap:
                self._too_big(pos)
            elif buf[pos] != _COLON:
                self._field(pos, eol)
            elif self._block_start == pos:
                # a comment opening a block is not part of it: keep-alive comments alone never
                # end a block, so keeping them would grow the buffer without bound
                self._block_start = nxt
            pos = scan = nxt
        self._pos = pos
        self._scan = end
        if end - pos > line_cap - (self._block_bytes if buf.startswith(b"data:", pos) else 0):
            self._too_big(pos)  # the line, or the event's data, is already over the cap

    def _field(self, start: int, stop: int) -> None:
        buf = self._buf
        if buf.startswith(b"data:", start):
            value_at = start + 5
            if value_at < stop and buf[value_at] == _SPACE:
                value_at += 1
            if stop - value_at > _REREAD_MAX:  # one copy, not a bytearray slice and a copy
                with memoryview(buf) as view:
                    value = bytes(view[value_at:stop])
            else:
                value = bytes(buf[value_at:stop])
            self._parts.append(value)
            self._block_bytes += len(value) + 1
            if self._block_bytes > self._max + 1:  # the data and one LF per line
                self._too_big(start)
            return
        colon = buf.find(b":", start, stop)
        if colon < 0:
            name = bytes(buf[start:stop])
            raw = b""
        else:
            name = bytes(buf[start:colon])
            value_at = colon + 1
            if value_at < stop and buf[value_at] == _SPACE:
                value_at += 1
            raw = bytes(buf[value_at:stop])
        if name == b"data":  # "data" with no colon: an empty data line
            self._parts.append(raw)
            self._block_bytes += 1
            if self._block_bytes > self._max + 1:
                self._too_big(start)
        elif name == b"event":
            self._event = raw.decode("utf-8", "replace")
        elif name == b"id":
            if _NUL not in raw:
                self._last_id = raw.decode("utf-8", "replace")
        elif name == b"retry" and raw.isdigit():  # bytes.isdigit: ASCII only, False for b""
            self._retry = int(raw)
        # any other field name is ignored, as the standard says

    def _dispatch(self, out: list[SSEMessage | PayloadRun], next_block: int) -> None:
        parts = self._parts
        if parts:
            data = parts[0] if len(parts) == 1 else b"\n".join(parts)
            out.append(
                _SSE_MESSAGE(
                    self._event or "message",
                    data,
                    self._last_id,
                    self._retry,
                    self._base + self._block_start,
                    self._count,
                )
            )
            self._count += 1
            self._parts = []
        self._event = ""
        self._block_bytes = 0
        self._block_start = next_block

    def _compact(self) -> None:
        keep = self._block_start
        if keep and keep * 2 >= len(self._buf):
            del self._buf[:keep]
            self._base += keep
            self._pos -= keep
            self._scan -= keep
            self._block_start = 0

    def _too_big(self, at: int) -> None:
        self._broken = True
        raise StreamFormatError(
            f"an event exceeds max_event_bytes={self._max}",
            byte_offset=self._base + at,
            excerpt=excerpt(self._buf[at : at + 200]),
        )
