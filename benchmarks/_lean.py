"""``floor + typed events``: the least a parser that hands out fcstream's events can do.

The floor decodes a view that skips text; a parser must also read text, refusals and reasoning
and build one typed event per piece. These candidates do exactly that and nothing more: split
LF lines, decode each ``data: `` payload into fcstream's own view Structs, build fcstream's own
event types (``StreamStarted``, ``CallStarted``, ``ArgumentsDelta``, ``TextDelta``,
``CallDone`` with a ``ToolCall``...), finish calls at the finish reason or at
``[DONE]`` / ``.done``. No SSE rules (CR, comments, multi-line data), no offsets, no
correlation quirks, no cross-checks, no error reports: payloads it cannot read are skipped.
Responses events are typed by the first ``"type":"`` in the payload (OpenAI writes it first);
a recording whose payloads put an item's type first is misread (one in the corpus), which the
report's calls column shows as a difference.

It is not a parser anyone should use. It answers one question for the report: how far above
the floor must any event-producing parser that decodes every payload sit on these streams? Its
distance from the floor is overhead no amount of tuning fcstream's own machinery can remove
(fcstream's templates avoid the decode on repeated shapes, which pays only on longer streams).
"""

from __future__ import annotations

import msgspec

from fcstream._call import Api, ToolCall
from fcstream._events import (
    ArgumentsDelta,
    CallDone,
    CallStarted,
    ChoiceDone,
    Event,
    ReasoningDelta,
    RefusalDelta,
    StreamDone,
    StreamStarted,
    TextDelta,
)
from fcstream._wire_chat import CHUNK, META
from fcstream._wire_responses import DECODERS

from ._workloads import Stream

__all__ = ["lean_calls", "lean_chat", "lean_responses"]

_DATA = b"data: "
_DONE = b"[DONE]"
_UNREADABLE = (msgspec.DecodeError, UnicodeDecodeError)


class _Call:
    __slots__ = ("args", "call_id", "choice", "index", "name")

    def __init__(self, choice: int, index: int, call_id: str | None, name: str | None) -> None:
        self.choice, self.index, self.call_id, self.name = choice, index, call_id, name
        self.args: list[str] = []

    def frozen(self, api: Api) -> ToolCall:
        return ToolCall(call_id=self.call_id, name=self.name, arguments="".join(self.args),
                        index=self.index, choice=self.choice, api=api, item_id=None,
                        type="function", complete=True)


def lean_chat(stream: Stream) -> list[Event]:
    out: list[Event] = []
    add = out.append
    decode = CHUNK.decode
    calls: dict[tuple[int, int | None], _Call] = {}
    counts: dict[int, int] = {}
    opened: dict[int, list[_Call]] = {}
    started = False
    i = -1
    for line in stream.data.split(b"\n"):
        if line[:6] != _DATA:
            continue
        payload = line[6:]
        i += 1
        if payload == _DONE:
            for calls_open in opened.values():
                for call in calls_open:
                    add(CallDone(i, call.frozen("chat")))
            add(StreamDone(i, True, "done", {}))
            break
        try:
            chunk = decode(payload)
        except (msgspec.ValidationError, *_UNREADABLE):
            continue
        if not started:
            meta = META.decode(payload)
            add(StreamStarted(i, "chat", meta.id, meta.model))
            started = True
        for choice in chunk.choices or ():
            c = choice.index
            delta = choice.delta
            if delta is not None:
                if delta.reasoning_content:
                    add(ReasoningDelta(i, c, delta.reasoning_content, "reasoning_content"))
                if delta.content:
                    add(TextDelta(i, c, delta.content))
                if delta.refusal:
                    add(RefusalDelta(i, c, delta.refusal))
                for frag in delta.tool_calls or ():
                    fn = frag.function
                    key = (c, frag.index)
                    call = calls.get(key)
                    if call is None:
                        n = counts.get(c, 0)
                        counts[c] = n + 1
                        call = calls[key] = _Call(c, n, frag.id, fn.name if fn else None)
                        for previous in opened.get(c, ()):
                            add(CallDone(i, previous.frozen("chat")))
                        opened[c] = [call]
                        add(CallStarted(i, c, n, call.call_id, call.name))
                    if fn is not None and fn.arguments:
                        call.args.append(fn.arguments)
                        add(ArgumentsDelta(i, c, call.index, fn.arguments))
            if choice.finish_reason:
                for call in opened.pop(c, ()):
                    add(CallDone(i, call.frozen("chat")))
                add(ChoiceDone(i, c, choice.finish_reason))
    return out


def lean_responses(stream: Stream) -> list[Event]:
    out: list[Event] = []
    add = out.append
    decoders = DECODERS
    calls: dict[int | None, _Call] = {}
    i = -1
    for line in stream.data.split(b"\n"):
        if line[:6] != _DATA:
            continue
        payload = line[6:]
        i += 1
        try:
            # the type by a byte search: OpenAI writes it first (fcstream reads event: lines)
            start = payload.find(b'"type":"')
            end = payload.find(b'"', start + 8)
            kind = payload[start + 8 : end].decode() if start >= 0 else None
            decoder = decoders.get(kind) if kind else None
            if decoder is None:
                continue
            event = decoder.decode(payload)
        except (msgspec.ValidationError, *_UNREADABLE):
            continue
        if kind == "response.function_call_arguments.delta":
            call = calls.get(event.output_index)
            if call is not None and event.delta:
                call.args.append(event.delta)
                add(ArgumentsDelta(i, 0, call.index, event.delta))
        elif kind == "response.output_text.delta":
            add(TextDelta(i, 0, event.delta))
        elif kind == "response.output_item.added":
            item = event.item
            if item is not None and item.type == "function_call":
                call = calls[event.output_index] = _Call(0, len(calls), item.call_id, item.name)
                add(CallStarted(i, 0, call.index, call.call_id, call.name))
        elif kind == "response.function_call_arguments.done":
            call = calls.get(event.output_index)
            if call is not None:
                add(CallDone(i, call.frozen("responses")))
        elif kind == "response.created":
            response = event.response
            add(StreamStarted(i, "responses", response and response.id,
                              response and response.model))
        elif kind == "response.completed":
            add(StreamDone(i, True, "completed", {}))
    return out


def lean_calls(events: list[Event]) -> list[tuple[int, int, str | None, str]]:
    """The calls these candidates finished, in order of first appearance (their
    ``CallStarted``), as fcstream lists them: a call ends later than it starts, so the order
    of ``CallDone`` events is not that order when choices interleave."""
    done = {(e.call.choice, e.call.index): e.call for e in events if isinstance(e, CallDone)}
    starts = [(e.choice, e.index) for e in events if isinstance(e, CallStarted)]
    return [(call.choice, call.index, call.name, call.arguments)
            for call in (done[key] for key in starts if key in done)]
