"""StreamParser on Chat Completions streams: the API contract, strict and lenient, the adapters'
entry points (iter_events, aiter_events, iter_calls, collect) over the shapes a caller holds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import httpx_sse
import pytest

import fcstream
from fcstream import (
    ArgumentsDelta,
    CallDone,
    CallIncomplete,
    CallStarted,
    ChoiceDone,
    ErrorEvent,
    Event,
    FcstreamError,
    PayloadError,
    ProtocolError,
    ProviderError,
    SSEFramer,
    StreamDone,
    StreamFormatError,
    StreamParser,
    StreamStarted,
    TextDelta,
    UsageError,
    aiter_calls,
    aiter_events,
    collect,
    iter_calls,
    iter_events,
)
from fixtures.generate import chat_stream, synthetic_calls

from .conftest import CORPUS, FIXTURES
from .feed import byte_by_byte, normalize, without_offsets

QUIRKS = FIXTURES / "quirks"


def quirk(name: str) -> bytes:
    return (QUIRKS / f"{name}.sse").read_bytes()


def corpus(name: str) -> bytes:
    (path,) = CORPUS.glob(f"*/{name}")
    return path.read_bytes()


def sse(*payloads: Any) -> bytes:
    return b"".join(
        b"data: " + (p if isinstance(p, bytes) else json.dumps(p).encode()) + b"\n\n"
        for p in payloads
    )


def fragment(**kw: Any) -> dict[str, Any]:
    function = {k: kw.pop(k) for k in ("name", "arguments") if k in kw}
    return {**kw, "function": function}


def chunk(*fragments: dict[str, Any], finish: str | None = None, choice: int = 0) -> dict[str, Any]:
    delta = {"tool_calls": list(fragments)} if fragments else {}
    return {
        "id": "chatcmpl-1",
        "model": "m",
        "choices": [{"index": choice, "delta": delta, "finish_reason": finish}],
    }


TWO_CALLS = sse(
    chunk(fragment(index=0, id="a", name="f", arguments='{"x":')),  # 0
    chunk(fragment(index=0, arguments="1}")),  # 1
    chunk(fragment(index=1, id="b", name="g", arguments="{}")),  # 2: a final
    chunk(finish="tool_calls"),  # 3: b final
    b"[DONE]",  # 4
)
INTERLEAVED = quirk("chat-C21-interleaved")  # ProtocolError at event 2


def upto(data: bytes, events: int) -> int:
    """The offset just after the first ``events`` SSE events of ``data`` (LF-framed)."""
    end = 0
    for _ in range(events):
        end = data.index(b"\n\n", end) + 2
    return end


def run(data: bytes, **kwargs: Any) -> tuple[list[Event], StreamParser]:
    parser = StreamParser(**kwargs)
    events = parser.feed(data)
    events += parser.finish()
    return events, parser


# -- lifecycle ---------------------------------------------------------------------------------


def test_feed_after_finish_is_a_usage_error() -> None:
    parser = StreamParser("chat")
    parser.feed(TWO_CALLS)
    parser.finish()
    with pytest.raises(UsageError):
        parser.feed(b"data: [DONE]\n\n")
    with pytest.raises(UsageError):
        parser.feed(b"")
    with pytest.raises(UsageError):
        parser.feed_event("message", "[DONE]")
    with pytest.raises(UsageError):
        parser.finish()
    assert isinstance(UsageError("x"), RuntimeError)


def test_unknown_api_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        StreamParser("completions")  # type: ignore[arg-type]


def test_api_is_detected_from_the_first_payload() -> None:
    parser = StreamParser()
    assert parser.api is None
    assert parser.feed(b": ping\n\n") == []
    assert parser.api is None
    parser.feed(sse(chunk()))
    assert parser.api == "chat"


def test_empty_stream_finishes_as_a_truncated_chat_stream() -> None:
    parser = StreamParser()
    (done,) = parser.finish()
    assert isinstance(done, StreamDone)
    assert (done.status, done.complete, done.event_index) == ("truncated", False, 0)
    assert parser.api == "chat"
    assert parser.calls == []


def test_events_of_a_simple_stream_in_order() -> None:
    events, parser = run(TWO_CALLS)
    a = parser.calls[0]
    b = parser.calls[1]
    assert events == [
        StreamStarted(event_index=0, api="chat", response_id="chatcmpl-1", model="m"),
        CallStarted(event_index=0, choice=0, index=0, call_id="a", name="f"),
        ArgumentsDelta(event_index=0, choice=0, index=0, delta='{"x":'),
        ArgumentsDelta(event_index=1, choice=0, index=0, delta="1}"),
        CallDone(event_index=2, call=a),
        CallStarted(event_index=2, choice=0, index=1, call_id="b", name="g"),
        ArgumentsDelta(event_index=2, choice=0, index=1, delta="{}"),
        CallDone(event_index=3, call=b),
        ChoiceDone(event_index=3, choice=0, finish_reason="tool_calls"),
        StreamDone(event_index=4, complete=True, status="done", finish_reasons={0: "tool_calls"}),
    ]
    assert (a.arguments, a.complete, b.arguments, b.complete) == ('{"x":1}', True, "{}", True)
    assert parser.finish_reasons == {0: "tool_calls"}
    assert parser.events_seen == 5


def test_one_feed_closing_one_call_and_opening_the_next_returns_both() -> None:
    parser = StreamParser("chat")
    parser.feed(TWO_CALLS[: upto(TWO_CALLS, 2)])
    events = parser.feed(TWO_CALLS[upto(TWO_CALLS, 2) : upto(TWO_CALLS, 3)])
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["CallDone", "CallStarted", "ArgumentsDelta"]
    assert {e.event_index for e in events} == {2}


# -- .calls --------------------------------------------------------------------------------------


def test_calls_include_open_calls_as_incomplete_copies() -> None:
    parser = StreamParser("chat")
    parser.feed(TWO_CALLS[: upto(TWO_CALLS, 2)])
    (open_call,) = parser.calls
    assert (open_call.call_id, open_call.arguments, open_call.complete) == ("a", '{"x":1}', False)
    events = parser.feed(TWO_CALLS[upto(TWO_CALLS, 2) :])
    done = next(e for e in events if isinstance(e, CallDone))
    assert parser.calls[0] is done.call  # the frozen object, handed over once
    assert [c.complete for c in parser.calls] == [True, True]


def test_finish_returns_open_calls_incomplete_never_done() -> None:
    parser = StreamParser("chat")
    parser.feed(TWO_CALLS[: upto(TWO_CALLS, 3)])
    events = parser.finish()
    assert [type(e).__name__ for e in events] == ["CallIncomplete", "StreamDone"]
    incomplete = events[0]
    assert isinstance(incomplete, CallIncomplete)
    assert (incomplete.reason, incomplete.event_index, incomplete.call.arguments) == (
        "truncated",
        3,
        "{}",
    )
    assert incomplete.call.complete is False
    assert events[1] == StreamDone(event_index=3, complete=False, status="truncated")


# -- strict and lenient --------------------------------------------------------------------------


def test_strict_raises_lenient_reports() -> None:
    with pytest.raises(ProtocolError) as info:
        run(INTERLEAVED, api="chat", strict=True)
    assert (info.value.event_index, info.value.call_id, info.value.data) == (2, "a", "1}")

    events, _ = run(INTERLEAVED, api="chat", strict=False)
    (error,) = [e for e in events if isinstance(e, ErrorEvent)]
    assert error.error == info.value
    assert error.event_index == 2


def test_strict_is_the_default() -> None:
    assert StreamParser().strict is True
    with pytest.raises(ProtocolError):
        run(INTERLEAVED)


def test_exception_keeps_the_events_and_later_messages_wait_for_the_next_call() -> None:
    lenient, _ = run(INTERLEAVED, api="chat", strict=False)
    parser = StreamParser("chat")
    with pytest.raises(ProtocolError) as info:
        parser.feed(INTERLEAVED)
    before = info.value.events
    assert before == [e for e in lenient if e.event_index <= 2 and not isinstance(e, ErrorEvent)]
    # events 3..5 were framed by that same feed(); they are applied on the next call
    assert [c.arguments for c in parser.calls] == ['{"a":', '{"b":']
    after = parser.feed(b"")
    assert after == [e for e in lenient if e.event_index > 2 and not isinstance(e, ErrorEvent)]
    assert [c.arguments for c in parser.calls] == ['{"a":', '{"b":2}']
    assert parser.finish() == []  # [DONE] already ended the stream


def test_pending_messages_are_applied_by_finish() -> None:
    parser = StreamParser("chat")
    with pytest.raises(ProtocolError):
        parser.feed(INTERLEAVED)
    events = parser.finish()
    assert isinstance(events[-1], StreamDone)
    assert events[-1].complete is True
    assert [c.complete for c in parser.calls] == [True, True]


def test_payload_errors_are_not_sticky() -> None:
    data = sse(chunk(fragment(index=0, id="a", name="f", arguments="{}"))) + b"data: {oops\n\n"
    data += sse(chunk(finish="tool_calls"), b"[DONE]")
    parser = StreamParser("chat")
    with pytest.raises(PayloadError) as info:
        parser.feed(data)
    error = info.value
    assert type(error) is PayloadError
    assert (error.api, error.event_index, error.event, error.excerpt) == (
        "chat",
        1,
        "message",
        "{oops",
    )
    assert error.byte_offset == data.index(b"data: {oops")
    events = parser.feed(b"")
    assert [type(e).__name__ for e in events] == ["CallDone", "ChoiceDone", "StreamDone"]


def test_several_errors_in_one_feed_raise_one_at_a_time() -> None:
    data = b"data: {bad1\n\ndata: {bad2\n\n" + sse(chunk(finish="stop"), b"[DONE]")
    parser = StreamParser("chat")
    raised = []
    events: list[Event] = []
    chunk_ = data
    while True:
        try:
            events += parser.feed(chunk_)
            break
        except PayloadError as exc:
            raised.append(exc.event_index)
            events += exc.events
            chunk_ = b""
    assert raised == [0, 1]
    assert isinstance(events[-1], StreamDone)


def test_auto_detection_with_a_bad_first_payload() -> None:
    parser = StreamParser()
    with pytest.raises(PayloadError) as info:
        parser.feed(b"data: not json\n\n")
    assert info.value.api is None
    assert parser.api is None
    parser.feed(sse(chunk(finish="stop")))
    assert parser.api == "chat"


def test_provider_errors_are_events_even_in_strict_mode() -> None:
    events, parser = run(quirk("chat-C20-error-object"), strict=True)
    (error,) = [e.error for e in events if isinstance(e, ErrorEvent)]
    assert isinstance(error, ProviderError)
    assert (error.message, error.type, error.code, error.event_index) == (
        "overloaded",
        "server_error",
        "503",
        2,
    )
    assert error.raw.startswith(b'{"error"')
    assert [c.complete for c in parser.calls] == [True, False]


def test_finish_raises_in_strict_mode_with_its_events() -> None:
    data = quirk("sse-S07-data-after-done")
    parser = StreamParser("chat")
    with pytest.raises(ProtocolError) as first:
        parser.feed(data)
    assert first.value.event_index == 5
    with pytest.raises(ProtocolError) as second:
        parser.finish()
    assert second.value.event_index == 6
    assert second.value.byte_offset == data.rindex(b"data: ")
    assert second.value.events == []
    with pytest.raises(UsageError):
        parser.finish()


# -- framing errors ------------------------------------------------------------------------------


def test_event_over_the_size_cap_is_sticky_and_keeps_what_came_before() -> None:
    parser = StreamParser("chat", max_event_bytes=300)
    head = sse(chunk(fragment(index=0, id="a", name="f", arguments='{"x":1}')))
    with pytest.raises(StreamFormatError) as info:
        parser.feed(head + b"data: " + b"x" * 400 + b"\n\n")
    assert [type(e).__name__ for e in info.value.events] == [
        "StreamStarted",
        "CallStarted",
        "ArgumentsDelta",
    ]
    assert info.value.byte_offset == len(head)
    with pytest.raises(StreamFormatError):
        parser.feed(sse(chunk(finish="tool_calls")))
    events = parser.finish()
    assert [type(e).__name__ for e in events] == ["CallIncomplete", "StreamDone"]
    assert parser.calls[0].arguments == '{"x":1}'


def test_lenient_mode_still_raises_framing_errors() -> None:
    parser = StreamParser("chat", strict=False, max_event_bytes=10)
    with pytest.raises(StreamFormatError):
        parser.feed(b"data: " + b"x" * 100)


# -- feed_event ----------------------------------------------------------------------------------


def by_feed_event(data: bytes, **kwargs: Any) -> list[Event]:
    parser = StreamParser(strict=False, **kwargs)
    framer = SSEFramer()
    events: list[Event] = []
    for message in framer.feed(data):
        events += parser.feed_event(message.event, message.data)
    events += parser.finish()
    return events


@pytest.mark.parametrize(
    "data",
    [
        TWO_CALLS,
        INTERLEAVED,
        quirk("chat-C12-arguments-as-object"),
        quirk("chat-C18-n-choices"),
        quirk("chat-C09-nameless-call"),
        quirk("sse-S03-event-id-retry"),
        corpus("chat-parallel-tool-calls-01.sse"),
        corpus("pydantic-ai-chat-openrouter-stream-reasoning-01.sse"),
    ],
    ids=["two-calls", "C21", "C12", "C18", "C09", "S03", "parallel", "openrouter"],
)
def test_feed_event_gives_the_same_events_as_feed(data: bytes) -> None:
    fed, _ = run(data, strict=False)
    framed = by_feed_event(data)
    assert without_offsets(framed) == without_offsets(fed)
    errors = [e.error for e in framed if isinstance(e, ErrorEvent)]
    assert all(e.byte_offset == -1 for e in errors if isinstance(e, PayloadError))


FIXTURE_STREAMS = sorted((FIXTURES / "providers").glob("*.sse")) + sorted(QUIRKS.glob("*.sse"))


@pytest.mark.parametrize(
    "path", FIXTURE_STREAMS, ids=[f"{p.parent.name}/{p.stem}" for p in FIXTURE_STREAMS]
)
def test_feed_event_matches_feed_on_every_fixture(path: Path) -> None:
    """``feed`` takes the hot path (runs of plain events applied inline); ``feed_event`` takes
    ``handle`` for every event. Same events, same calls, on every stream the fixtures hold.
    Only what ``finish()`` makes of unterminated bytes, which ``feed_event`` never sees, may
    differ."""
    data = path.read_bytes()
    fed, parser = run(data, strict=False)
    framer = SSEFramer()
    messages = framer.feed(data)
    if framer.finish().truncated:
        count = len(messages)
        fed = [e for e in fed if e.event_index < count]
        framed = [e for e in by_feed_event(data) if e.event_index < count]
    else:
        framed = by_feed_event(data)
    assert without_offsets(framed) == without_offsets(fed)
    other = StreamParser(strict=False)
    for message in messages:
        other.feed_event(message.event, message.data)
    other.finish()
    assert other.calls == parser.calls


@pytest.mark.parametrize("name", ["chat-C20-error-object", "responses-R07-error-then-failed",
                                  "chat-C20-error-top-level-then-done"])
def test_a_provider_error_names_where_its_event_starts(name: str) -> None:
    data = quirk(name)
    starts = {m.index: m.offset for m in SSEFramer().feed(data)}
    events, _ = run(data, strict=False)
    errors = [e.error for e in events
              if isinstance(e, ErrorEvent) and isinstance(e.error, ProviderError)]
    assert errors
    for error in errors:
        assert error.byte_offset == starts[error.event_index] > 0
        assert data[error.byte_offset :].startswith((b"data:", b"event:"))


def test_feed_event_takes_str_and_defaults_the_event_type() -> None:
    parser = StreamParser("chat", strict=False)
    events = parser.feed_event(None, json.dumps(chunk(fragment(index=0, id="a", name="f"))))
    assert [type(e).__name__ for e in events] == ["StreamStarted", "CallStarted"]
    events = parser.feed_event("error", '{"error":{"message":"boom"}}')
    assert isinstance(events[-1], ErrorEvent)
    assert isinstance(events[-1].error, ProviderError)
    assert parser.events_seen == 2


def test_feed_event_numbers_events_after_framed_ones() -> None:
    parser = StreamParser("chat")
    parser.feed(sse(chunk()))
    (delta,) = parser.feed_event("message", json.dumps({"choices": [{"delta": {"content": "x"}}]}))
    assert isinstance(delta, TextDelta)
    assert delta.event_index == 1


# -- collect and the iterators -------------------------------------------------------------------


def test_collect_result_fields() -> None:
    result = collect(quirk("chat-C17-reasoning"))
    assert result.api == "chat"
    assert [(c.call_id, c.name, c.arguments, c.complete) for c in result.calls] == [
        ("a", "f", "{}", True)
    ]
    assert result.texts == {0: "Answer done"}
    assert result.text == "Answer done"
    assert result.reasoning == {0: "Think A. Think B. Think C."}
    assert result.refusals == {}
    assert result.finish_reasons == {0: "tool_calls"}
    assert result.usage is None
    assert (result.complete, result.status) == (True, "done")
    assert result.errors == []
    assert (result.response_id, result.model) == ("chatcmpl-quirk", "quirk-model")
    assert result.events == 7


def test_collect_usage_refusals_and_errors() -> None:
    result = collect(corpus("chat-refusal-01.sse"))
    assert result.refusals[0].startswith("I'm very sorry")
    assert result.usage is not None
    assert result.usage["total_tokens"] > 0

    errored = collect(quirk("chat-C20-error-object"))
    assert (errored.complete, errored.status) == (False, "error")
    assert [type(e).__name__ for e in errored.errors] == ["ProviderError"]
    with pytest.raises(ProviderError):
        errored.raise_for_error()

    lenient = collect(INTERLEAVED, strict=False)
    assert [type(e).__name__ for e in lenient.errors] == ["ProtocolError"]
    with pytest.raises(ProtocolError):
        collect(INTERLEAVED)


def test_collect_of_a_truncated_stream() -> None:
    result = collect(quirk("sse-S09-closed-mid-event"))
    assert (result.complete, result.status) == (False, "truncated")
    assert [c.complete for c in result.calls] == [True, False]


def chunk_list(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def server_sent_events(data: bytes) -> list[httpx_sse.ServerSentEvent]:
    return [
        httpx_sse.ServerSentEvent(event=m.event, data=m.data.decode(), id=m.id, retry=m.retry)
        for m in SSEFramer().feed(data)
    ]


SOURCES = {
    "bytes": lambda d: d,
    "chunks": lambda d: chunk_list(d, 7),
    "bytes-by-byte": byte_by_byte,
    "generator": lambda d: (c for c in chunk_list(d, 100)),
    "httpx-sse": server_sent_events,
}


@pytest.mark.parametrize("source", SOURCES)
def test_iter_events_over_every_source(source: str) -> None:
    data = corpus("chat-parallel-tool-calls-01.sse")
    expected, _ = run(data)
    events = list(iter_events(SOURCES[source](data)))
    assert normalize(events) == normalize(expected)
    calls = list(iter_calls(SOURCES[source](data)))
    assert [c.name for c in calls] == ["GetWeatherArgs", "get_stock_price"]
    assert all(c.complete for c in calls)


@pytest.mark.parametrize("source", SOURCES)
async def test_aiter_events_over_every_source(source: str) -> None:
    data = quirk("chat-C18-n-choices")
    expected, _ = run(data)
    events = [e async for e in aiter_events(SOURCES[source](data))]
    assert normalize(events) == normalize(expected)
    calls = [c async for c in aiter_calls(SOURCES[source](data))]
    assert [(c.call_id, c.choice) for c in calls] == [("a0", 0), ("a1", 1), ("b0", 0)]


async def test_aiter_events_over_an_async_iterable_of_chunks() -> None:
    data = TWO_CALLS

    async def chunks() -> Any:
        for piece in chunk_list(data, 5):
            yield piece

    events = [e async for e in aiter_events(chunks())]
    assert normalize(events) == normalize(run(data)[0])


def test_iter_calls_skips_incomplete_calls() -> None:
    data = quirk("chat-F3-length-cut")
    assert [c.call_id for c in iter_calls(data)] == ["a"]


def test_iter_events_with_a_parser_keeps_the_calls_after_an_error() -> None:
    parser = StreamParser("chat")
    with pytest.raises(ProtocolError):
        list(iter_events(INTERLEAVED, parser=parser))
    assert [c.call_id for c in parser.calls] == ["a", "b"]


def test_iter_events_lenient() -> None:
    events = list(iter_events(INTERLEAVED, strict=False))
    assert any(isinstance(e, ErrorEvent) for e in events)
    assert isinstance(events[-1], StreamDone)


def test_httpx_sse_ping_without_data_is_skipped() -> None:
    items = [
        httpx_sse.ServerSentEvent(event="ping", data=""),
        *server_sent_events(TWO_CALLS),
    ]
    events = list(iter_events(items))
    assert normalize(events) == normalize(run(TWO_CALLS)[0])


def test_unreadable_items_are_a_usage_error() -> None:
    with pytest.raises(FcstreamError):
        list(iter_events([object()]))


# -- the corpus, whole and byte by byte ----------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "chat-tool-call-single-01.sse",
        "openllmetry-chat-writer-async-stream-chat-multiple-tool-call-requ-01.sse",
        "pydantic-ai-chat-deepseek-model-thinking-stream-01.sse",
    ],
)
def test_recordings_byte_by_byte(name: str) -> None:
    data = corpus(name)
    parser = StreamParser(strict=True)
    events: list[Event] = []
    for piece in byte_by_byte(data):
        events += parser.feed(piece)
    events += parser.finish()
    assert normalize(events) == normalize(run(data)[0])


def test_empty_data_passes_through_without_error() -> None:
    # `data:` alone is valid SSE (an empty data line) and carries nothing to decode: it must not
    # be reported as bad JSON, nor decide the API.
    parser = StreamParser(strict=True)
    events = parser.feed(b"data:\n\ndata: \n\n")
    assert [type(e).__name__ for e in events] == ["OtherEvent", "OtherEvent"]
    assert parser.api is None
    events = parser.feed(b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n')
    assert parser.api == "chat"


def test_json_error_body_instead_of_a_stream_is_a_provider_error() -> None:
    # S08: HTTP 200 with a JSON error body, fed as raw bytes (requests' iter_content, aiohttp).
    body = (
        b'{\n  "error": {\n    "message": "Incorrect API key",\n'
        b'    "type": "invalid_request_error",\n    "code": "invalid_api_key"\n  }\n}\n'
    )
    parser = StreamParser()
    assert parser.feed(body[:10]) == []
    assert parser.feed(body[10:]) == []
    events = parser.finish()
    errors = [e.error for e in events if isinstance(e, fcstream.ErrorEvent)]
    assert len(errors) == 1
    error = errors[0]
    assert isinstance(error, fcstream.ProviderError)
    assert (error.message, error.code, error.type) == (
        "Incorrect API key",
        "invalid_api_key",
        "invalid_request_error",
    )
    assert error.raw == body
    done = events[-1]
    assert isinstance(done, fcstream.StreamDone)
    assert (done.complete, done.status) == (False, "error")


def test_collect_counts_sse_events_not_end_of_input_events() -> None:
    stream = b'data: {"choices":[{"index":0,"delta":{"content":"a"},"finish_reason":"stop"}]}\n\n'
    result = fcstream.collect(stream)
    assert result.events == 1
    assert result.status == "finished"


@pytest.mark.parametrize(
    ("meta", "started"),
    [
        ({"id": "chatcmpl-9", "model": "m"}, ("chatcmpl-9", "m")),
        ({"id": 7, "model": "m"}, (None, None)),  # an odd type: metadata is optional
        ({"id": "", "model": ""}, (None, None)),  # C14: empty until a later chunk says
    ],
)
def test_stream_metadata_read_with_the_first_chunk(
    meta: dict[str, Any], started: tuple[str | None, str | None]
) -> None:
    """A run reads id and model in the first chunk's own decode; the result is the one
    message by message (which reads them in a second pass) gives."""
    first = {**chunk(fragment(index=0, id="a", name="f", arguments="{}")), **meta}
    data = sse(first, chunk(finish="tool_calls"), b"[DONE]")
    events, _ = run(data)
    [start] = [e for e in events if isinstance(e, StreamStarted)]
    assert (start.response_id, start.model) == started
    one_by_one = StreamParser()
    framed = [e for m in SSEFramer().feed(data) for e in one_by_one.feed_event(m.event, m.data)]
    assert events == framed + one_by_one.finish()


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n"])
def test_a_bad_byte_in_a_field_not_read_leaves_the_metadata_alone(line_end: bytes) -> None:
    """msgspec skips a field it does not read without looking inside it: an ``object`` with
    a byte that is not UTF-8 must not hide the id and model on one way in and not on
    another (found by fuzzing: a whole CRLF stream read them in a second pass that also read
    ``object``, a live read did not)."""
    first = json.dumps({**chunk(fragment(index=0, id="a", name="f", arguments="{}")),
                        "object": "chat.completion.chunk"}).encode()
    first = first.replace(b"chat.completion", b"chat\xeb.completion")
    data = sse(first, chunk(finish="tool_calls"), b"[DONE]").replace(b"\n", line_end)
    events, _ = run(data)
    [start] = [e for e in events if isinstance(e, StreamStarted)]
    assert (start.response_id, start.model) == ("chatcmpl-1", "m")
    for reads in (byte_by_byte(data), [data[:40], data[40:]]):
        parser = StreamParser()
        assert [e for r in reads for e in parser.feed(r)] + parser.finish() == events
    one_by_one = StreamParser()
    framed = [e for m in SSEFramer().feed(data) for e in one_by_one.feed_event(m.event, m.data)]
    assert framed + one_by_one.finish() == events


# -- correlation, cut reasons and odd payloads seen in provider streams ------------------------


def calls_of(data: bytes, **kwargs: Any) -> list[tuple[str | None, str | None, str, bool]]:
    _, parser = run(data, strict=False, **kwargs)
    return [(c.call_id, c.name, c.arguments, c.complete) for c in parser.calls]


def test_an_index_never_seen_starts_a_call_even_when_its_id_repeats() -> None:
    data = sse(
        chunk(fragment(index=0, id="call_0", name="f", arguments="{}")),
        chunk(fragment(index=1, id="call_0", name="g", arguments="[]")),
        chunk(finish="tool_calls"),
        b"[DONE]",
    )
    assert calls_of(data) == [("call_0", "f", "{}", True), ("call_0", "g", "[]", True)]


def test_a_nameless_fragment_with_another_id_continues_the_call_at_its_index() -> None:
    # Poolside: one id with the name, another on every continuation; the first id is kept
    data = sse(
        chunk(fragment(index=0, id="a", name="f", arguments="")),
        chunk(fragment(index=0, id="b", arguments='{"x":')),
        chunk(fragment(index=0, id="b", arguments="1}")),
        chunk(finish="tool_calls"),
        b"[DONE]",
    )
    events, _ = run(data, strict=True)  # reported nowhere: strict mode does not raise
    assert calls_of(data) == [("a", "f", '{"x":1}', True)]
    assert not any(isinstance(e, ErrorEvent) for e in events)


def test_a_new_id_with_a_name_at_a_used_index_is_still_a_new_call() -> None:
    # C03: the refinement above needs the name, which a new call always brings
    data = sse(
        chunk(fragment(index=0, id="a", name="f", arguments="{}")),
        chunk(fragment(index=0, id="b", name="g", arguments="[]")),
        chunk(finish="tool_calls"),
        b"[DONE]",
    )
    assert calls_of(data) == [("a", "f", "{}", True), ("b", "g", "[]", True)]


@pytest.mark.parametrize("same_id", [False, True])
def test_a_call_opened_without_index_keeps_the_index_that_follows(same_id: bool) -> None:
    data = sse(
        chunk(fragment(id="a", name="f", arguments='{"x":')),
        chunk(fragment(index=0, arguments="1", **({"id": "a"} if same_id else {}))),
        chunk(fragment(index=0, arguments="}")),  # an inline continuation from here on
        chunk(finish="tool_calls"),
        b"[DONE]",
    )
    assert calls_of(data) == [("a", "f", '{"x":1}', True)]
    assert without_offsets(by_feed_event(data)) == without_offsets(run(data, strict=False)[0])


def test_an_index_after_a_call_without_index_with_another_name_is_a_new_call() -> None:
    data = sse(
        chunk(fragment(name="f", arguments="{}")),
        chunk(fragment(index=1, name="g", arguments="[]")),
        chunk(finish="tool_calls"),
        b"[DONE]",
    )
    assert calls_of(data) == [(None, "f", "{}", True), (None, "g", "[]", True)]


@pytest.mark.parametrize(
    ("reason", "cut"),
    [
        ("MAX_TOKENS", "length"),
        ("Length", "length"),
        ("SAFETY", "content_filter"),
        ("RECITATION", "content_filter"),
        ("BLOCKLIST", "content_filter"),
        ("PROHIBITED_CONTENT", "content_filter"),
        ("SPII", "content_filter"),
        ("sensitive", "content_filter"),
        ("MALFORMED_FUNCTION_CALL", "error"),
        ("insufficient_system_resource", "error"),
        ("network_error", "error"),
    ],
)
def test_vendor_cut_reasons_cut_the_open_call(reason: str, cut: str) -> None:
    data = sse(
        chunk(fragment(index=0, id="a", name="f", arguments='{"q":')),
        chunk(finish=reason),
        b"[DONE]",
    )
    events, parser = run(data, strict=False)
    [end] = [e for e in events if isinstance(e, (CallDone, CallIncomplete))]
    assert isinstance(end, CallIncomplete)
    assert end.reason == cut
    assert parser.finish_reasons == {0: reason}  # reported as sent
    assert events[-1] == StreamDone(
        event_index=2, complete=False, status="done", finish_reasons={0: reason}
    )


@pytest.mark.parametrize(
    "reason",
    ["STOP", "tool_calls", "function_call", "eos_token", "end_turn", "some_new_vendor_reason"],
)
def test_other_finish_reasons_finish_the_open_call(reason: str) -> None:
    data = sse(
        chunk(fragment(index=0, id="a", name="f", arguments="{}")), chunk(finish=reason), b"[DONE]"
    )
    events, _ = run(data, strict=True)
    assert [type(e).__name__ for e in events if isinstance(e, (CallDone, CallIncomplete))] == [
        "CallDone"
    ]


def legacy(
    function_call: dict[str, Any], finish: str | None = None, **delta: Any
) -> dict[str, Any]:
    return {
        "choices": [
            {
                "index": 0,
                "delta": {**delta, "function_call": function_call},
                "finish_reason": finish,
            }
        ]
    }


def test_legacy_function_call_beside_string_content_is_not_swallowed_by_the_hot_path() -> None:
    data = sse(
        {"id": "x", "choices": [{"index": 0, "delta": {"content": "Hi"}}]},
        legacy({"name": "get_weather", "arguments": ""}, content=""),
        legacy({"arguments": '{"city":'}, content=""),  # text-shaped: must reach _choice
        legacy({"arguments": '"Paris"}'}, content=""),
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "function_call"}]},
        b"[DONE]",
    )
    assert calls_of(data) == [(None, "get_weather", '{"city":"Paris"}', True)]
    assert without_offsets(by_feed_event(data)) == without_offsets(run(data, strict=False)[0])


def test_legacy_function_call_is_ignored_beside_tool_calls() -> None:
    both = {"index": 0, "id": "a", "function": {"name": "f", "arguments": "{}"}}
    data = sse(
        {
            "choices": [
                {"index": 0, "delta": {"tool_calls": [both], "function_call": both["function"]}}
            ]
        },
        chunk(finish="tool_calls"),
        b"[DONE]",
    )
    assert calls_of(data) == [("a", "f", "{}", True)]


def test_tool_calls_as_one_object_are_a_protocol_error_and_keep_the_call() -> None:
    data = sse(
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": {
                            "index": 0,
                            "id": "",
                            "function": {"name": "f", "arguments": '{"a":'},
                        }
                    },
                }
            ]
        },
        {
            "choices": [
                {"index": 0, "delta": {"tool_calls": {"index": 0, "function": {"arguments": "1}"}}}}
            ]
        },
        chunk(finish="eos_token"),
        b"[DONE]",
    )
    events, _ = run(data, strict=False)
    assert calls_of(data) == [(None, "f", '{"a":1}', True)]
    problems = [e.error for e in events if isinstance(e, ErrorEvent)]
    assert [(type(p), p.event_index) for p in problems] == [(ProtocolError, 0), (ProtocolError, 1)]
    assert events[-1].complete  # type: ignore[union-attr]  # the data was kept
    with pytest.raises(ProtocolError):
        run(data, strict=True)


def test_unknown_content_parts_pass_through_and_reasoning_parts_are_reasoning() -> None:
    parts = [
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "hm"}]},
        {"type": "reasoning", "text": "m"},
        {"type": "image_url", "image_url": {"url": "x"}},
        {"type": "text", "text": "ok"},
    ]
    data = sse(
        {"choices": [{"index": 0, "delta": {"content": parts}}]}, chunk(finish="stop"), b"[DONE]"
    )
    events, _ = run(data, strict=True)
    result = collect(data)
    assert (result.reasoning, result.texts) == ({0: "hmm"}, {0: "ok"})
    [other] = [e for e in events if isinstance(e, fcstream.OtherEvent)]
    assert other.type == "content.image_url"


def test_usage_inside_the_finishing_choice() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    data = sse(
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop", "usage": usage}]}, b"[DONE]"
    )
    events, _ = run(data, strict=True)
    assert [e.usage for e in events if isinstance(e, fcstream.Usage)] == [usage]


# -- keep-alives and API detection ---------------------------------------------------------------

PING = b"event: ping\ndata: 2025-03-03 10:00:15.018262\n\n"


@pytest.mark.parametrize("api", ["auto", "chat", "responses"])
@pytest.mark.parametrize(
    "ping", [PING, b"event: ping\ndata: 1741000000\n\n", b"event: ping\ndata: keep-alive\n\n"]
)
def test_a_ping_with_non_json_data_passes_through(api: str, ping: bytes) -> None:
    parser = StreamParser(api, strict=True)  # type: ignore[arg-type]
    events = parser.feed(ping)
    assert [(type(e).__name__, e.type) for e in events] == [  # type: ignore[union-attr]
        ("OtherEvent", "ping")
    ]
    assert parser.api == (None if api == "auto" else api)  # nothing decided from a ping


def test_a_ping_before_and_inside_a_chat_stream_changes_nothing() -> None:
    data = PING + TWO_CALLS[: upto(TWO_CALLS, 2)] + PING + TWO_CALLS[upto(TWO_CALLS, 2) :]
    events, parser = run(data)  # strict: nothing raised
    assert parser.api == "chat"
    assert [(c.call_id, c.arguments, c.complete) for c in parser.calls] == [
        ("a", '{"x":1}', True),
        ("b", "{}", True),
    ]
    assert events[-1].complete  # type: ignore[union-attr]


def test_non_json_on_a_message_event_is_still_a_payload_error() -> None:
    with pytest.raises(PayloadError):
        run(b"data: 2025-03-03 10:00:15\n\n")
    with pytest.raises(PayloadError):
        run(b"data: {2025-03-03\n\n")
    with pytest.raises(PayloadError):
        run(sse(chunk()) + b"data: 2025-03-03 10:00:15\n\n")


@pytest.mark.parametrize("api", ["auto", "chat", "responses"])
def test_an_error_event_with_plain_text_is_a_provider_error(api: str) -> None:
    events, _ = run(b"event: error\ndata: upstream timed out\n\n", api=api)
    [error] = [e.error for e in events if isinstance(e, ErrorEvent)]
    assert isinstance(error, ProviderError)
    assert "upstream timed out" in error.message
    assert events[-1].status == "error"  # type: ignore[union-attr]


RESPONSES_CALL = (
    b'event: response.created\ndata: {"type":"response.created","response":{"id":"r"}}\n\n'
    b'event: response.output_item.done\ndata: {"type":"response.output_item.done",'
    b'"output_index":0,"item":{"type":"function_call","id":"fc","call_id":"c","name":"f",'
    b'"arguments":"{}","status":"completed"}}\n\n'
    b'event: response.completed\ndata: {"type":"response.completed","response":{"id":"r"}}\n\n'
)


@pytest.mark.parametrize(
    "keepalive",
    [
        b'data: {"type":"keepalive"}\n\n',
        b'event: keepalive\ndata: {"type":"keepalive","sequence_number":0}\n\n',
        b"event: ping\ndata: {}\n\n",
        b'data: {"type":"heartbeat"}\n\n',
        PING,
    ],
)
def test_keepalives_do_not_decide_the_api(keepalive: bytes) -> None:
    events, parser = run(keepalive + RESPONSES_CALL)
    assert parser.api == "responses"
    assert [(c.call_id, c.complete) for c in parser.calls] == [("c", True)]
    assert isinstance(events[0], fcstream.OtherEvent)
    assert not any(isinstance(e, ErrorEvent) for e in events)
    assert events[-1].complete  # type: ignore[union-attr]


def test_a_keepalive_first_gives_the_same_events_as_the_api_given() -> None:
    data = b'data: {"type":"keepalive"}\n\n' + TWO_CALLS
    assert run(data)[0] == run(data, api="chat")[0]
    data = b'data: {"type":"keepalive"}\n\n' + RESPONSES_CALL
    assert run(data)[0] == run(data, api="responses")[0]


def test_a_numbered_keepalive_first_is_checked_as_the_api_given_would() -> None:
    """The Responses API numbers keep-alives too: ``auto`` decides on the first numbered one,
    so a number that steps back is reported as it is with ``api="responses"`` (found by
    fuzzing: ``auto`` passed the first keep-alives on unnumbered)."""
    numbered = b'event: keepalive\ndata: {"type":"keepalive","sequence_number":0}\n\n'
    data = numbered + numbered + RESPONSES_CALL
    events, parser = run(data, strict=False)
    assert parser.api == "responses"
    assert events == run(data, api="responses", strict=False)[0]
    [error] = [e.error for e in events if isinstance(e, ErrorEvent)]
    assert "step backwards" in error.message
    unnumbered = b'event: keepalive\ndata: {"type":"keepalive","sequence_number":null}\n\n'
    assert run(unnumbered + TWO_CALLS)[1].api == "chat"  # null says nothing


# -- lone surrogate escapes -----------------------------------------------------------------------


def test_split_surrogates_in_text_and_arguments_come_back_whole() -> None:
    high, low = "\\ud83c", "\\udf27"  # JSON escapes of U+1F327's UTF-16 halves
    data = (
        f'data: {{"id":"x","choices":[{{"index":0,"delta":{{"content":"Rain {high}"}}}}]}}\n\n'
        f'data: {{"choices":[{{"index":0,"delta":{{"content":"{low}!"}}}}]}}\n\n'
        f'data: {{"choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":0,"id":"a",'
        f'"function":{{"name":"f","arguments":"{{\\"i\\":\\"{high}"}}}}]}}}}]}}\n\n'
        f'data: {{"choices":[{{"index":0,"delta":{{"tool_calls":[{{"index":0,'
        f'"function":{{"arguments":"{low}\\"}}"}}}}]}}}}]}}\n\n'
        'data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}\n\n'
        "data: [DONE]\n\n"
    ).encode()
    events, _ = run(data)  # strict: valid JSON, nothing to raise
    [started] = [e for e in events if isinstance(e, StreamStarted)]
    assert started.response_id == "x"  # the metadata of a surrogate payload is read too
    result = collect(data)
    assert result.texts == {0: "Rain \U0001f327!"}
    [call] = result.calls
    assert call.arguments == '{"i":"\U0001f327"}'
    assert call.json() == {"i": "\U0001f327"}
    assert result.complete
    assert calls_of(data) == [("a", "f", '{"i":"\U0001f327"}', True)]


def test_a_half_that_never_finds_its_partner_stays_and_encodes_nowhere_by_surprise() -> None:
    data = (
        b'data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"a",'
        b'"function":{"name":"f","arguments":"{\\"i\\":\\"\\ud83c\\"}"}}]}}]}\n\n'
        b"data: [DONE]\n\n"
    )
    [call] = collect(data).calls
    assert call.arguments == '{"i":"\ud83c"}'
    assert call.json() == {"i": "\ud83c"}  # no UnicodeEncodeError
    assert call.values() == [{"i": "\ud83c"}]


def test_a_surrogate_escape_does_not_hide_a_real_syntax_error() -> None:
    with pytest.raises(PayloadError):
        run(sse(chunk()) + b'data: {"choices":[{"delta":{"content":"\\ud83c"}}\n\n')


# -- completeness and the httpx-sse route --------------------------------------------------------


def test_a_rejected_payload_makes_the_stream_incomplete() -> None:
    bad = TWO_CALLS[: upto(TWO_CALLS, 2)] + b"data: {not json\n\n" + TWO_CALLS[upto(TWO_CALLS, 2) :]
    events, _ = run(bad, strict=False)
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert (done.status, done.complete) == ("done", False)  # data was lost
    events, _ = run(INTERLEAVED, strict=False)  # a ProtocolError keeps its data
    assert any(isinstance(e, ErrorEvent) for e in events)
    assert events[-1].complete  # type: ignore[union-attr]


def test_a_payload_rejected_before_the_api_was_known_counts_too() -> None:
    events, parser = run(b"data: {not json\n\n" + TWO_CALLS, strict=False)
    assert parser.api == "chat"
    assert (events[-1].status, events[-1].complete) == ("done", False)  # type: ignore[union-attr]


def test_httpx_sse_events_without_data_give_what_the_bytes_give() -> None:
    # httpx-sse dispatches both blocks with data ""; the SSE rules dispatch only `data:` alone
    data = b"data:\n\nevent: ping\n\n" + TWO_CALLS
    response = httpx.Response(200, headers={"content-type": "text/event-stream"}, content=data)
    source = httpx_sse.EventSource(response)
    assert list(iter_events(source)) == run(data)[0]


@pytest.mark.parametrize("choices", [1, 3])
def test_event_message_lines_change_nothing(choices: int) -> None:
    """``event: message`` names the default type (some gateways write it on every block): the
    same events and calls as without it, on the fast path too."""
    plain = chat_stream(synthetic_calls(3, 600, unicode=True), text="hi there " * 20,
                        choices=choices, fragment=5)
    named = plain.replace(b"data: ", b"event: message\ndata: ")
    parser = fcstream.StreamParser()
    events = parser.feed(named) + parser.finish()
    reference = fcstream.StreamParser()
    assert without_offsets(events) == without_offsets(reference.feed(plain) + reference.finish())
    assert parser.calls == reference.calls
    assert len(parser.calls) == 3 * choices


def test_a_fragment_for_a_call_another_call_ended_in_the_same_read_is_reported() -> None:
    """The hot loop remembers the call its last argument delta went to; a call starting in
    between (another path) must make the next delta for the first call look it up again and
    find it final, in one read as in many."""
    same_shape = [chunk(fragment(index=0, arguments=piece)) for piece in ('{"x":', *"123456")]
    blocks = [sse(json.dumps(p, separators=(",", ":")).encode()) for p in (
        chunk(fragment(index=0, id="a", name="f", arguments="")),
        *same_shape,
        chunk(fragment(index=1, id="b", name="g", arguments="{}")),  # call a is final here
        chunk(fragment(index=0, arguments="}")),  # too late: reported, kept apart
        chunk(finish="tool_calls"),
    )] + [sse(b"[DONE]")]
    parser = StreamParser(strict=False)
    whole = normalize(parser.feed(b"".join(blocks)) + parser.finish())
    one_by_one = StreamParser(strict=False)
    events = [e for block in blocks for e in one_by_one.feed(block)] + one_by_one.finish()
    assert whole == normalize(events)
    problems = [e for e in whole if isinstance(e, ErrorEvent)]
    assert len(problems) == 1
    assert "after it was final" in str(problems[0].error)
    assert [c.arguments for c in parser.calls] == ['{"x":123456', "{}"]
    assert getattr(parser._acc, "_template_hits", 0) > 0  # the template path was taken
