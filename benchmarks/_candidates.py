"""The parsers compared, one ``Candidate`` each, for both APIs.

Every candidate takes a :class:`~benchmarks._workloads.Stream` and does what it would do with
those bytes; ``calls()`` (untimed) turns its result into comparable calls, so the report can
check that every candidate rebuilt the same arguments before trusting its time.

- ``fcstream``: ``StreamParser().feed(bytes)`` + ``finish()``: the whole stream in one call, in
  1-4 KB network chunks, and one event per read (a live stream: each feed pays its fixed cost).
- ``floor``: the least work that still reads the fields calls are rebuilt from: split lines,
  keep ``data: `` payloads, ``msgspec`` decode into a small view Struct, nothing else. Not a
  parser (no CR, multi-line data or errors): the cost below which no parser can go.
- ``floor + accumulate``: the floor plus appending each fragment to a list, joined at the end.
- ``floor + typed events`` (``_lean``): fcstream's own view Structs and event types built with
  nothing else (no SSE rules, checks or quirks): the least any parser that decodes every
  payload and hands out typed events can cost.
- ``naive``: what people write by hand: ``str`` lines, ``json.loads``, dicts, ``+=`` on strings.
- ``openai SDK``: the SDK's own path from bytes, run through its real classes: ``Stream``
  (``SSEDecoder`` over byte chunks, ``json.loads``, ``construct_type`` into the chunk/event
  models) wrapped in ``ChatCompletionStream`` / ``ResponseStream`` (``ChatCompletionStreamState``
  / ``ResponseStreamState.handle_event``), exactly as ``client.chat.completions.stream()`` and
  ``client.responses.stream()`` do, minus the socket. The HTTP response is replaced by an object
  yielding the same 1-4 KB chunks. No tools are declared, so the SDK's partial JSON parsing of
  strict tools' arguments on every chunk is not paid: a lower bound of its real cost.

Private SDK internals change between versions: a failed import or construction makes the
candidate :class:`Missing` with the reason, which the report prints (never silently skipped).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import msgspec

from fcstream import StreamParser

from ._lean import lean_calls, lean_chat, lean_responses
from ._workloads import Api, Stream

__all__ = ["CallKey", "Candidate", "Missing", "candidates", "fcstream_calls"]

CallKey = tuple[int, int, str | None, str]
"""(choice, position among the choice's calls, name, arguments): what every candidate rebuilds."""


@dataclass(frozen=True)
class Candidate:
    name: str
    run: Callable[[Stream], Any]
    calls: Callable[[Any], list[CallKey]] | None = None  # None: rebuilds nothing (the floor)
    superlinear: bool = False  # cost grows faster than the stream: bounded on huge streams
    floor: bool = False
    sdk: bool = False
    fcstream: bool = False


@dataclass(frozen=True)
class Missing:
    """A candidate that cannot run here, and why."""

    name: str
    reason: str
    sdk: bool = False


# -- fcstream ------------------------------------------------------------------------------


def _fcstream_whole(stream: Stream) -> StreamParser:
    parser = StreamParser()
    parser.feed(stream.data)
    parser.finish()
    return parser


def _fcstream_chunks(stream: Stream) -> StreamParser:
    parser = StreamParser()
    feed = parser.feed
    for chunk in stream.chunks:
        feed(chunk)
    parser.finish()
    return parser


def _fcstream_events(stream: Stream) -> StreamParser:
    parser = StreamParser()
    feed = parser.feed
    for chunk in stream.event_reads:
        feed(chunk)
    parser.finish()
    return parser


def fcstream_calls(parser: Any) -> list[CallKey]:
    """A parser's calls as the rows compare them (any build of fcstream's ``StreamParser``)."""
    return [(c.choice, c.index, c.name, c.arguments) for c in parser.calls]


def _fcstream(api: Api) -> list[Candidate | Missing]:
    if api == "responses":
        try:
            StreamParser(api="responses")
        except ImportError as exc:
            reason = f"fcstream's Responses parser is not available yet ({exc})"
            return [Missing(name, reason) for name in _FCSTREAM_ROWS]
    whole, chunks, events = _FCSTREAM_ROWS
    return [
        Candidate(whole, _fcstream_whole, fcstream_calls, fcstream=True),
        Candidate(chunks, _fcstream_chunks, fcstream_calls),
        Candidate(events, _fcstream_events, fcstream_calls),
    ]


_FCSTREAM_ROWS = ("fcstream", "fcstream, 1-4 KB chunks", "fcstream, 1 event per read")


# -- the floor -----------------------------------------------------------------------------


class _FloorFunction(msgspec.Struct, gc=False):
    name: str | None = None
    arguments: str | None = None


class _FloorToolCall(msgspec.Struct, gc=False):
    index: int = 0
    id: str | None = None
    function: _FloorFunction | None = None


class _FloorDelta(msgspec.Struct, gc=False):
    tool_calls: list[_FloorToolCall] | None = None


class _FloorChoice(msgspec.Struct, gc=False):
    index: int = 0
    delta: _FloorDelta | None = None


class _FloorChunk(msgspec.Struct, gc=False):
    choices: list[_FloorChoice] | None = None


class _FloorItem(msgspec.Struct, gc=False):
    type: str = ""
    id: str | None = None
    call_id: str | None = None
    name: str | None = None


class _FloorEvent(msgspec.Struct, gc=False):
    type: str = ""
    output_index: int | None = None
    item_id: str | None = None
    delta: str | None = None
    item: _FloorItem | None = None


_FLOOR_CHAT = msgspec.json.Decoder(_FloorChunk)
_FLOOR_RESPONSES = msgspec.json.Decoder(_FloorEvent)
_DATA = b"data: "
_DONE = b"[DONE]"


def _payloads(data: bytes) -> Iterator[bytes]:
    """``data: `` payloads of an LF-only stream: the split the floor candidates share."""
    for line in data.split(b"\n"):
        if line[:6] == _DATA:
            payload = line[6:]
            if payload != _DONE:
                yield payload


def _floor_chat(stream: Stream) -> None:
    # Inlined rather than calling _payloads: a generator adds per-event cost the floor must not.
    decode = _FLOOR_CHAT.decode
    for line in stream.data.split(b"\n"):
        if line[:6] == _DATA:
            payload = line[6:]
            if payload != _DONE:
                decode(payload)


def _floor_responses(stream: Stream) -> None:
    decode = _FLOOR_RESPONSES.decode
    for line in stream.data.split(b"\n"):
        if line[:6] == _DATA:
            decode(line[6:])


def _floor_acc_chat(stream: Stream) -> dict[tuple[int, int], list[Any]]:
    decode = _FLOOR_CHAT.decode
    calls: dict[tuple[int, int], list[Any]] = {}
    for payload in _payloads(stream.data):
        choices = decode(payload).choices
        if not choices:
            continue
        for choice in choices:
            delta = choice.delta
            if delta is None or not delta.tool_calls:
                continue
            for frag in delta.tool_calls:
                fn = frag.function
                key = (choice.index, frag.index)
                call = calls.get(key)
                if call is None:
                    call = calls[key] = [None, []]
                if fn is not None:
                    if fn.name:
                        call[0] = fn.name
                    if fn.arguments:
                        call[1].append(fn.arguments)
    for call in calls.values():
        call[1] = "".join(call[1])
    return calls


def _floor_acc_responses(stream: Stream) -> dict[int, list[Any]]:
    decode = _FLOOR_RESPONSES.decode
    calls: dict[int, list[Any]] = {}
    for payload in _payloads(stream.data):
        event = decode(payload)
        kind = event.type
        if kind == "response.function_call_arguments.delta":
            calls[event.output_index or 0][1].append(event.delta)
        elif kind == "response.output_item.added":
            item = event.item
            if item is not None and item.type == "function_call":
                calls[event.output_index or 0] = [item.name, []]
    for call in calls.values():
        call[1] = "".join(call[1])
    return calls


def _keyed_calls(calls: dict[Any, list[Any]]) -> list[CallKey]:
    """Calls keyed (choice, wire index) or output_index -> positions in order of first sight."""
    out: list[CallKey] = []
    seen: dict[int, int] = {}
    for key, (name, arguments) in calls.items():
        choice = key[0] if isinstance(key, tuple) else 0
        position = seen.get(choice, 0)
        seen[choice] = position + 1
        out.append((choice, position, name, arguments))
    return out


# -- naive json.loads accumulation ---------------------------------------------------------


def _naive_chat(stream: Stream) -> dict[tuple[int, int], dict[str, Any]]:
    calls: dict[tuple[int, int], dict[str, Any]] = {}
    for line in stream.data.decode().splitlines():
        if not line.startswith("data: "):
            continue
        payload = line[6:]
        if payload == "[DONE]":
            break
        chunk = json.loads(payload)
        for choice in chunk.get("choices") or []:
            delta = choice.get("delta") or {}
            for frag in delta.get("tool_calls") or []:
                key = (choice.get("index", 0), frag.get("index", 0))
                call = calls.get(key)
                if call is None:
                    call = calls[key] = {"id": frag.get("id"), "name": None, "arguments": ""}
                fn = frag.get("function") or {}
                if fn.get("name"):
                    call["name"] = fn["name"]
                if fn.get("arguments"):
                    call["arguments"] += fn["arguments"]
    return calls


def _naive_responses(stream: Stream) -> dict[int, dict[str, Any]]:
    calls: dict[int, dict[str, Any]] = {}
    for line in stream.data.decode().splitlines():
        if not line.startswith("data: "):
            continue
        event = json.loads(line[6:])
        kind = event.get("type")
        if kind == "response.function_call_arguments.delta":
            calls[event["output_index"]]["arguments"] += event["delta"]
        elif kind == "response.output_item.added":
            item = event.get("item") or {}
            if item.get("type") == "function_call":
                calls[event["output_index"]] = {
                    "id": item.get("call_id"),
                    "name": item.get("name"),
                    "arguments": "",
                }
        elif kind == "response.function_call_arguments.done":
            calls[event["output_index"]]["arguments"] = event["arguments"]
    return calls


def _naive_calls(calls: dict[Any, dict[str, Any]]) -> list[CallKey]:
    return _keyed_calls({k: [v["name"], v["arguments"]] for k, v in calls.items()})


# -- the openai SDK ------------------------------------------------------------------------


class _BytesResponse:
    """What ``openai.Stream`` reads from its ``httpx`` response: ``iter_bytes()``, ``close()``."""

    http_version = "HTTP/1.1"
    request = None
    status_code = 200

    def __init__(self, chunks: tuple[bytes, ...]) -> None:
        self._chunks = chunks

    def iter_bytes(self, chunk_size: int | None = None) -> Iterator[bytes]:
        return iter(self._chunks)

    def close(self) -> None:
        pass


def _sdk_version() -> str:
    try:
        import openai
    except ImportError:
        return "not installed"
    return str(openai.__version__)


def _sdk_client() -> Any:
    from openai import OpenAI

    # No request is ever sent: the client only lends Stream its SSE decoder and model builder.
    return OpenAI(api_key="sk-benchmark", base_url="http://127.0.0.1:9/v1", max_retries=0)


def _sdk_omit() -> Any:
    import openai._types as types

    for name in ("omit", "NOT_GIVEN"):
        if hasattr(types, name):
            return getattr(types, name)
    raise ImportError("openai._types has neither omit nor NOT_GIVEN")


def _openai_chat() -> Candidate | Missing:
    name = "openai SDK (ChatCompletionStream)"
    try:
        from openai._streaming import Stream as SDKStream
        from openai.lib.streaming.chat import ChatCompletionStream
        from openai.types.chat import ChatCompletionChunk

        client = _sdk_client()
        omit = _sdk_omit()
    except Exception as exc:  # any import or construction failure: report, never skip
        return Missing(name, f"openai {_sdk_version()}: {type(exc).__name__}: {exc}", sdk=True)

    def run(stream: Stream) -> Any:
        raw = SDKStream(
            cast_to=ChatCompletionChunk, response=_BytesResponse(stream.chunks), client=client
        )
        sdk_stream = ChatCompletionStream(raw_stream=raw, response_format=omit, input_tools=omit)
        for _event in sdk_stream:
            pass
        return sdk_stream

    def calls(sdk_stream: Any) -> list[CallKey]:
        out: list[CallKey] = []
        for choice in sdk_stream.current_completion_snapshot.choices:
            for i, call in enumerate(choice.message.tool_calls or []):
                out.append((choice.index, i, call.function.name, call.function.arguments))
        return out

    return Candidate(name, run, calls, superlinear=True, sdk=True)


def _openai_responses() -> Candidate | Missing:
    name = "openai SDK (ResponseStream)"
    try:
        from openai._streaming import Stream as SDKStream
        from openai.lib.streaming.responses import ResponseStream
        from openai.types.responses import ResponseStreamEvent

        client = _sdk_client()
        omit = _sdk_omit()
    except Exception as exc:
        return Missing(name, f"openai {_sdk_version()}: {type(exc).__name__}: {exc}", sdk=True)

    def run(stream: Stream) -> Any:
        raw = SDKStream(
            cast_to=ResponseStreamEvent, response=_BytesResponse(stream.chunks), client=client
        )
        sdk_stream = ResponseStream(
            raw_stream=raw, text_format=omit, input_tools=omit, starting_after=None
        )
        done = []
        for event in sdk_stream:
            if event.type == "response.output_item.done" and event.item.type == "function_call":
                done.append(event.item)
        return done

    def calls(items: list[Any]) -> list[CallKey]:
        return [(0, i, item.name, item.arguments) for i, item in enumerate(items)]

    return Candidate(name, run, calls, superlinear=True, sdk=True)


# -- the lists -----------------------------------------------------------------------------


def candidates(api: Api) -> list[Candidate | Missing]:
    """Every candidate for ``api``, in table order (fcstream first, the SDK last)."""
    out = _fcstream(api)
    if api == "chat":
        out += [
            Candidate("floor (split + msgspec view)", _floor_chat, floor=True),
            Candidate("floor + accumulate", _floor_acc_chat, _keyed_calls),
            Candidate("floor + typed events", lean_chat, lean_calls),
            Candidate("naive json.loads + str +=", _naive_chat, _naive_calls, superlinear=True),
            _openai_chat(),
        ]
    else:
        out += [
            Candidate("floor (split + msgspec view)", _floor_responses, floor=True),
            Candidate("floor + accumulate", _floor_acc_responses, _keyed_calls),
            Candidate("floor + typed events", lean_responses, lean_calls),
            Candidate(
                "naive json.loads + str +=", _naive_responses, _naive_calls, superlinear=True
            ),
            _openai_responses(),
        ]
    return out
