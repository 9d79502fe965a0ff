"""ResponsesAccumulator: Responses API events in, the same events and ``ToolCall``s as chat out.

Correlation: a call is keyed by its ``output_index`` (stable; item ids may change on every event,
R02), by its item id when an event has no ``output_index``, and an event with neither belongs to
the most recent call. Any call event may be the first one for its item (R01): a delta, a
``.done`` or an ``output_item.done`` starts the call. ``CallStarted`` waits until the name is
known, as in chat (C09). A new ``output_item.added`` at the index of a call already handed over
is a new call (servers that put every item at index 0), as a reused chat index with a new id is.

Finality, the first structural end for the item: ``function_call_arguments.done`` (or
``custom_tool_call_input.done``), else ``output_item.done``, else the terminal
``response.completed``. A call whose name is still unknown at its ``.done`` waits for the
``output_item.done`` (or the terminal event) that names it; one that never gets a name comes back
incomplete (``nameless``). ``response.incomplete``, ``response.failed`` and ``error`` cut open
calls: they come back as ``CallIncomplete`` with every character received. An
``output_item.done`` whose item has status ``incomplete`` (max_output_tokens reached mid-call)
ends the item but does not finish the call: it stays open until the terminal event cuts it
(``incomplete``, even if that event is ``response.completed``) -- unlike ``in_progress`` (R05).

Cross-checks, never re-emission: the ``.done`` text is authoritative and must equal what the
deltas built; ``output_item.done`` and the ``output`` list of ``response.completed`` must agree
with the finished call (arguments, ``call_id``, ``name``). A disagreement is reported (an
``ErrorEvent`` in lenient mode, a ``ProtocolError`` in strict mode, raised after the event was
applied) and the authoritative text wins. A function call in ``response.completed.output`` that
was never streamed is added there, started and finished at that event, so no call is missing;
an empty ``output`` (R08) or one without a streamed call is not an error: streamed items are
trusted.

Everything else passes through: hosted tool items and their progress events as
``HostedToolEvent`` (R10), unknown types and non-call items as ``OtherEvent`` (R14); ``[DONE]``
is ignored (R12); a chat chunk is reported as the endpoint mix-up it is (R13). Data that is not a
JSON object on an SSE event other than ``message`` (``event: ping`` with a timestamp) is a
keep-alive and passes through; on ``event: error`` it is the provider's error text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final, cast

import msgspec

from . import _wire_responses as wire
from ._accumulator import Accumulator
from ._call import NO_ARGS, ArgumentBuffer, CallType, ToolCall
from ._errors import ProviderError, excerpt
from ._events import (
    ArgumentsDelta,
    CallStarted,
    Event,
    HostedToolEvent,
    IncompleteReason,
    OtherEvent,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    Usage,
)
from ._open_call import OpenCall
from ._runs import message_at, rest_from
from ._sse import PayloadRun, SSEMessage
from ._surrogates import rescue, view

__all__ = ["ResponsesAccumulator", "expand_parallel"]

# mypyc reads a Final module name from a C static, and any other global (an imported class
# included) from the module's dict on every use: the classes this module makes, bound once.
_ARGUMENT_BUFFER: Final = ArgumentBuffer
_ARGUMENTS_DELTA: Final = ArgumentsDelta
_CALL_STARTED: Final = CallStarted
_HOSTED_TOOL_EVENT: Final = HostedToolEvent
_OTHER_EVENT: Final = OtherEvent
_REASONING_DELTA: Final = ReasoningDelta
_REFUSAL_DELTA: Final = RefusalDelta
_TEXT_DELTA: Final = TextDelta
_USAGE: Final = Usage

_DONE: Final = b"[DONE]"
# the hot loop's names from the wire module, bound once (see the classes above)
_HOT: Final = wire.HOT
_HOT_TEXT: Final = wire.HOT_TEXT
_DECODERS: Final = wire.DECODERS
_FIELDS: Final = msgspec.structs.astuple
"""A hot delta's fields in one C call: mypyc reads a Struct's attribute by name, three
lookups that cost twice as much as the tuple (``wire.HotDelta``'s field order)."""
_PROBE_DECODE: Final = wire.PROBE.decode
_START_DECODE: Final = wire.START.decode
_ITEM_EVENT_DECODE: Final = wire.ITEM_EVENT.decode
_CALL_ITEMS: Final = wire.CALL_ITEMS
_COMPACT_AT: Final = ArgumentBuffer.COMPACT_AT
_OPENING: Final = frozenset(n for n, d in wire.DECODERS.items() if d is wire.START)
"""``created``, ``in_progress``, ``queued``: whatever ``DECODERS`` reads as an opening."""
_ITEM_EVENTS: Final = frozenset(n for n, d in wire.DECODERS.items() if d is wire.ITEM_EVENT)
"""``output_item.added`` / ``.done``."""
_UNDECODABLE: Final = (msgspec.DecodeError, UnicodeDecodeError)
"""What a decode of untrusted bytes may raise: msgspec reports bad UTF-8 inside a string as
``UnicodeDecodeError``, not as a ``DecodeError``."""
_COMPARE_RAW_AT: Final = 16 * 1024
"""Closing events' texts from this size on are first compared, as raw JSON, with what the
deltas built (``ArgumentBuffer.equals_json``); smaller ones are simply decoded."""
_KEEP_AGREED_BELOW: Final = 256 * 1024
"""A closing event's token under this size that agreed with the call's text is kept
(``_Call.agreed``): the item and the final output repeat it, and a byte compare costs an
eighth of encoding the text again. A bigger one is compared each time: kept, it would
hold a second copy of a megabyte call for the rest of the stream."""
_ENCODE: Final = msgspec.json.Encoder()

_REASONING: Final[dict[str, str]] = {
    "response.reasoning_summary_text.delta": "summary",
    "response.reasoning_text.delta": "text",
}
"""Reasoning delta types and the ``ReasoningDelta.source`` each becomes."""


class _Call(OpenCall):
    """An ``OpenCall`` plus what the Responses cross-checks need.

    ``deltas``: a non-empty delta arrived (so the ``.done`` text must equal what they built);
    ``final``: the arguments are final (``.done`` or ``output_item.done`` seen), even if the call
    still waits for its name; ``cut_short``: its item ended with status ``incomplete``, so no
    event finishes it: the terminal event cuts it; ``agreed``: a closing event's raw arguments
    (under ``_KEEP_AGREED_BELOW``) that agreed with the call's text: the next closing events
    (the item, the terminal output) usually send the same bytes, which then need no decode.
    """

    __slots__ = ("agreed", "cut_short", "deltas", "final")

    def __init__(
        self, index: int, type: CallType, output_index: int | None, item_id: str | None
    ) -> None:
        OpenCall.__init__(self, "responses", 0, index, None, None, type, item_id, output_index)
        self.deltas = False
        self.final = False
        self.cut_short = False
        self.agreed: msgspec.Raw | None = None


Handler = Callable[["ResponsesAccumulator", SSEMessage, str, Any, list[Event]], None]
"""An event handler, called unbound: one table for every accumulator, none built per stream."""


class ResponsesAccumulator(Accumulator):
    """Responses API events -> events; see the module docstring for correlation and finality.

    Per delta the work is O(1): one dict lookup picks the decoder, one finds the call, and the
    piece is appended to its ``ArgumentBuffer`` (joined once, when the call is handed over).
    """

    api = "responses"

    def __init__(self) -> None:
        super().__init__()
        self._by_output: dict[int, _Call] = {}
        self._by_item: dict[str, _Call] = {}
        self._by_call_id: dict[str, _Call] = {}
        self._last: _Call | None = None
        self._seq: int | None = None

    # -- dispatch ------------------------------------------------------------------------

    def handle_run(self, run: PayloadRun, out: list[Event], strict: bool) -> int:
        """The hot path: argument and text deltas (nearly every event of a stream) are
        applied inline when their sequence number follows on and their call is started and
        still open, and so are event types and items fcstream only passes on and opening
        events after the first; every other event, and any doubt, goes through ``handle``,
        so the result is the same as event by event."""
        names = run.names
        if names is None or self._ended:
            return super().handle_run(run, out, strict)
        hot = _HOT
        text = _HOT_TEXT
        fields = _FIELDS
        decoders = _DECODERS
        probe_of = _PROBE_DECODE
        opening_of = _START_DECODE
        item_of = _ITEM_EVENT_DECODE
        call_items = _CALL_ITEMS
        by_output = self._by_output
        before = self.problems
        index = run.index
        payloads = run.payloads
        last = self._seq  # kept in a local; written back before anything else reads it
        open_key: int | None = None  # output_index of the call the last delta went to
        # the buffer typed as the list it is: mypyc appends to it without a method lookup
        open_args: list[str] = NO_ARGS  # no key matches it: never written
        open_index = 0
        decoded: wire.ItemEvent | None = None  # an item event read on the way to the full path
        for k in range(len(payloads)):  # indexing: cheaper than unpacking zipped tuples
            data = payloads[k]
            name = names[k]
            decode = hot.get(name)
            if decode is not None:
                try:
                    event = decode(data)
                except _UNDECODABLE:  # msgspec's ValidationError is a DecodeError
                    pass  # the full path decodes it again and says what is wrong
                else:
                    # declared types: mypyc checks them once here, then compares natively
                    piece: str
                    key: int | None
                    seq: int | None
                    piece, key, seq = cast("tuple[str, int | None, int | None]", fields(event))
                    if seq is None or (last is not None and seq == last + 1):
                        if decode is text:
                            if seq is not None:
                                last = seq
                            if piece:
                                out.append(_TEXT_DELTA(index + k, 0, piece))
                            continue
                        if key is not None and piece and (open_key is None or key != open_key):
                            # not the call of the last delta (an empty one first: the full
                            # path, which does not mark the call as streamed)
                            call = by_output.get(key)
                            if (call is not None and call.started and not call.ended
                                    and not call.final):
                                call.deltas = True
                                open_key = key  # open until another path runs
                                open_args = call.args
                                open_index = call.index
                        if key is not None and open_key is not None and key == open_key:
                            if seq is not None:
                                last = seq
                            if piece:
                                open_args.append(piece)
                                if len(open_args) > _COMPACT_AT:
                                    cast(ArgumentBuffer, open_args).compact()
                                out.append(_ARGUMENTS_DELTA(index + k, 0, open_index, piece))
                            continue
            elif name not in decoders:  # a type fcstream passes on (hosted progress, R10/R14)
                try:
                    probe = probe_of(data)
                except _UNDECODABLE:
                    pass  # not a JSON object (a keep-alive?): the full path says what it is
                else:
                    seq = probe.sequence_number
                    if probe.type == name and (
                        seq is None or (last is not None and seq == last + 1)
                    ):
                        if seq is not None:
                            last = seq
                        self._unknown(index + k, name, data, out)
                        continue
            elif name in _ITEM_EVENTS:  # items that are not calls pass on (R10/R14)
                try:
                    item_event = item_of(data)
                except _UNDECODABLE:
                    pass  # an odd item: the full path's second chance reads it
                else:
                    seq = item_event.sequence_number
                    item = item_event.item
                    if (item is not None and (not item_event.type or item_event.type == name)
                            and (seq is None or (last is not None and seq == last + 1))):
                        if seq is not None:
                            last = seq
                        if item.type in call_items:
                            decoded = item_event  # the full path's handler takes it as read
                        else:
                            self._pass_item(index + k, name, item.type,
                                            item_event.output_index, data, out)
                            continue
            elif name in _OPENING and self._started:  # in_progress: nothing new to say
                try:
                    opening = opening_of(data)
                except _UNDECODABLE:
                    pass  # the full path reports what does not fit
                else:
                    seq = opening.sequence_number
                    if (not opening.type or opening.type == name) and (
                        seq is None or (last is not None and seq == last + 1)
                    ):
                        if seq is not None:
                            last = seq
                        continue
            self._seq = last
            open_key = None  # the full path may end or replace any call
            msg = message_at(run, k)
            if decoded is not None:  # a call item, checked as handle() checks it
                self._on_item(msg, name, decoded, out)
                decoded = None
            elif not data or data.isspace():
                out.append(_OTHER_EVENT(msg.index, name, data))
            else:
                self.handle(msg, out)
            last = self._seq
            if strict and self.problems != before:
                return k + 1
            if self._ended and k + 1 < len(payloads):
                return k + 1 + super().handle_run(rest_from(run, k + 1), out, strict)
        self._seq = last
        return len(payloads)

    def handle(self, msg: SSEMessage, out: list[Event]) -> None:
        data = msg.data
        if len(data) < 16 and data.strip() == _DONE:  # short test first: no copy per event
            # R12: [DONE] after the end is harmless; before it, it proves nothing (finality
            # comes from response.* events), so finish() decides what was cut.
            return
        if self._ended:
            self.report_at(out, msg, "data after the end of the stream")
            return
        name = msg.event
        decoder = _DECODERS.get(name)
        probed = False
        if decoder is None:  # the event: line does not say: look at type only
            kind = self._probe(msg, out)  # checks sequence_number too
            if kind is None:
                return
            decoder = _DECODERS.get(kind)
            if decoder is None:
                self._unknown(msg.index, kind, msg.data, out)
                return
            name = kind
            probed = True
        try:
            event = decoder.decode(data)
        except msgspec.ValidationError as exc:
            event = self._without_item_id(decoder, data, name)
            if event is None:
                event = self._second_chance(msg, name, exc, out)
            if event is None:
                return
        except _UNDECODABLE as exc:
            event = rescue(decoder, data)  # a lone surrogate escape is JSON
            if event is None:
                event = self._without_item_id(decoder, data, name)
            if event is None:
                if name == "error":  # `event: error` with the provider's error as plain text
                    self._provider_error(msg, excerpt(data), None, "error", out)
                else:
                    self.payload_error(out, msg, f"invalid JSON: {exc}")
                return
        kind = event.type
        if kind and kind != name:  # the payload's own type decides
            self.report_at(out, msg, f"SSE event {name!r} carries a payload of type {kind!r}")
            decoder = _DECODERS.get(kind)
            if decoder is None:
                self._check_sequence(msg, event.sequence_number, out)
                self._unknown(msg.index, kind, msg.data, out)
                return
            try:
                event = view(decoder, data)
            except _UNDECODABLE as exc:
                self.payload_error(out, msg, f"not a valid {kind} event: {exc}")
                return
            name = kind
        if not probed:
            self._check_sequence(msg, event.sequence_number, out)
        _HANDLERS[name](self, msg, name, event, out)

    def _without_item_id(
        self, decoder: msgspec.json.Decoder[Any], data: bytes | bytearray, name: str
    ) -> wire.IndexedDelta | None:
        """A delta that failed only in ``item_id``, read as the hot loop reads deltas (it
        never reads that id): text, or a piece for the call its ``output_index`` names. The
        same payload then means the same on every path; anything else stays a bad payload."""
        if decoder is not wire.DELTA:
            return None
        try:
            event = wire.INDEXED_DELTA.decode(data)
        except _UNDECODABLE:
            return None
        if _HANDLERS[name] is ResponsesAccumulator._on_text or (
                event.output_index is not None and event.output_index in self._by_output):
            return event
        return None

    def _second_chance(
        self, msg: SSEMessage, name: str, exc: msgspec.ValidationError, out: list[Event]
    ) -> Any:
        """A known event with a field of an unexpected type. A terminal event whose only odd
        field is in an ``output`` item is read again with raw items, unreported (the items
        are then read one by one); any other terminal event still ends the stream (the
        problem is reported); items that are not calls pass through unreported, as fcstream
        does not read them. Returns the event to handle, or ``None``."""
        event: Any = None
        raw_output = wire.RAW_OUTPUT.get(name)
        if raw_output is not None:  # an odd output item: read each on its own, unreported
            try:
                return raw_output.decode(msg.data)
            except _UNDECODABLE:
                pass
        fallback = wire.FALLBACKS.get(name)
        if fallback is not None:
            try:
                event = fallback.decode(msg.data)
            except _UNDECODABLE:
                event = None
        if isinstance(event, wire.ItemKindEvent):
            kind = event.item.type if event.item is not None else ""
            if kind and kind not in _CALL_ITEMS:
                self._check_sequence(msg, event.sequence_number, out)
                self._pass_item(msg.index, name, kind, event.output_index, msg.data, out)
                return None
            event = None
        self.payload_error(out, msg, f"not a valid {name} event: {exc}")
        return event

    def _probe(self, msg: SSEMessage, out: list[Event]) -> str | None:
        """The payload's ``type``; ``None`` when the message was fully handled here. Data that
        is not a JSON object on an SSE event other than ``message`` is a keep-alive (e.g.
        sse-starlette's ``event: ping`` with a timestamp): passed through."""
        try:
            probe: wire.Probe = view(wire.PROBE, msg.data)
        except (msgspec.ValidationError, *_UNDECODABLE) as exc:
            if msg.event != "message":
                out.append(_OTHER_EVENT(event_index=msg.index, type=msg.event, raw=bytes(msg.data)))
            elif isinstance(exc, msgspec.ValidationError):
                self.payload_error(out, msg, f"not a Responses event: {exc}")
            else:
                self.payload_error(out, msg, f"invalid JSON: {exc}")
            return None
        self._check_sequence(msg, probe.sequence_number, out)
        if probe.type:
            return probe.type
        if (probe.object or "").startswith("chat.completion") or len(probe.choices):
            self.report_at(
                out,
                msg,
                "a Chat Completions chunk on a Responses stream (wrong endpoint, or "
                "api='responses' for a chat stream)",
            )
            return None
        out.append(_OTHER_EVENT(event_index=msg.index, type=msg.event, raw=bytes(msg.data)))
        return None

    def _unknown(self, index: int, kind: str, data: bytes | bytearray, out: list[Event]
                 ) -> None:
        """R10/R14: hosted tool progress as ``HostedToolEvent``, anything else passed through
        (``index``: the SSE event's, ``data``: its payload)."""
        middle = kind[9:] if kind.startswith("response.") else ""
        dot = middle.rfind(".")
        hosted = wire.hosted_item_type(middle[:dot]) if dot > 0 else None
        if hosted is None:
            out.append(_OTHER_EVENT(event_index=index, type=kind, raw=bytes(data)))
            return
        try:
            output_index = wire.PROGRESS.decode(data).output_index
        except _UNDECODABLE:
            output_index = None
        out.append(
            _HOSTED_TOOL_EVENT(
                event_index=index,
                type=kind,
                item_type=hosted,
                output_index=output_index,
                raw=bytes(data),
            )
        )

    def _check_sequence(self, msg: SSEMessage, seq: int | None, out: list[Event]) -> None:
        """R06: optional; when present, each event must be the previous one plus one."""
        if seq is None:
            return
        prev = self._seq
        self._seq = seq
        if prev is not None and seq != prev + 1:
            what = "a gap" if seq > prev else "a step backwards"
            self.report_at(out, msg, f"sequence_number {seq} after {prev}: {what}")

    # -- lifecycle -----------------------------------------------------------------------

    def _start_stream(
        self, msg: SSEMessage, response: wire.ResponseHead | None, out: list[Event]
    ) -> None:
        if not self._started and response is not None:
            self.started(out, msg.index, response.id or None, response.model or None)

    def _on_started(
        self, msg: SSEMessage, name: str, event: wire.StartEvent, out: list[Event]
    ) -> None:
        self._start_stream(msg, event.response, out)

    def _on_completed(
        self, msg: SSEMessage, name: str, event: wire.ResponseEvent | wire.RawOutputEvent,
        out: list[Event]
    ) -> None:
        response = event.response
        self._start_stream(msg, response, out)
        if response is not None and response.output:
            self._merge_output(msg, name, response.output, out)
        for open_call in list(self._open):  # the terminal event finishes what is still open
            call = cast(_Call, open_call)
            if call.cut_short:  # ... except an item the server itself closed as incomplete
                self.cut(out, msg.index, call, "incomplete")
            else:
                self._finalize(msg, call, out)
        self._usage(msg, response, out)
        self.stream_done(out, msg.index, "completed")

    def _on_cut_response(
        self, msg: SSEMessage, name: str, event: wire.ResponseEvent | wire.RawOutputEvent,
        out: list[Event]
    ) -> None:
        """``response.incomplete`` / ``response.failed``: open calls are cut (F3)."""
        response = event.response
        self._start_stream(msg, response, out)
        if response is not None and response.output:
            self._merge_output(msg, name, response.output, out)
        failed = name == "response.failed"
        status = "failed" if failed else "incomplete"
        reason: IncompleteReason = "failed" if failed else "incomplete"
        code: str | int | None = None
        kind: str | None = name
        if failed:
            message = "response failed"
            error = wire.error_body(response.error) if response is not None else None
            if error is not None:
                code, message = error.code, error.message or message
                kind = error.type or name
        else:
            details = wire.incomplete_reason(response.incomplete_details) if response else None
            code = details
            message = f"response incomplete: {code}" if code else "response incomplete"
        self._provider_error(msg, message, code, kind, out, reason)
        self._usage(msg, response, out)
        self.stream_done(out, msg.index, status)

    def _on_error(
        self, msg: SSEMessage, name: str, event: wire.ErrorPayload, out: list[Event]
    ) -> None:
        """R07: a typed provider error; open calls are cut. ``response.failed`` may follow;
        if nothing does, ``finish()`` ends the stream with status ``error``."""
        body = event.error
        code = body.code if body is not None and body.code is not None else event.code
        message = (body.message if body is not None else None) or event.message or "error"
        kind = (body.type if body is not None else None) or "error"
        self._provider_error(msg, message, code, kind, out)

    def _provider_error(
        self,
        msg: SSEMessage,
        message: str,
        code: str | int | None,
        kind: str | None,
        out: list[Event],
        reason: IncompleteReason = "error",
    ) -> None:
        error = ProviderError(
            message,
            api="responses",
            code=None if code is None else str(code),
            type=kind,
            event_index=msg.index,
            byte_offset=msg.offset,
            raw=bytes(msg.data),
        )
        self.provider_error(out, msg.index, error, reason)

    def _usage(
        self, msg: SSEMessage, response: wire.TerminalResponse | None, out: list[Event]
    ) -> None:
        if response is None or not len(response.usage):
            return
        try:
            value = wire.ANY.decode(response.usage)
        except _UNDECODABLE as exc:
            self.payload_error(out, msg, f"invalid usage: {exc}")
            return
        if isinstance(value, dict):
            out.append(_USAGE(event_index=msg.index, usage=value))

    # -- text ----------------------------------------------------------------------------

    def _on_text(self, msg: SSEMessage, name: str, event: wire.Delta, out: list[Event]) -> None:
        text = event.delta
        if not text:
            return
        if name == "response.output_text.delta":
            out.append(_TEXT_DELTA(event_index=msg.index, choice=0, text=text))
        elif name == "response.refusal.delta":
            out.append(_REFUSAL_DELTA(event_index=msg.index, choice=0, text=text))
        else:
            out.append(_REASONING_DELTA(event_index=msg.index, choice=0, text=text,
                                        source=_REASONING[name]))

    # -- calls ---------------------------------------------------------------------------

    def _find(self, output_index: int | None, item_id: str | None) -> _Call | None:
        if output_index is not None:
            return self._by_output.get(output_index)
        if item_id is not None:
            return self._by_item.get(item_id)
        return self._last

    def _new(self, output_index: int | None, item_id: str | None, type: CallType) -> _Call:
        call = _Call(len(self._calls), type, output_index, item_id)
        self.new_call(call)
        self._last = call
        if output_index is not None:
            self._by_output[output_index] = call
        if item_id is not None:
            self._by_item[item_id] = call
        return call

    def _start(self, msg: SSEMessage, call: _Call, out: list[Event]) -> None:
        """``CallStarted`` once the name is known, then the text buffered so far."""
        if call.started or call.name is None:
            return
        call.started = True
        out.append(
            _CALL_STARTED(
                event_index=msg.index,
                choice=0,
                index=call.index,
                call_id=call.call_id,
                name=call.name,
                type=call.type,
                item_id=call.item_id,
                output_index=call.output_index,
            )
        )
        if not call.args.empty:
            out.append(
                _ARGUMENTS_DELTA(
                    event_index=msg.index, choice=0, index=call.index, delta=call.args.text()
                )
            )

    def _finalize(self, msg: SSEMessage, call: _Call, out: list[Event]) -> None:
        call.final = True
        self._start(msg, call, out)
        self.done(out, msg.index, call, byte_offset=msg.offset)  # nameless -> CallIncomplete

    def _adopt(
        self, msg: SSEMessage, call: _Call, item: wire.Item, where: str, out: list[Event]
    ) -> None:
        """Take ``call_id``/``name``/item id from an item; a conflicting value is reported."""
        if item.id is not None:
            if not call.ended:
                call.item_id = item.id  # the item object's own id beats ids on delta events
            self._by_item[item.id] = call
        if item.call_id:
            if call.call_id is None:
                call.call_id = item.call_id
                self._by_call_id.setdefault(item.call_id, call)
            elif call.call_id != item.call_id:
                self._mismatch(msg, call, where, "call_id", call.call_id, item.call_id, out)
        if item.name:
            if call.name is None:
                call.name = item.name
            elif call.name != item.name:
                self._mismatch(msg, call, where, "name", call.name, item.name, out)

    def _mismatch(
        self,
        msg: SSEMessage,
        call: _Call,
        where: str,
        field: str,
        have: str,
        got: str,
        out: list[Event],
    ) -> None:
        self.report_at(
            out,
            msg,
            f"{where} {field} differs from the call's: {got!r} != {have!r}",
            call=call,
            data=got,
        )

    def _settle(
        self, msg: SSEMessage, call: _Call, text: str | None, where: str, out: list[Event]
    ) -> None:
        """Make ``text`` (authoritative: a ``.done`` or a finished item) the call's arguments.

        Equal to what arrived: nothing to do. No text arrived yet (R03): it is the text. A
        difference is reported; a missing tail is sent as a delta, anything else cannot be
        unsent, so ``CallDone`` carries the authoritative text.
        """
        if text is None:
            return
        if call.args.equals(text):  # the usual case: compared without joining a copy
            return
        had = not call.args.empty or call.deltas
        built = call.args.text()
        if built == text:
            return
        if had:
            self.report_at(
                out,
                msg,
                f"{where} text differs from what the deltas built ({len(built)} chars)",
                call=call,
                data=text,
            )
        call.agreed = None  # the text changes: no earlier token stands for it
        if text.startswith(built):
            tail = text[len(built) :]
            call.args.add(tail)
            if call.started:
                out.append(
                    _ARGUMENTS_DELTA(event_index=msg.index, choice=0, index=call.index, delta=tail)
                )
        else:
            call.args = _ARGUMENT_BUFFER()
            call.args.add(text)

    def stream_done(self, out: list[Event], event_index: int, status: str,
                    leftover: bytes = b"") -> None:
        """No closing event can follow the end: the calls' kept tokens go (a parser kept for
        its ``calls`` would hold them)."""
        for call in self._calls:
            cast(_Call, call).agreed = None
        super().stream_done(out, event_index, status, leftover)

    def _item_text(
        self, msg: SSEMessage, call: _Call, item: wire.Item, out: list[Event],
        closing: bool = True
    ) -> str | None:
        raw = item.input if call.type == "custom" else item.arguments
        return self._final_text(msg, call, raw, "item", out, closing)

    def _final_text(
        self, msg: SSEMessage, call: _Call, raw: msgspec.Raw, what: str, out: list[Event],
        closing: bool = True
    ) -> str | None:
        """The text an event's item or ``.done`` gives for ``call``, as ``str``; ``None`` when
        it gives none, or when it is what the call already holds (a big one is compared as raw
        JSON, never decoded: a megabyte of arguments is not built again). A token that agrees
        on a ``closing`` event (after which the call's text never changes: not
        ``output_item.added``) is kept when under ``_KEEP_AGREED_BELOW``, and the same bytes
        later agree with one byte compare."""
        agreed = call.agreed
        if agreed is not None and raw == agreed:
            return None
        keep = closing and len(raw) < _KEEP_AGREED_BELOW
        if len(raw) >= _COMPARE_RAW_AT and call.args.equals_json(raw):
            if keep:
                call.agreed = raw.copy()  # the token alone, not the payload around it
            return None
        try:
            text, was_string = wire.raw_text(raw)
        except _UNDECODABLE:
            self.payload_error(out, msg, f"{what} arguments are not valid UTF-8 JSON text")
            return None  # the streamed text stands
        if was_string and text is not None and call.args.equals(text):
            if keep:
                call.agreed = raw.copy()
            return None
        if not was_string:
            self.report_at(
                out,
                msg,
                f"{what} arguments sent as a JSON value instead of a string",
                call=call,
                data=text or "",
            )
        return text

    def _on_item(self, msg: SSEMessage, name: str, event: wire.ItemEvent, out: list[Event]) -> None:
        item = event.item
        if item is None:
            self.payload_error(out, msg, f"{name} without an item")
            return
        if item.type not in _CALL_ITEMS:
            self._pass_item(msg.index, name, item.type, event.output_index, msg.data, out)
            return
        type: CallType = "custom" if item.type == "custom_tool_call" else "function"
        call = self._find(event.output_index, item.id)
        if name == "response.output_item.added":
            if call is not None and call.ended:
                if item.call_id and item.call_id == call.call_id:  # the same call again
                    self.report_at(
                        out,
                        msg,
                        f"output_item.added for call {call.index}, already handed over",
                        call=call,
                    )
                    return
                call = None  # an output_index reused for a new item (as chat C03): a new call
            if call is None:
                call = self._new(event.output_index, item.id, type)
            self._adopt(msg, call, item, name, out)
            text = self._item_text(msg, call, item, out, closing=False)
            if text and call.args.empty and not call.deltas:
                call.args.add(text)
                if call.started:
                    out.append(
                        _ARGUMENTS_DELTA(
                            event_index=msg.index, choice=0, index=call.index, delta=text
                        )
                    )
            self._start(msg, call, out)
            if call.final and not call.cut_short:  # its .done came first, only now a name
                self._finalize(msg, call, out)
            return
        # response.output_item.done
        if call is None:  # R01: the item's end is the first we hear of it
            call = self._new(event.output_index, item.id, type)
        elif call.ended:
            self._cross_check(msg, name, call, item, out)
            return
        self._adopt(msg, call, item, name, out)
        text = self._item_text(msg, call, item, out)
        if not call.final:
            self._settle(msg, call, text, name, out)
        elif text is not None and text != call.args.text():
            self._mismatch(msg, call, name, "arguments", call.args.text(), text, out)
        if item.status == "incomplete":  # cut short (max_output_tokens): never a finished call
            self._cut_short(msg, call, out)
            return
        self._finalize(msg, call, out)  # R05: status in_progress is still a finished item

    def _cut_short(self, msg: SSEMessage, call: _Call, out: list[Event]) -> None:
        """An item closed with status ``incomplete``: its text is all there will be, but it is
        not finished; the terminal event (``response.incomplete``) or the end of input cuts
        it."""
        call.final = True
        call.cut_short = True
        self._start(msg, call, out)

    def _pass_item(
        self,
        index: int,
        name: str,
        kind: str,
        output_index: int | None,
        data: bytes | bytearray,
        out: list[Event],
    ) -> None:
        """A non-call item: hosted tools as ``HostedToolEvent`` (R10), the rest (messages,
        reasoning, new item kinds) as ``OtherEvent`` (``index``, ``data``: the SSE event's)."""
        if wire.hosted_item_type(kind) is not None:
            out.append(
                _HOSTED_TOOL_EVENT(
                    event_index=index,
                    type=name,
                    item_type=kind,
                    output_index=output_index,
                    raw=bytes(data),
                )
            )
        else:
            out.append(_OTHER_EVENT(event_index=index, type=name, raw=bytes(data)))

    def _cross_check(
        self, msg: SSEMessage, where: str, call: _Call, item: wire.Item, out: list[Event]
    ) -> None:
        """An item for a call already handed over: compare, report, never re-emit."""
        final = call.frozen
        assert final is not None
        if item.call_id and final.call_id is not None and item.call_id != final.call_id:
            self._mismatch(msg, call, where, "call_id", final.call_id, item.call_id, out)
        if item.name and final.name is not None and item.name != final.name:
            self._mismatch(msg, call, where, "name", final.name, item.name, out)
        text = self._item_text(msg, call, item, out)
        if text is not None and text != final.arguments:
            self._mismatch(msg, call, where, "arguments", final.arguments, text, out)

    def _on_delta(self, msg: SSEMessage, name: str, event: wire.Delta, out: list[Event]) -> None:
        call = self._find(event.output_index, event.item_id)
        if call is None:  # R01: no output_item.added
            type: CallType = "custom" if name.startswith("response.custom") else "function"
            call = self._new(event.output_index, event.item_id, type)
        elif call.ended or call.final:
            self.report_at(
                out,
                msg,
                f"{name} for call {call.index} after its arguments were final",
                call=call,
                data=event.delta,
            )
            return
        piece = event.delta
        if piece:
            call.deltas = True
            call.args.add(piece)
            if call.started:
                out.append(
                    _ARGUMENTS_DELTA(event_index=msg.index, choice=0, index=call.index, delta=piece)
                )

    def _on_arguments_done(
        self, msg: SSEMessage, name: str, event: wire.ArgumentsDone, out: list[Event]
    ) -> None:
        custom = name.startswith("response.custom")
        raw = event.input if custom else event.arguments
        if not wire.raw_value_present(raw):
            raw = event.input if wire.raw_value_present(event.input) else event.arguments
        call = self._find(event.output_index, event.item_id)
        if call is None:  # R01 / R03: the .done is all there is
            type: CallType = "custom" if custom else "function"
            call = self._new(event.output_index, event.item_id, type)
        elif call.ended or call.final:
            text = self._final_text(msg, call, raw, name, out)
            if text is not None and text != call.args.text():
                self._mismatch(msg, call, name, "arguments", call.args.text(), text, out)
            return
        text = self._final_text(msg, call, raw, name, out)
        if event.name and call.name is None:
            call.name = event.name
        self._settle(msg, call, text, name, out)
        call.final = True
        if call.name is not None:
            self._finalize(msg, call, out)
        # else: final text, unknown name: output_item.done or the terminal event names it

    def _merge_output(
        self, msg: SSEMessage, where: str, output: Sequence[wire.Item | msgspec.Raw],
        out: list[Event]
    ) -> None:
        """Compare the terminal ``output`` list with the calls; add calls never streamed.
        Items come decoded, or raw when one of them did not fit (``wire.RawOutputEvent``)."""
        completed = where == "response.completed"
        for position, entry in enumerate(output):
            item = entry if isinstance(entry, wire.Item) else self._raw_item(
                msg, where, position, entry, out)
            if item is None or item.type not in _CALL_ITEMS:
                continue
            call = self._match_output(position, item)
            if call is None:
                type: CallType = "custom" if item.type == "custom_tool_call" else "function"
                index = position if position not in self._by_output else None
                call = self._new(index, item.id, type)
                self._adopt(msg, call, item, where, out)
                self._settle(msg, call, self._item_text(msg, call, item, out), where, out)
                if item.status == "incomplete":
                    self._cut_short(msg, call, out)
                elif completed or item.status == "completed":
                    self._finalize(msg, call, out)
                else:  # a name the stream never sent before: the call starts, then is cut
                    self._start(msg, call, out)
            elif call.ended:
                self._cross_check(msg, where, call, item, out)
            else:
                self._adopt(msg, call, item, where, out)
                text = self._item_text(msg, call, item, out)
                if not call.final:
                    self._settle(msg, call, text, where, out)
                elif text is not None and text != call.args.text():
                    self._mismatch(msg, call, where, "arguments", call.args.text(), text, out)
                self._start(msg, call, out)  # its name may come only now (its items were bad)

    def _raw_item(
        self, msg: SSEMessage, where: str, position: int, raw: msgspec.Raw, out: list[Event]
    ) -> wire.Item | None:
        """An output item left raw, decoded; ``None`` when it is not one to read: an odd item
        that is not a call is none of fcstream's business, an unreadable call is reported."""
        try:
            return wire.ITEM.decode(raw)
        except msgspec.ValidationError:
            try:
                kind = wire.ITEM_KIND.decode(raw).type
            except _UNDECODABLE:
                kind = ""
            if kind in wire.CALL_ITEMS:
                self.payload_error(out, msg, f"{where} output[{position}]: unreadable call item")
        except _UNDECODABLE as exc:
            self.payload_error(out, msg, f"{where} output[{position}]: {exc}")
        return None

    def _match_output(self, position: int, item: wire.Item) -> _Call | None:
        if item.call_id:
            call = self._by_call_id.get(item.call_id)
            if call is not None:
                return call
        call = self._by_output.get(position)
        if call is not None and (item.call_id is None or call.call_id is None):
            return call
        if item.id is not None:
            return self._by_item.get(item.id)
        return None


def expand_parallel(call: ToolCall) -> list[ToolCall]:
    """R09, opt-in: a ``parallel`` wrapper call as the calls it packs; ``[call]`` otherwise.

    Some deployments send one function call named ``parallel`` with arguments
    ``{"tool_uses": [{"recipient_name": "functions.X", "parameters": {...}}, ...]}``. fcstream
    reports it as sent; this splits it into one call per use (name without ``functions.``,
    ``parameters`` as the arguments). As in :meth:`ToolCall.split`, the first keeps the
    ``call_id`` and the others get ``"<call_id>#<n>"``: the provider still expects one result
    for the wrapper's ``call_id``, so combine the outputs before sending them back.

    Raises :class:`ArgumentsError` if a ``parallel`` call's arguments are not one JSON value.
    """
    if call.name != "parallel" or call.type != "function":
        return [call]
    value = call.json()
    uses = value.get("tool_uses") if isinstance(value, dict) else None
    if not isinstance(uses, list) or not uses:
        return [call]
    if not all(isinstance(u, dict) and isinstance(u.get("recipient_name"), str) for u in uses):
        return [call]
    calls: list[ToolCall] = []
    for n, use in enumerate(uses):
        name: str = use["recipient_name"]
        name = name.removeprefix("functions.")
        parameters = use.get("parameters", {})
        call_id = call.call_id if n == 0 or call.call_id is None else f"{call.call_id}#{n}"
        calls.append(
            msgspec.structs.replace(
                call, call_id=call_id, name=name, arguments=_ENCODE.encode(parameters).decode()
            )
        )
    return calls


_HANDLERS: Final[dict[str, Handler]] = {
    "response.created": ResponsesAccumulator._on_started,
    "response.in_progress": ResponsesAccumulator._on_started,
    "response.queued": ResponsesAccumulator._on_started,
    "response.completed": ResponsesAccumulator._on_completed,
    "response.incomplete": ResponsesAccumulator._on_cut_response,
    "response.failed": ResponsesAccumulator._on_cut_response,
    "response.output_item.added": ResponsesAccumulator._on_item,
    "response.output_item.done": ResponsesAccumulator._on_item,
    "response.function_call_arguments.delta": ResponsesAccumulator._on_delta,
    "response.custom_tool_call_input.delta": ResponsesAccumulator._on_delta,
    "response.function_call_arguments.done": ResponsesAccumulator._on_arguments_done,
    "response.custom_tool_call_input.done": ResponsesAccumulator._on_arguments_done,
    "response.output_text.delta": ResponsesAccumulator._on_text,
    "response.refusal.delta": ResponsesAccumulator._on_text,
    "response.reasoning_summary_text.delta": ResponsesAccumulator._on_text,
    "response.reasoning_text.delta": ResponsesAccumulator._on_text,
    "error": ResponsesAccumulator._on_error,
}
