"""Public events, in stream order. Each carries ``event_index``: the 0-based ordinal of the
dispatched SSE event that produced it, so a caller can tell exactly when something happened.

Calls come and go through four events: ``CallStarted`` (id and name known), ``ArgumentsDelta``
(a piece of the argument text), then exactly one of ``CallDone`` (the stream's structure finished
it: safe to run) or ``CallIncomplete`` (cut or truncated: never run it as if finished).
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from ._call import Api, CallType, ToolCall
from ._errors import FcstreamError

__all__ = [
    "ArgumentsDelta",
    "CallDone",
    "CallIncomplete",
    "CallStarted",
    "ChoiceDone",
    "ErrorEvent",
    "Event",
    "HostedToolEvent",
    "OtherEvent",
    "ReasoningDelta",
    "RefusalDelta",
    "StreamDone",
    "StreamStarted",
    "TextDelta",
    "Usage",
]

IncompleteReason = Literal[
    "truncated", "length", "content_filter", "error", "failed", "incomplete", "nameless"
]


class _Event(msgspec.Struct, frozen=True):
    """Events that hold only text, bytes and numbers are ``gc=False``: they cannot be part of a
    reference cycle, so the cycle collector need not track the thousands a stream makes."""

    event_index: int


class StreamStarted(_Event, frozen=True, gc=False):
    """The API is known and the first metadata arrived (chat chunk id, or Responses id)."""

    api: Api
    response_id: str | None = None
    model: str | None = None


class CallStarted(_Event, frozen=True, gc=False):
    """A call opened and its name is known. ``index`` is its position in its choice.
    Responses calls also carry their ``item_id`` and ``output_index`` (``None`` for chat)."""

    choice: int
    index: int
    call_id: str | None
    name: str | None
    type: CallType = "function"
    item_id: str | None = None
    output_index: int | None = None


class ArgumentsDelta(_Event, frozen=True, gc=False):
    """A piece of a call's argument text (or a custom tool's input)."""

    choice: int
    index: int
    delta: str


class CallDone(_Event, frozen=True):
    """The stream's structure finished the call: it is safe to run."""

    call: ToolCall


class CallIncomplete(_Event, frozen=True):
    """The call was still open when the stream was cut or ended; ``call.complete`` is False.

    ``reason`` says what cut it: ``length``/``content_filter`` (chat finish reasons), ``error``
    (a provider error), ``failed``/``incomplete`` (Responses terminal events), ``truncated``
    (input ended without a terminal marker) or ``nameless`` (the call never got a name).
    """

    call: ToolCall
    reason: IncompleteReason


class TextDelta(_Event, frozen=True, gc=False):
    choice: int
    text: str


class RefusalDelta(_Event, frozen=True, gc=False):
    choice: int
    text: str


class ReasoningDelta(_Event, frozen=True, gc=False):
    """Reasoning text. ``source`` names the wire field: ``reasoning_content`` or ``reasoning``
    (chat), ``thinking`` or ``summary`` (chat content parts: Mistral's thinking parts,
    Databricks' reasoning parts), ``summary`` or ``text`` (Responses)."""

    choice: int
    text: str
    source: str


class Usage(_Event, frozen=True):
    """Token usage as the provider sent it."""

    usage: dict[str, Any]


class ChoiceDone(_Event, frozen=True, gc=False):
    """A chat choice sent its ``finish_reason`` (exposed as sent, e.g. ``stop`` after calls)."""

    choice: int
    finish_reason: str


class StreamDone(_Event, frozen=True):
    """The stream ended. Emitted exactly once: at the terminal marker (chat ``[DONE]``,
    Responses ``response.completed``/``.incomplete``/``.failed``) or by ``finish()``.

    ``complete`` is true only when the stream's own end arrived and nothing cut it: every call
    came back final, no provider error was reported and no payload was rejected as unreadable
    (a ``PayloadError``, raised in strict mode, an ``ErrorEvent`` in lenient mode: its data is
    lost). A ``ProtocolError`` keeps the data it is about and leaves ``complete`` alone.

    ``status`` says how it ended: ``done`` (chat ``[DONE]``), ``finished`` (chat: every choice
    sent a finish reason but no ``[DONE]`` came), ``completed``/``incomplete``/``failed``
    (Responses), ``error`` (a provider error with no terminal marker) or ``truncated`` (input
    ended early). ``leftover`` holds the bytes of an unterminated last block, if any.
    """

    complete: bool
    status: str
    finish_reasons: dict[int, str] = msgspec.field(default_factory=dict)
    leftover: bytes = b""


class ErrorEvent(_Event, frozen=True):
    """A reported problem: a :class:`ProviderError` (always an event in the core), or in lenient
    mode a :class:`PayloadError`/:class:`ProtocolError` that strict mode would raise."""

    error: FcstreamError


class HostedToolEvent(_Event, frozen=True, gc=False):
    """A server-side tool item (web search, file search, code interpreter, MCP...): not a call
    for the client to run; passed through so nothing is lost."""

    type: str
    item_type: str
    output_index: int | None
    raw: bytes


class OtherEvent(_Event, frozen=True, gc=False):
    """An event fcstream does not interpret (unknown Responses types, vendor events): the SSE
    event type (or payload ``type``) and the raw payload, untouched."""

    type: str
    raw: bytes


Event = (
    StreamStarted
    | CallStarted
    | ArgumentsDelta
    | CallDone
    | CallIncomplete
    | TextDelta
    | RefusalDelta
    | ReasoningDelta
    | Usage
    | ChoiceDone
    | StreamDone
    | ErrorEvent
    | HostedToolEvent
    | OtherEvent
)
