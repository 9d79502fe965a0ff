"""View Structs for Responses API events: only the fields fcstream reads, one Struct per family.

Responses keeps adding event types, so there is no tagged union (it would reject new ones):
``DECODERS`` maps each known ``type`` to the decoder of its Struct, and the accumulator picks
one by the SSE ``event:`` name (free) or, when that is not a known type, by ``PROBE``, which
reads only ``type`` (plus the two fields that recognise a chat chunk, R13) and skips the rest
unbuilt. Unknown fields in known events are skipped the same way, so they never break a stream.

Every Struct has ``sequence_number`` (optional, R06) so the gap check costs no extra decode.
Item ``arguments``/``input`` are ``Raw``: function items carry a string, but other item types
reuse the name for objects (``tool_search_call`` sends ``"arguments": {}``), and a Raw field
accepts both without a second decoder. Item events happen once per call, so converting the Raw
value to ``str`` there costs nothing on the per-delta path.
"""

from __future__ import annotations

from typing import Any, Final

import msgspec

from ._surrogates import view

__all__ = [
    "ANY",
    "DECODERS",
    "DELTA",
    "HOT",
    "HOT_TEXT",
    "INDEXED_DELTA",
    "ITEM_EVENT",
    "PROBE",
    "START",
    "ArgumentsDone",
    "Delta",
    "ErrorPayload",
    "HotDelta",
    "IndexedDelta",
    "Item",
    "ItemEvent",
    "Probe",
    "ResponseEvent",
    "ResponseHead",
    "StartEvent",
    "raw_text",
    "raw_value_present",
]

_ABSENT: Final = msgspec.Raw()
"""Default for optional raw fields: msgspec cannot put ``Raw`` in a union with ``None``."""


def raw_value_present(raw: msgspec.Raw) -> bool:
    """Whether an optional raw field was sent with a value (not absent, not ``null``). Told
    by its length alone unless it is four bytes long: a closing event's text can be big."""
    size = len(raw)
    return size > 4 or (size > 0 and bytes(raw) != b"null")


def raw_text(raw: msgspec.Raw) -> tuple[str | None, bool]:
    """``(text, was_string)`` of an optional raw value: a JSON string decoded, anything else
    (an object, a number) kept as its exact JSON text; ``(None, True)`` when absent or null."""
    try:
        return _STR_DECODE(raw), True  # the usual case: a JSON string, decoded in place
    except (msgspec.DecodeError, UnicodeDecodeError):  # (a ValidationError is a DecodeError)
        pass  # absent, null, another JSON value, a surrogate escape, or bad bytes
    if not raw_value_present(raw):
        return None, True
    value = memoryview(raw)  # no copy: closing events carry the whole arguments
    if value[0] == 0x22:  # a quote: a string msgspec refused (a surrogate escape?)
        text: str = view(_STR, value)  # raises for bad UTF-8
        return text, True
    return str(value, "utf-8", "replace"), False


class Probe(msgspec.Struct, gc=False):
    """The cheap first look at a payload whose SSE event name did not say what it is."""

    type: str | None = None
    sequence_number: int | None = None
    object: str | None = None
    choices: msgspec.Raw = _ABSENT


class Item(msgspec.Struct, gc=False):
    """An output item: only what identifies a call and its final text."""

    type: str = ""
    id: str | None = None
    call_id: str | None = None
    name: str | None = None
    arguments: msgspec.Raw = _ABSENT
    input: msgspec.Raw = _ABSENT
    status: str | None = None


class ItemEvent(msgspec.Struct, gc=False):
    """``response.output_item.added`` / ``.done``."""

    type: str = ""
    item: Item | None = None
    output_index: int | None = None
    sequence_number: int | None = None


class Delta(msgspec.Struct, gc=False):
    """Every ``*.delta`` event: argument, custom input, text, refusal and reasoning pieces."""

    type: str = ""
    delta: str = ""
    item_id: str | None = None
    output_index: int | None = None
    sequence_number: int | None = None


class IndexedDelta(msgspec.Struct, gc=False):
    """A ``*.delta`` read without its ``item_id``, as the hot loop reads one: a delta whose
    ``item_id`` has an odd type or bad bytes still reaches its call by ``output_index`` (or
    is text, which no id routes), whichever path reads it."""

    type: str = ""
    delta: str = ""
    output_index: int | None = None
    sequence_number: int | None = None
    item_id = None  # a class attribute, not a field: the payload's item_id is skipped unread


class HotDelta(msgspec.Struct, gc=False, tag_field="type"):
    """An argument or text delta as the accumulator's hot loop reads it: the ``type`` is
    checked against the class's tag while decoding (no ``str`` made for it) and ``item_id`` is
    skipped (the loop finds the call by ``output_index``). A payload that does not fit
    (another type, a field of an odd type) raises, and the full ``Delta`` path takes it; one
    without a ``type`` is what its SSE event name says, as on the full path."""

    delta: str = ""
    output_index: int | None = None
    sequence_number: int | None = None


class HotText(HotDelta, tag="response.output_text.delta"):
    pass


class HotArguments(HotDelta, tag="response.function_call_arguments.delta"):
    pass


class ArgumentsDone(msgspec.Struct, gc=False):
    """``function_call_arguments.done`` (``arguments``) / ``custom_tool_call_input.done``
    (``input``). Some servers add ``name``; it is read when the call has none yet. The text is
    ``Raw``, as in items: a big one is compared with the streamed fragments before (instead
    of) being decoded, and a JSON value sent instead of a string is kept as sent."""

    type: str = ""
    arguments: msgspec.Raw = _ABSENT
    input: msgspec.Raw = _ABSENT
    name: str | None = None
    item_id: str | None = None
    output_index: int | None = None
    sequence_number: int | None = None


class ErrorBody(msgspec.Struct, gc=False):
    code: str | int | None = None
    message: str | None = None
    type: str | None = None


class IncompleteDetails(msgspec.Struct, gc=False):
    reason: str | None = None


class ResponseHead(msgspec.Struct, gc=False):
    """The ``response`` of an opening event (``created``, ``in_progress``, ``queued``): only
    what ``StreamStarted`` says, the rest of a kilobyte-sized object skipped unbuilt."""

    id: str | None = None
    model: str | None = None


class StartEvent(msgspec.Struct, gc=False):
    """``response.created`` / ``in_progress`` / ``queued``."""

    type: str = ""
    response: ResponseHead | None = None
    sequence_number: int | None = None


class TerminalResponse(ResponseHead, gc=False):
    """The ``response`` object of the terminal ``response.*`` events. ``error`` and
    ``incomplete_details`` stay raw and are decoded on their own (``ERROR_BODY``,
    ``INCOMPLETE``): a terminal event must end the stream even when one of them has a shape
    nobody expected. The subclasses read ``output``."""

    status: str | None = None
    usage: msgspec.Raw = _ABSENT
    error: msgspec.Raw = _ABSENT
    incomplete_details: msgspec.Raw = _ABSENT


class Response(TerminalResponse, gc=False):
    """The usual case: the ``output`` items read in the same pass as the event."""

    output: list[Item] | None = None


class RawOutputResponse(TerminalResponse, gc=False):
    """For an event where an item does not fit ``Item``: the items left raw and decoded one
    by one (``ITEM``), so an odd item cannot sink the whole event."""

    output: list[msgspec.Raw] | None = None


class ResponseEvent(msgspec.Struct, gc=False):
    """``response.completed`` / ``incomplete`` / ``failed``."""

    type: str = ""
    response: Response | None = None
    sequence_number: int | None = None


class RawOutputEvent(msgspec.Struct, gc=False):
    """A terminal event whose ``output`` did not fit ``Response``."""

    type: str = ""
    response: RawOutputResponse | None = None
    sequence_number: int | None = None


class BareResponseEvent(msgspec.Struct, gc=False):
    """A lifecycle event whose ``response`` fits neither ``Response`` nor
    ``RawOutputResponse``: enough to end it."""

    type: str = ""
    sequence_number: int | None = None

    @property
    def response(self) -> None:
        """Read by the handlers like ``ResponseEvent.response``; never decoded here."""
        return None


class ItemKind(msgspec.Struct, gc=False):
    type: str = ""


class ItemKindEvent(msgspec.Struct, gc=False):
    """An item event whose item does not fit ``Item``: enough to pass a non-call item on."""

    type: str = ""
    item: ItemKind | None = None
    output_index: int | None = None
    sequence_number: int | None = None


class ErrorPayload(msgspec.Struct, gc=False):
    """The ``error`` event: fields at the top level (OpenAI) or in a nested ``error`` object."""

    type: str = ""
    code: str | int | None = None
    message: str | None = None
    error: ErrorBody | None = None
    sequence_number: int | None = None


class Progress(msgspec.Struct, gc=False):
    """Hosted tool progress events (``response.web_search_call.searching`` and the like)."""

    type: str = ""
    item_id: str | None = None
    output_index: int | None = None
    sequence_number: int | None = None


START: Final = msgspec.json.Decoder(StartEvent)
_RESPONSE: Final = msgspec.json.Decoder(ResponseEvent)
ITEM_EVENT: Final = msgspec.json.Decoder(ItemEvent)
DELTA: Final = msgspec.json.Decoder(Delta)
HOT_TEXT: Final = msgspec.json.Decoder(HotText).decode
HOT: Final[dict[str, Any]] = {
    "response.output_text.delta": HOT_TEXT,
    "response.function_call_arguments.delta": msgspec.json.Decoder(HotArguments).decode,
}
"""The events the accumulator's hot loop applies inline, by name: their decoders."""
_ARGS_DONE: Final = msgspec.json.Decoder(ArgumentsDone)
_ERROR: Final = msgspec.json.Decoder(ErrorPayload)
_STR: Final = msgspec.json.Decoder(str)
_STR_DECODE: Final = _STR.decode

PROGRESS: Final = msgspec.json.Decoder(Progress)
ITEM: Final = msgspec.json.Decoder(Item)
ERROR_BODY: Final = msgspec.json.Decoder(ErrorBody)
INCOMPLETE: Final = msgspec.json.Decoder(IncompleteDetails)
FALLBACKS: Final[dict[str, msgspec.json.Decoder[Any]]] = {
    "response.completed": msgspec.json.Decoder(BareResponseEvent),
    "response.incomplete": msgspec.json.Decoder(BareResponseEvent),
    "response.failed": msgspec.json.Decoder(BareResponseEvent),
    "response.output_item.added": msgspec.json.Decoder(ItemKindEvent),
    "response.output_item.done": msgspec.json.Decoder(ItemKindEvent),
}
"""Second-chance decoders for events that must not be lost to an unexpected field type."""
PROBE: Final = msgspec.json.Decoder(Probe)
ANY: Final = msgspec.json.Decoder()
INDEXED_DELTA: Final = msgspec.json.Decoder(IndexedDelta)

DECODERS: Final[dict[str, msgspec.json.Decoder[Any]]] = {
    "response.created": START,
    "response.in_progress": START,
    "response.queued": START,
    "response.completed": _RESPONSE,
    "response.incomplete": _RESPONSE,
    "response.failed": _RESPONSE,
    "response.output_item.added": ITEM_EVENT,
    "response.output_item.done": ITEM_EVENT,
    "response.function_call_arguments.delta": DELTA,
    "response.function_call_arguments.done": _ARGS_DONE,
    "response.custom_tool_call_input.delta": DELTA,
    "response.custom_tool_call_input.done": _ARGS_DONE,
    "response.output_text.delta": DELTA,
    "response.refusal.delta": DELTA,
    "response.reasoning_summary_text.delta": DELTA,
    "response.reasoning_text.delta": DELTA,
    "error": _ERROR,
}
"""Event types fcstream interprets, by ``type``. Anything else is hosted-tool progress (by
name, see ``hosted_item_type``) or passes through untouched."""

_RAW_OUTPUT: Final = msgspec.json.Decoder(RawOutputEvent)
RAW_OUTPUT: Final[dict[str, msgspec.json.Decoder[Any]]] = {
    name: _RAW_OUTPUT for name, decoder in DECODERS.items() if decoder is _RESPONSE
}
"""The terminal events, read again with raw items when an ``output`` item did not fit
``Item``, before (and instead of) any second chance."""

ITEM_KIND: Final = msgspec.json.Decoder(ItemKind)


def error_body(raw: msgspec.Raw) -> ErrorBody | None:
    """A ``response.error`` object; a bare string becomes its message; ``None`` if absent."""
    if not raw_value_present(raw):
        return None
    try:
        return ERROR_BODY.decode(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        pass
    try:
        text, _ = raw_text(raw)
    except (msgspec.DecodeError, UnicodeDecodeError):
        text = bytes(raw).decode("utf-8", "replace")
    return ErrorBody(message=text)


def incomplete_reason(raw: msgspec.Raw) -> str | None:
    """``incomplete_details.reason``, or ``None`` when absent or not a string."""
    if not raw_value_present(raw):
        return None
    try:
        return INCOMPLETE.decode(raw).reason
    except (msgspec.DecodeError, UnicodeDecodeError):
        return None


CALL_ITEMS: Final = frozenset({"function_call", "custom_tool_call"})
"""Item types that are client calls."""

_HOSTED_EXTRA: Final = frozenset({"mcp_list_tools", "mcp_approval_request"})


def hosted_item_type(name: str) -> str | None:
    """The hosted item type an item type or a progress event's middle part names, or ``None``.

    ``web_search_call``, ``code_interpreter_call_code`` (-> ``code_interpreter_call``),
    ``mcp_call_arguments`` (-> ``mcp_call``), ``mcp_list_tools``...: any ``*_call*`` name that is
    not a client call, plus MCP listing and approval items. New hosted tools follow the
    ``*_call`` pattern, so they are recognised without a release.
    """
    cut = name.find("_call")
    if cut > 0:
        base = name[: cut + 5]
        return None if base in CALL_ITEMS else base
    if name in _HOSTED_EXTRA or name.startswith("mcp_"):
        return name
    return None
