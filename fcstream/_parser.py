"""StreamParser: framing + decoding + accumulation, sans-I/O.

The contract:

1. ``feed(data) -> list[Event]`` takes any bytes-like chunk (empty too) and returns every event
   it completed, in order: if one SSE event closes call 0 and opens call 1, both come back.
2. ``finish() -> list[Event]`` ends input: open calls come back as ``CallIncomplete`` (never as
   ``CallDone``), then ``StreamDone`` if the stream did not end itself. After it, ``feed()``
   raises ``UsageError``.
3. ``feed_event(event, data)`` takes already-framed input (httpx-sse, the openai SDK) and reaches
   the same accumulator code.
4. The core never reads, awaits, sleeps or logs.

Strict mode (the default) raises ``PayloadError``/``ProtocolError`` for bad input, after the
offending SSE event was fully applied; the exception's ``.events`` holds every event that call
completed, and the events framed after it wait for the next call, so raising loses nothing.
Lenient mode returns the same errors as ``ErrorEvent``s. Provider errors are always events.
"""

from __future__ import annotations

from collections import deque
from typing import Final, Literal

import msgspec

from . import _surrogates
from ._accumulator import Accumulator
from ._call import Api, ToolCall
from ._chat import ChatAccumulator
from ._errors import (
    FcstreamError,
    PayloadError,
    ProviderError,
    StreamFormatError,
    UsageError,
    excerpt,
)
from ._events import ErrorEvent, Event, OtherEvent
from ._native import mypyc_attr
from ._responses import ResponsesAccumulator
from ._runs import message_at, rest_from
from ._sse import DEFAULT_MAX_EVENT_BYTES, PayloadRun, SSEFramer, SSEMessage
from ._wire_parser import ERROR_BODY as _ERROR_BODY
from ._wire_parser import PROBE as _PROBE
from ._wire_responses import raw_value_present

__all__ = ["StreamParser"]

# mypyc reads a Final module name from a C static, and any other global (an imported class
# included) from the module's dict on every use: the classes this module makes, bound once.
_ERROR_EVENT: Final = ErrorEvent
_OTHER_EVENT: Final = OtherEvent
_SSE_MESSAGE: Final = SSEMessage

ApiChoice = Literal["auto", "chat", "responses"]

KEEPALIVES: Final = frozenset({"ping", "keepalive", "keep-alive", "keep_alive", "heartbeat"})
"""Payload types (or SSE event names) of keep-alives: they say nothing about the API (the
Codex backend's ``{"type":"keepalive"}`` may come before ``response.created``), unless one
carries a ``sequence_number``: the Responses API numbers every event, keep-alives included,
and its accumulator must see that number to check the next one's, as with ``api="responses"``."""


_WINDOW: Final = 64 * 1024
"""Reads bigger than this are framed and applied a window of about this size at a time (see
``StreamParser._feed_windows``); Responses windows are four times as big (three lines per
event make more per-window work, and its runs fit the caches at that size)."""
_SETTLE_AT: Final = 64 * 1024
"""An open block past this size gets the open calls' fragments joined before it completes
(``Accumulator.settle_open``); the framer lends such a block's buffer as its payload."""


def _json_error_body(data: bytes) -> ProviderError | None:
    """A whole body like ``{"error": {...}}`` (HTTP 200 JSON instead of a stream), or ``None``."""
    if not data.lstrip().startswith(b"{"):
        return None
    try:
        body = _ERROR_BODY.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None
    detail = body.error
    if isinstance(detail, str):
        return ProviderError(detail, api=None, byte_offset=0, raw=bytes(data))
    code = None if detail.code is None else str(detail.code)
    return ProviderError(
        detail.message or excerpt(data), api=None, code=code, type=detail.type, byte_offset=0,
        raw=bytes(data)
    )


@mypyc_attr(allow_interpreted_subclasses=True)  # public: compiled, still subclassable
class StreamParser:
    """Rebuilds tool calls from a Chat Completions or Responses event stream.

    ``api="auto"`` decides from the first payload that says something: a ``response.*`` type or
    SSE event name means Responses, anything else chat. Keep-alives (``KEEPALIVES``; numbered
    ones mean Responses) and non-JSON data on an SSE event other than ``message``
    (sse-starlette's ``event: ping`` with a timestamp) pass through as ``OtherEvent`` without
    deciding. ``strict`` chooses between raising and reporting bad input (see the module
    docstring). ``max_event_bytes`` caps one SSE event's data (and any line at that plus 6
    bytes).
    """

    def __init__(
        self,
        api: ApiChoice = "auto",
        *,
        strict: bool = True,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        # the compiled class checks argument types on the way in (TypeError): the sources do
        # the same, so a caller sees one behaviour whichever runs
        if not isinstance(api, str) or not isinstance(strict, bool):
            raise TypeError(f"api must be a str and strict a bool, not {api!r} and {strict!r}")
        if api not in ("auto", "chat", "responses"):
            raise UsageError(f"api must be 'auto', 'chat' or 'responses', not {api!r}")
        self.strict = strict
        self._framer = SSEFramer(max_event_bytes=max_event_bytes)
        self._acc: Accumulator | None = None
        if api == "chat":
            self._acc = ChatAccumulator()
        elif api == "responses":
            self._acc = ResponsesAccumulator()
        self._pending: deque[SSEMessage | PayloadRun] = deque()
        self._count = 0  # messages handed to feed_event (the framer counts its own)
        self._finished = False
        self._rejected = 0  # payloads rejected before the API was known
        self._window = _WINDOW  # a test may make it small, to put every read through windows

    # -- properties ------------------------------------------------------------------------

    @property
    def api(self) -> Api | None:
        """The API being parsed, ``None`` while ``"auto"`` has not seen a payload yet."""
        return self._acc.api if self._acc is not None else None

    @property
    def calls(self) -> list[ToolCall]:
        """Every call so far, in order of first appearance; open ones with ``complete=False``."""
        return self._acc.calls() if self._acc is not None else []

    @property
    def finish_reasons(self) -> dict[int, str]:
        return dict(self._acc.finish_reasons) if self._acc is not None else {}

    @property
    def events_seen(self) -> int:
        """How many SSE events were dispatched so far."""
        return self._framer.dispatched + self._count

    @property
    def sse(self) -> SSEFramer:
        """The framer, for its ``last_event_id`` and ``retry``."""
        return self._framer

    # -- input -----------------------------------------------------------------------------

    def feed(self, data: bytes | bytearray | memoryview, /) -> list[Event]:
        """Frame and apply ``data``; return the events it completed.

        Raises ``UsageError`` after ``finish()``, ``StreamFormatError`` for unframeable input
        (sticky), and in strict mode ``PayloadError``/``ProtocolError`` (not sticky).
        """
        if self._finished:
            raise UsageError("feed() after finish()")
        if len(data) > self._window:
            return self._feed_windows(data)
        return self._feed(data)

    def _feed_windows(self, data: bytes | bytearray | memoryview) -> list[Event]:
        """A big read framed and applied a window at a time (about ``_window`` bytes, up to
        the next blank line). Framed whole first, a megabyte read made every one of its
        payloads before the first was applied, and the CPU's caches lost them: 1.7x the time
        per event (a 1 MB chat stream: 0.70 us/event whole, 0.40 us in windows, events
        kept). Any re-chunking gives the same events, so these are the read's. An error
        raised in a window carries every event of the read before it, and the rest of the
        read is framed and queued before it is raised, as one read's messages are: the next
        call applies them (bytes after a framing error are never framed, as in one read)."""
        raw = data if type(data) is bytes else bytes(data)
        out: list[Event] = []
        size = len(raw)
        pos = 0
        while pos < size:
            acc = self._acc
            window = self._window if acc is None or acc.api == "chat" else 4 * self._window
            cut = size
            if size - pos > window:  # after the next blank line: windows hold whole blocks
                end = raw.find(b"\n\n", pos + window)  # (a big event is never cut: copied
                if end >= 0:  # in pieces into the framer's buffer, it would be held twice)
                    cut = end + 2
                elif (end := raw.find(b"\r\n\r\n", pos + window)) >= 0:
                    cut = end + 4
            # the whole read as it is; a window holding a big event as a view of it, which
            # the framer copies once into its buffer (a slice and the payload cut out of it
            # would hold the event twice); a window of small events as a slice (the fast path)
            chunk: bytes | memoryview = (
                raw if pos == 0 and cut == size
                else memoryview(raw)[pos:cut] if cut - pos > 2 * window else raw[pos:cut])
            try:
                out += self._feed(chunk)
            except FcstreamError as exc:
                exc.events = out + exc.events
                if cut < size and not isinstance(exc, StreamFormatError):
                    self._queue(raw[cut:])
                raise
            pos = cut
        return out

    def _queue(self, rest: bytes) -> None:
        """Frame ``rest`` and queue its messages, unapplied. A framing error keeps the
        messages before it, as ``feed`` does, and the broken framer raises it on the next
        read."""
        try:
            self._pending.extend(self._framer.feed_items(rest))
        except StreamFormatError as exc:
            self._pending.extend(exc.events)

    def _feed(self, data: bytes | bytearray | memoryview) -> list[Event]:
        out: list[Event] = []
        if data:
            try:
                items = self._framer.feed_items(data)
            except StreamFormatError as exc:
                self._pending.extend(exc.events)  # messages framed before the error
                self._run(out)
                exc.events = out
                raise
            acc = self._acc
            if not items:  # a read inside one block: a big one may repeat the open calls
                if acc is not None and self._framer.open_bytes > _SETTLE_AT:
                    acc.settle_open(self._framer.open_bytes)
            elif len(items) == 1 and not self._pending and type(run := items[0]) is PayloadRun:
                # a live stream's usual read (or a whole recording): one run, nothing queued
                if acc is None and (first := run.payloads[0]) and not first.isspace():
                    start = len(out)
                    acc = self._detect(message_at(run, 0), out)
                    if acc is None:  # passed through or reported: the rest waits its turn
                        if len(run.payloads) > 1:
                            self._pending.append(rest_from(run, 1))
                        if self.strict:
                            self._raise_first_error(out, start)
                        self._run(out)
                        return out
                if acc is not None:
                    self._apply_run(acc, run, out)
                    return out
            self._pending.extend(items)
        self._run(out)
        return out

    def feed_event(self, event: str | None, data: str | bytes | bytearray | memoryview, /
                   ) -> list[Event]:
        """Apply one already-framed SSE event (``event`` type, ``data`` payload)."""
        if self._finished:
            raise UsageError("feed_event() after finish()")
        raw = data.encode() if isinstance(data, str) else bytes(data)
        index = self._framer.dispatched + self._count
        self._count += 1
        self._pending.append(_SSE_MESSAGE(event or "message", raw, "", None, -1, index))
        out: list[Event] = []
        self._run(out)
        return out

    def finish(self) -> list[Event]:
        """End input. Returns pending events, open calls as ``CallIncomplete``, ``StreamDone``.

        Idempotent in effect: a second call raises ``UsageError``.
        """
        if self._finished:
            raise UsageError("finish() called twice")
        out: list[Event] = []
        self._run(out)
        self._finished = True
        rest = self._framer.finish()
        if self._acc is None:
            self._acc = self._decided(ChatAccumulator())  # nothing decided: an empty chat
            if self.events_seen == 0:
                error = _json_error_body(rest.data)
                if error is not None:  # S08: a JSON error body where a stream was expected
                    self._acc.provider_error(out, 0, error)
        self._acc.finish(self.events_seen, rest, out)
        self._raise_first_error(out, 0)
        return out

    # -- internals -------------------------------------------------------------------------

    def _run(self, out: list[Event]) -> None:
        pending = self._pending
        strict = self.strict
        acc = self._acc
        while pending:
            item = pending.popleft()
            if type(item) is PayloadRun:
                if acc is not None:
                    self._apply_run(acc, item, out)
                    continue
                msg = message_at(item, 0)
                data = msg.data
                if data and not data.isspace():
                    start = len(out)
                    acc = self._detect(msg, out)
                    if acc is not None:  # the accumulator takes the whole run, this one too
                        pending.appendleft(item)
                        continue
                    if len(item.payloads) > 1:
                        pending.appendleft(rest_from(item, 1))
                    if strict:
                        self._raise_first_error(out, start)
                    continue  # passed through or reported by _detect
                if len(item.payloads) > 1:  # the API is decided by the first payload alone
                    pending.appendleft(rest_from(item, 1))
            else:
                msg = item  # type: ignore[assignment]
            data = msg.data
            if not data or data.isspace():  # `data:` alone: valid SSE, nothing to decode
                out.append(_OTHER_EVENT(msg.index, msg.event, bytes(data)))
                continue
            if acc is None:
                start = len(out)
                acc = self._detect(msg, out)
                if acc is None:
                    if strict:
                        self._raise_first_error(out, start)
                    continue
            if strict:
                start = len(out)
                before = acc.problems
                acc.handle(msg, out)
                if acc.problems != before:
                    self._raise_first_error(out, start)
            else:
                acc.handle(msg, out)

    def _apply_run(self, acc: Accumulator, run: PayloadRun, out: list[Event]) -> None:
        """Hand ``run`` to the accumulator. In strict mode it stops after a payload with a
        problem: the rest waits in front of the queue and the error is raised."""
        start = len(out)
        before = acc.problems
        applied = acc.handle_run(run, out, self.strict)
        if applied < len(run.payloads):
            self._pending.appendleft(rest_from(run, applied))
        if acc.problems != before:
            self._raise_first_error(out, start)

    def _raise_first_error(self, out: list[Event], start: int) -> None:
        if not self.strict:
            return
        for i in range(start, len(out)):
            event = out[i]
            if isinstance(event, ErrorEvent) and isinstance(event.error, PayloadError):
                error = event.error
                del out[i]
                error.events = out
                raise error

    def _decided(self, acc: Accumulator) -> Accumulator:
        acc.rejected += self._rejected  # what was lost before the API was known counts too
        self._acc = acc
        return acc

    def _detect(self, msg: SSEMessage, out: list[Event]) -> Accumulator | None:
        """The accumulator for the API ``msg`` reveals; ``None`` when it reveals nothing (a
        keep-alive, passed through) or cannot be read (reported)."""
        data = msg.data
        event = msg.event
        if event.startswith("response."):
            return self._decided(ResponsesAccumulator())
        if data.strip() == b"[DONE]":
            return self._decided(ChatAccumulator())
        try:
            probe = _surrogates.view(_PROBE, data)  # a lone surrogate escape is JSON
        except msgspec.ValidationError:
            probe = None  # JSON, but not an object
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            if event == "error":  # the provider's error as text: the chat accumulator says so
                return self._decided(ChatAccumulator())
            if event != "message":  # not JSON on a keep-alive event: no evidence
                out.append(_OTHER_EVENT(msg.index, event, bytes(data)))
                return None
            self._rejected += 1
            out.append(_ERROR_EVENT(event_index=msg.index, error=PayloadError(
                f"invalid JSON: {exc}", api=None, event_index=msg.index,
                byte_offset=msg.offset, event=event, excerpt=excerpt(data))))
            return None
        kind = probe.type if probe is not None else None
        if kind is not None and (kind.startswith("response.") or kind == "error"):
            return self._decided(ResponsesAccumulator())
        name = kind or event
        if (probe is None and event not in ("message", "error")) or (
            probe is not None and not len(probe.choices) and name.lower() in KEEPALIVES
        ):
            if probe is not None and raw_value_present(probe.sequence_number):
                return self._decided(ResponsesAccumulator())  # numbered: see KEEPALIVES
            out.append(_OTHER_EVENT(msg.index, name, bytes(data)))
            return None
        return self._decided(ChatAccumulator())


