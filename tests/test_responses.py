"""ResponsesAccumulator: finality, cross-checks, quirks R01..R15, strict/lenient, re-chunking."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import fcstream
from fcstream import (
    ArgumentsDelta,
    ArgumentsError,
    CallDone,
    CallIncomplete,
    CallStarted,
    ErrorEvent,
    Event,
    FcstreamError,
    HostedToolEvent,
    OtherEvent,
    PayloadError,
    ProtocolError,
    ProviderError,
    ReasoningDelta,
    RefusalDelta,
    StreamDone,
    StreamParser,
    StreamStarted,
    TextDelta,
    ToolCall,
    Usage,
    expand_parallel,
)
from fcstream import _wire_responses as wire
from fcstream._responses import ResponsesAccumulator
from fcstream._sse import SSEFramer
from fixtures.generate import Call, chat_stream, responses_stream, synthetic_calls
from tests.feed import byte_by_byte, feed_all, normalize, split_at

QUIRKS = Path(__file__).resolve().parents[1] / "fixtures" / "quirks"
QUIRK_FILES = sorted(QUIRKS.glob("responses-*.sse"))


def sse(*payloads: dict[str, Any] | str, event_lines: bool = True) -> bytes:
    """A Responses stream from payloads (a str is sent as the data line as is)."""
    out = []
    for p in payloads:
        if isinstance(p, str):
            out.append(f"data: {p}\n\n")
            continue
        head = f"event: {p['type']}\n" if event_lines and "type" in p else ""
        out.append(f"{head}data: {json.dumps(p)}\n\n")
    return "".join(out).encode()


def parse(
    data: bytes, *, strict: bool = False, api: Any = "auto"
) -> tuple[list[Event], StreamParser]:
    parser = StreamParser(api, strict=strict)
    events = parser.feed(data)
    events += parser.finish()
    return events, parser


def errors(events: list[Event]) -> list[FcstreamError]:
    return [e.error for e in events if isinstance(e, ErrorEvent)]


def protocol_errors(events: list[Event]) -> list[ProtocolError]:
    found = errors(events)
    assert all(isinstance(e, ProtocolError) for e in found), found
    return [e for e in found if isinstance(e, ProtocolError)]


def ends(events: list[Event]) -> list[CallDone | CallIncomplete]:
    return [e for e in events if isinstance(e, CallDone | CallIncomplete)]


def fc(
    item_id: str,
    call_id: str | None,
    name: str | None,
    arguments: str = "",
    status: str = "in_progress",
) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "arguments": arguments,
    }
    if call_id is not None:
        item["call_id"] = call_id
    if name is not None:
        item["name"] = name
    return item


def added(n: int, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "response.output_item.added", "output_index": n, "item": item}


def item_done(n: int, item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "response.output_item.done", "output_index": n, "item": item}


def delta(n: int, text: str, item_id: str = "fc_1") -> dict[str, Any]:
    return {
        "type": "response.function_call_arguments.delta",
        "output_index": n,
        "item_id": item_id,
        "delta": text,
    }


def args_done(n: int, text: str, item_id: str = "fc_1") -> dict[str, Any]:
    return {
        "type": "response.function_call_arguments.done",
        "output_index": n,
        "item_id": item_id,
        "arguments": text,
    }


def completed(output: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "type": "response.completed",
        "response": {
            "id": "resp_1",
            "model": "m",
            "status": "completed",
            "output": output or [],
            "usage": {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3},
        },
    }


CREATED = {
    "type": "response.created",
    "response": {"id": "resp_1", "model": "m", "status": "in_progress", "output": []},
}


# -- the normal path -------------------------------------------------------------------------


def test_normal_stream_events_in_order() -> None:
    calls = synthetic_calls(2, 60)
    events, parser = parse(responses_stream(calls, fragment=10))
    assert parser.api == "responses"
    assert isinstance(events[0], StreamStarted)
    assert events[0].api == "responses"
    assert events[0].response_id
    assert events[0].response_id.startswith("resp_")
    started = [e for e in events if isinstance(e, CallStarted)]
    assert [(s.index, s.call_id, s.name, s.output_index) for s in started] == [
        (0, calls[0].call_id, calls[0].name, 0),
        (1, calls[1].call_id, calls[1].name, 1),
    ]
    assert all(s.item_id and s.item_id.startswith("fc_") for s in started)
    assert [type(e).__name__ for e in events[-2:]] == ["Usage", "StreamDone"]
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert (done.status, done.complete) == ("completed", True)
    assert [c.arguments for c in parser.calls] == [c.arguments for c in calls]
    assert all(c.api == "responses" and c.choice == 0 and c.complete for c in parser.calls)
    assert not errors(events)


def test_call_done_at_arguments_done_not_at_first_parse() -> None:
    """F1: arguments that parse early are not final; CallDone waits for the .done event."""
    data = sse(
        CREATED,
        added(0, fc("fc_1", "call_1", "f")),
        delta(0, "1"),
        delta(0, "0"),
        args_done(0, "10"),
        item_done(0, fc("fc_1", "call_1", "f", "10", "completed")),
        completed(),
    )
    events, _parser = parse(data, strict=True)
    (end,) = ends(events)
    assert isinstance(end, CallDone)
    assert end.event_index == 4
    assert end.call.arguments == "10"


def test_interleaved_parallel_deltas_by_output_index() -> None:
    data = sse(
        CREATED,
        added(0, fc("fc_a", "call_a", "f")),
        added(1, fc("fc_b", "call_b", "g")),
        delta(0, '{"a"', "fc_a"),
        delta(1, '{"b"', "fc_b"),
        delta(0, ":1}", "fc_a"),
        delta(1, ":2}", "fc_b"),
        args_done(1, '{"b":2}', "fc_b"),
        args_done(0, '{"a":1}', "fc_a"),
        completed(),
    )
    events, parser = parse(data, strict=True)
    assert [(c.call_id, c.arguments, c.index) for c in parser.calls] == [
        ("call_a", '{"a":1}', 0),
        ("call_b", '{"b":2}', 1),
    ]
    assert [(e.call.call_id, e.event_index) for e in ends(events)] == [("call_b", 7), ("call_a", 8)]


def test_text_refusal_reasoning() -> None:
    data = sse(
        CREATED,
        {"type": "response.output_text.delta", "output_index": 0, "delta": "Hi "},
        {"type": "response.output_text.delta", "output_index": 0, "delta": ""},
        {"type": "response.refusal.delta", "output_index": 0, "delta": "No."},
        {"type": "response.reasoning_summary_text.delta", "delta": "Plan."},
        {"type": "response.reasoning_text.delta", "delta": "Think."},
        completed(),
    )
    events, _ = parse(data, strict=True)
    assert [e for e in events if isinstance(e, TextDelta | RefusalDelta | ReasoningDelta)] == [
        TextDelta(event_index=1, choice=0, text="Hi "),
        RefusalDelta(event_index=3, choice=0, text="No."),
        ReasoningDelta(event_index=4, choice=0, text="Plan.", source="summary"),
        ReasoningDelta(event_index=5, choice=0, text="Think.", source="text"),
    ]
    result = fcstream.collect(data)
    assert (result.text, result.refusals, result.reasoning) == (
        "Hi ",
        {0: "No."},
        {0: "Plan.Think."},
    )
    assert result.usage == {"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}


def test_feed_event_reaches_the_same_code() -> None:
    """Already-framed input (httpx-sse, the SDK) without event names: the type probe decides."""
    data = responses_stream(synthetic_calls(2, 40), fragment=7)
    blocks = [b for b in data.decode().split("\n\n") if b]
    parser = StreamParser()
    events: list[Event] = []
    for block in blocks:
        payload = block.split("data: ", 1)[1]
        events += parser.feed_event(None, payload)
    events += parser.finish()
    assert parser.api == "responses"
    assert (normalize(events), parser.calls) == feed_all([data])


def test_hot_loop_shortcuts_stand_for_the_handlers_they_skip() -> None:
    """``handle_run`` hands an item event it already decoded straight to ``_on_item`` and
    drops a repeated opening event as ``_on_started`` would: only right while the handler
    table says so for every such event type."""
    from fcstream import _responses

    handlers = _responses._HANDLERS
    assert _responses._ITEM_EVENTS
    assert all(handlers[name] is ResponsesAccumulator._on_item
               for name in _responses._ITEM_EVENTS)
    assert all(handlers[name] is ResponsesAccumulator._on_started
               for name in _responses._OPENING)


# -- cross-checks -----------------------------------------------------------------------------


def test_hot_deltas_fields_come_in_the_order_the_hot_loop_unpacks() -> None:
    """The hot loop reads a delta's fields as one tuple (``msgspec.structs.astuple``)."""
    for hot in (wire.HotText, wire.HotArguments):
        assert hot.__struct_fields__ == ("delta", "output_index", "sequence_number")


def test_done_text_differs_from_deltas_lenient_and_strict() -> None:
    data = sse(
        CREATED,
        added(0, fc("fc_1", "call_1", "f")),
        delta(0, '{"a":1'),
        delta(0, "}"),
        args_done(0, '{"a":2}'),
        item_done(0, fc("fc_1", "call_1", "f", '{"a":2}', "completed")),
        completed(),
    )
    events, parser = parse(data)
    (error,) = errors(events)
    assert isinstance(error, ProtocolError)
    assert (error.event_index, error.call_id, error.index, error.data) == (
        4,
        "call_1",
        0,
        '{"a":2}',
    )
    (end,) = ends(events)
    assert isinstance(end, CallDone)
    assert end.call.arguments == '{"a":2}'  # the .done text is authoritative

    strict = StreamParser(strict=True)
    with pytest.raises(ProtocolError) as info:
        strict.feed(data)
    assert info.value == error
    assert any(isinstance(e, CallDone) for e in info.value.events)  # applied before raising
    rest = strict.feed(b"") + strict.finish()
    assert isinstance(rest[-1], StreamDone)
    assert strict.calls == parser.calls


def test_missing_tail_is_sent_as_a_delta() -> None:
    data = sse(
        CREATED,
        added(0, fc("fc_1", "call_1", "f")),
        delta(0, '{"a":'),
        args_done(0, '{"a":1}'),
        completed(),
    )
    events, parser = parse(data)
    assert isinstance(errors(events)[0], ProtocolError)
    text = "".join(e.delta for e in events if isinstance(e, ArgumentsDelta))
    assert text == parser.calls[0].arguments == '{"a":1}'


def test_item_done_and_completed_cross_checked_never_reemitted() -> None:
    data = sse(
        CREATED,
        added(0, fc("fc_1", "call_1", "f")),
        delta(0, "{}"),
        args_done(0, "{}"),
        item_done(0, fc("fc_1", "call_X", "g", '{"x":1}', "completed")),
        completed([fc("fc_1", "call_1", "f", "{}", "completed")]),
    )
    events, parser = parse(data)
    assert len(ends(events)) == 1
    assert [c.call_id for c in parser.calls] == ["call_1"]
    errs = protocol_errors(events)
    assert len(errs) == 3
    assert {e.event_index for e in errs} == {4}
    assert [e.data for e in errs] == ["call_X", "g", '{"x":1}']


def test_closing_bytes_that_agreed_stand_only_for_the_same_text() -> None:
    """A closing event whose arguments agreed is remembered, so the item and the final output
    that repeat its bytes need no decode; other bytes are still decoded and compared."""
    data = sse(
        CREATED,
        added(0, fc("fc_1", "call_1", "f")),
        delta(0, '{"a":1}'),
        args_done(0, '{"a":1}'),
        item_done(0, fc("fc_1", "call_1", "f", '{"a":1}', "completed")),
        completed([fc("fc_1", "call_1", "f", '{"a": 1}', "completed")]),
    )
    events, parser = parse(data)
    (error,) = protocol_errors(events)
    assert (error.event_index, error.data) == (5, '{"a": 1}')
    assert parser.calls[0].arguments == '{"a":1}'


def test_no_call_keeps_a_closing_token_once_the_stream_ends() -> None:
    text = json.dumps({"text": "x" * 20_000})
    data = sse(CREATED, added(0, fc("fc_1", "call_1", "f")), delta(0, text), args_done(0, text),
               item_done(0, fc("fc_1", "call_1", "f", text, "completed")))
    parser = StreamParser()
    parser.feed(data)
    calls = parser._acc._calls  # type: ignore[union-attr]
    assert calls[0].agreed is not None  # kept while the final output may still repeat it
    parser.feed(sse(completed([fc("fc_1", "call_1", "f", text, "completed")])))
    assert [c.agreed for c in calls] == [None]
    assert parser.calls[0].arguments == text


def test_an_opening_items_text_is_not_remembered_as_final() -> None:
    """``output_item.added`` may carry the arguments so far (empty): the deltas change them
    after it, so a ``.done`` with those same bytes still differs from what was built."""
    data = sse(
        CREATED,
        added(0, fc("fc_1", "call_1", "f", "")),
        delta(0, '{"a":1}'),
        args_done(0, ""),
        completed(),
    )
    events, parser = parse(data)
    (error,) = protocol_errors(events)
    assert error.event_index == 3
    assert parser.calls[0].arguments == ""  # the .done text is authoritative


def test_completed_output_disagrees() -> None:
    data = sse(
        CREATED,
        added(0, fc("fc_1", "call_1", "f")),
        args_done(0, "{}"),
        completed([fc("fc_1", "call_1", "f", '{"late":true}', "completed")]),
    )
    events, _ = parse(data)
    (error,) = errors(events)
    assert isinstance(error, ProtocolError)
    assert (error.event_index, error.data) == (3, '{"late":true}')


def test_completed_output_adds_unstreamed_call_and_ignores_others() -> None:
    output = [
        {"id": "msg_1", "type": "message", "content": [{"type": "output_text", "text": "hi"}]},
        fc("fc_1", "call_1", "f", "{}", "completed"),
        {"id": "ws_1", "type": "web_search_call", "status": "completed"},
    ]
    events, parser = parse(sse(CREATED, completed(output)), strict=True)
    (end,) = ends(events)
    assert isinstance(end, CallDone)
    assert end.event_index == 1
    assert parser.calls[0].item_id == "fc_1"
    started = [e for e in events if isinstance(e, CallStarted)]
    assert started[0].output_index == 1


def test_an_odd_item_in_the_final_output_sinks_nothing_else() -> None:
    # An item with a field of an odd type: the output is read item by item. A non-call is
    # skipped unreported; the calls beside it are still cross-checked or added; an odd call
    # item is reported with its position.
    odd_message = {"id": 5, "type": "message", "status": ["odd"]}
    streamed = fc("fc_1", "call_1", "f", '{"a":1}', "completed")
    unstreamed = fc("fc_2", "call_2", "g", '{"b":2}', "completed")
    base = [CREATED, added(0, fc("fc_1", "call_1", "f")), args_done(0, '{"a":1}')]
    events, parser = parse(sse(*base, completed([streamed, odd_message, unstreamed])),
                           strict=True)
    assert [(c.name, c.arguments, c.complete) for c in parser.calls] == [
        ("f", '{"a":1}', True), ("g", '{"b":2}', True)]
    assert [e.event_index for e in ends(events)] == [2, 3]
    assert events[-1] == StreamDone(3, complete=True, status="completed", finish_reasons={})

    odd_call = {**unstreamed, "name": 7}
    events, parser = parse(sse(*base, completed([odd_message, streamed, odd_call])))
    (error,) = errors(events)
    assert isinstance(error, PayloadError)
    assert "response.completed output[2]: unreadable call item" in str(error)
    assert [c.name for c in parser.calls] == ["f"]
    assert isinstance(events[-1], StreamDone)
    assert events[-1].status == "completed"


def test_nameless_call_comes_back_incomplete() -> None:
    data = sse(CREATED, delta(0, '{"a":1}'), args_done(0, '{"a":1}'), completed())
    events, _parser = parse(data)
    (end,) = ends(events)
    assert isinstance(end, CallIncomplete)
    assert (end.reason, end.event_index, end.call.arguments) == ("nameless", 3, '{"a":1}')
    assert not any(isinstance(e, CallStarted) for e in events)
    assert isinstance(errors(events)[0], ProtocolError)
    with pytest.raises(ProtocolError):
        parse(data, strict=True)


@pytest.mark.parametrize("status", ["incomplete", "in_progress"])
def test_a_name_first_seen_in_the_terminal_output_starts_the_call_before_its_cut(
    status: str,
) -> None:
    """Its items were unreadable (an id of the wrong type), so the cut response's output is the
    first to name the call: ``CallStarted`` (and its text) still comes before
    ``CallIncomplete``, as for every named call."""
    bad = fc("fc_1", "call_1", "f") | {"id": 0}
    cut = {"type": "response.incomplete", "response": {
        "id": "resp_1", "model": "m", "status": "incomplete",
        "incomplete_details": {"reason": "max_output_tokens"},
        "output": [fc("fc_1", "call_1", "f", '{"a":', status)]}}
    for output_index in (0, None):  # matched to the streamed call, or a new one
        events, parser = parse(sse(CREATED, added(0, bad), delta(0, '{"a":'),
                                   item_done(0, bad | {"status": status}), cut)
                               if output_index == 0 else sse(CREATED, cut))
        (end,) = ends(events)
        assert isinstance(end, CallIncomplete)
        (start,) = [e for e in events if isinstance(e, CallStarted)]
        assert (start.name, start.index) == ("f", end.call.index)
        assert events.index(start) < events.index(end)
        text = "".join(e.delta for e in events if isinstance(e, ArgumentsDelta))
        assert text == end.call.arguments == parser.calls[0].arguments == '{"a":'


def test_name_on_done_event_is_used() -> None:
    payload = args_done(0, "{}")
    payload["name"] = "f"
    events, parser = parse(sse(CREATED, payload, completed()), strict=True)
    assert isinstance(ends(events)[0], CallDone)
    assert parser.calls[0].name == "f"


def test_delta_after_final_is_reported_not_merged() -> None:
    data = sse(
        CREATED,
        added(0, fc("fc_1", "call_1", "f")),
        args_done(0, "{}"),
        delta(0, "junk"),
        completed(),
    )
    events, parser = parse(data)
    (error,) = errors(events)
    assert isinstance(error, ProtocolError)
    assert (error.event_index, error.data) == (3, "junk")
    assert parser.calls[0].arguments == "{}"


def test_truncated_stream() -> None:
    data = sse(CREATED, added(0, fc("fc_1", "call_1", "f")), delta(0, '{"q":"hi'))
    events, _parser = parse(data, strict=True)
    (end,) = ends(events)
    assert isinstance(end, CallIncomplete)
    assert (end.reason, end.call.arguments, end.call.complete) == ("truncated", '{"q":"hi', False)
    assert isinstance(events[-1], StreamDone)
    assert (events[-1].status, events[-1].complete) == ("truncated", False)


def test_done_marker_after_end_is_silent_other_data_is_not() -> None:
    base = sse(CREATED, completed())
    events, _ = parse(base + b"data: [DONE]\n\n", strict=True)
    assert not errors(events)
    events, _ = parse(base + sse(CREATED))
    (error,) = errors(events)
    assert isinstance(error, ProtocolError)
    assert error.event_index == 2


def test_sequence_gap_and_step_back() -> None:
    def seq(p: dict[str, Any], n: int) -> dict[str, Any]:
        return {**p, "sequence_number": n}

    data = sse(
        seq(CREATED, 0),
        seq(added(0, fc("fc_1", "c", "f")), 1),
        seq(delta(0, "{"), 3),
        seq(delta(0, "}"), 2),
        seq(args_done(0, "{}"), 3),
        seq(completed(), 4),
    )
    events, parser = parse(data)
    errs = protocol_errors(events)
    assert [e.event_index for e in errs] == [2, 3]
    assert "gap" in errs[0].message
    assert "backwards" in errs[1].message
    assert parser.calls[0].arguments == "{}"
    strict = StreamParser(strict=True)
    with pytest.raises(ProtocolError) as info:
        strict.feed(data)
    assert info.value.event_index == 2


def test_bad_payloads_are_payload_errors_and_the_stream_goes_on() -> None:
    bad = [
        b"data: {not json\n\n",
        b'data: {"type":"response.output_text.delta","delta":5}\n\n',
        b'data: "a string"\n\n',
        b'data: {"type":"response.output_text.delta","delta":"\xff"}\n\n',
        b'data: {"type":"\xff"}\n\n',
    ]
    data = sse(CREATED) + b"".join(bad) + sse(completed())
    events, _ = parse(data)
    errs = errors(events)
    assert [type(e) for e in errs] == [PayloadError] * 5
    assert [e.event_index for e in errs if isinstance(e, PayloadError)] == [1, 2, 3, 4, 5]
    assert all(isinstance(e, PayloadError) and e.api == "responses" for e in errs)
    assert isinstance(events[-1], StreamDone)
    assert events[-1].status == "completed"


def test_event_name_disagrees_with_payload_type() -> None:
    text = {"type": "response.output_text.delta", "delta": "x"}
    data = (
        b"event: response.function_call_arguments.delta\ndata: "
        + json.dumps(text).encode()
        + b"\n\n"
    )
    events, _ = parse(sse(CREATED) + data + sse(completed()))
    assert isinstance(errors(events)[0], ProtocolError)
    assert TextDelta(event_index=1, choice=0, text="x") in events


def test_chat_chunk_on_auto_detected_responses_stream() -> None:
    chat = chat_stream([Call("call_1", "f", "{}")], usage=False, done=False)
    events, parser = parse(sse(CREATED) + chat)
    errs = errors(events)
    assert errs
    assert all(isinstance(e, ProtocolError) and "Chat Completions" in e.message for e in errs)
    assert parser.calls == []


def test_error_event_nested_shape_and_collect() -> None:
    err = {
        "type": "error",
        "error": {"type": "invalid_request_error", "code": "bad", "message": "nope"},
    }
    data = sse(CREATED, added(0, fc("fc_1", "call_1", "f")), delta(0, "{"), err)
    events, _ = parse(data, strict=True)
    (error,) = errors(events)
    assert isinstance(error, ProviderError)
    assert (error.code, error.type, error.message, error.event_index) == (
        "bad",
        "invalid_request_error",
        "nope",
        3,
    )
    (end,) = ends(events)
    assert isinstance(end, CallIncomplete)
    assert end.reason == "error"
    assert isinstance(events[-1], StreamDone)
    assert (events[-1].status, events[-1].complete) == ("error", False)
    result = fcstream.collect(data)
    assert result.status == "error"
    assert not result.complete
    with pytest.raises(ProviderError):
        result.raise_for_error()


def test_hosted_events_carry_item_type_and_index() -> None:
    data = sse(
        CREATED,
        added(0, {"id": "ws_1", "type": "web_search_call", "status": "in_progress"}),
        {"type": "response.web_search_call.searching", "item_id": "ws_1", "output_index": 0},
        {
            "type": "response.mcp_call_arguments.delta",
            "item_id": "m",
            "output_index": 1,
            "delta": "{",
        },
        {
            "type": "response.code_interpreter_call_code.done",
            "item_id": "c",
            "output_index": 2,
            "code": "1",
        },
        completed(),
    )
    events, parser = parse(data, strict=True)
    hosted = [e for e in events if isinstance(e, HostedToolEvent)]
    assert [(h.type, h.item_type, h.output_index) for h in hosted] == [
        ("response.output_item.added", "web_search_call", 0),
        ("response.web_search_call.searching", "web_search_call", 0),
        ("response.mcp_call_arguments.delta", "mcp_call", 1),
        ("response.code_interpreter_call_code.done", "code_interpreter_call", 2),
    ]
    assert parser.calls == []


def test_item_arguments_as_object_are_reported() -> None:
    item = fc("fc_1", "call_1", "f", "", "completed")
    item["arguments"] = {"a": 1}
    events, parser = parse(sse(CREATED, item_done(0, item), completed()))
    assert isinstance(errors(events)[0], ProtocolError)
    assert parser.calls[0].arguments == '{"a": 1}'  # the exact text sent


# -- R09 expand_parallel -------------------------------------------------------------------


def test_expand_parallel() -> None:
    args = json.dumps(
        {
            "tool_uses": [
                {"recipient_name": "functions.a", "parameters": {"x": 1}},
                {"recipient_name": "b", "parameters": {}},
            ]
        }
    )
    call = ToolCall(
        call_id="call_p", name="parallel", arguments=args, index=2, api="responses", item_id="fc_p"
    )
    first, second = expand_parallel(call)
    assert (first.call_id, first.name, first.arguments, first.index) == (
        "call_p",
        "a",
        '{"x":1}',
        2,
    )
    assert (second.call_id, second.name, second.arguments) == ("call_p#1", "b", "{}")
    other = ToolCall(call_id="c", name="f", arguments="{}", index=0)
    assert expand_parallel(other) == [other]
    odd = ToolCall(call_id="c", name="parallel", arguments='{"x":1}', index=0)
    assert expand_parallel(odd) == [odd]
    with pytest.raises(ArgumentsError):
        expand_parallel(ToolCall(call_id="c", name="parallel", arguments="{", index=0))


# -- quirk fixtures (fixtures/quirks/responses-*) -------------------------------------------


def load(path: Path) -> tuple[bytes, dict[str, Any]]:
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    return path.read_bytes(), expected


def test_every_responses_quirk_has_a_fixture() -> None:
    quirks = Path(__file__).resolve().parents[2] / "shared" / "quirks.md"
    if quirks.is_file():
        import re

        listed = set(re.findall(r"\*\*(R\d\d)\.", quirks.read_text(encoding="utf-8")))
    else:
        listed = {f"R{n:02d}" for n in range(1, 16)}
    covered = {
        json.loads(p.with_suffix(".expected.json").read_text())["quirk"] for p in QUIRK_FILES
    }
    assert listed <= covered


@pytest.mark.parametrize("path", QUIRK_FILES, ids=[p.stem for p in QUIRK_FILES])
def test_quirk_fixture(path: Path) -> None:
    data, expected = load(path)
    events, parser = parse(data, api=expected["api"])
    calls = parser.calls
    assert [(c.call_id, c.name, c.arguments, c.complete) for c in calls] == [
        (c["call_id"], c["name"], c["arguments"], c["complete"]) for c in expected["calls"]
    ]
    by_index = {e.call.index: e for e in ends(events)}
    assert sorted(by_index) == list(range(len(calls)))  # every call ended exactly once
    assert len(ends(events)) == len(calls)
    for call, want in zip(calls, expected["calls"], strict=True):
        end = by_index[call.index]
        assert end.event_index == want["final_event"], call
        assert isinstance(end, CallDone) == want["complete"]
        if "reason" in want:
            assert isinstance(end, CallIncomplete)
            assert end.reason == want["reason"]
        assert call.type == want.get("type", "function")
        if "item_id" in want:
            assert call.item_id == want["item_id"]
        assert call.api == "responses"
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert (done.status, done.complete) == (expected["status"], expected["complete"])
    assert [type(e).__name__ for e in errors(events)] == expected["errors"]
    if "error_codes" in expected:
        assert [e.code for e in errors(events) if isinstance(e, ProviderError)] == expected[
            "error_codes"
        ]
    if "hosted_events" in expected:
        assert sum(isinstance(e, HostedToolEvent) for e in events) == expected["hosted_events"]
    if "other_events" in expected:
        assert sum(isinstance(e, OtherEvent) for e in events) == expected["other_events"]
    if "reasoning" in expected:
        assert (
            "".join(e.text for e in events if isinstance(e, ReasoningDelta))
            == expected["reasoning"]
        )
    if "expanded" in expected:
        (call,) = calls
        assert [
            {"call_id": c.call_id, "name": c.name, "arguments": c.arguments}
            for c in expand_parallel(call)
        ] == expected["expanded"]
    if any(isinstance(e, Usage) for e in events):
        usage_at = max(i for i, e in enumerate(events) if isinstance(e, Usage))
        assert usage_at < len(events) - 1  # usage before StreamDone


def run_strict(data: bytes, api: Any) -> tuple[list[str], list[Event], StreamParser]:
    """Feed in strict mode, carrying on after each raise as a caller would: the names of the
    errors raised, and every event (those completed before each raise come on the error)."""
    parser = StreamParser(api, strict=True)
    raised: list[str] = []
    events: list[Event] = []
    chunk = data
    while True:  # events framed after a raise wait for the next call
        try:
            events += parser.feed(chunk)
            break
        except PayloadError as exc:
            raised.append(type(exc).__name__)
            events += exc.events
            chunk = b""
    try:
        events += parser.finish()
    except PayloadError as exc:
        raised.append(type(exc).__name__)
        events += exc.events
    return raised, events, parser


@pytest.mark.parametrize("path", QUIRK_FILES, ids=[p.stem for p in QUIRK_FILES])
def test_quirk_fixture_strict(path: Path) -> None:
    """Strict mode raises each reported payload/protocol problem, in order, loses nothing, and
    ends with the same calls and events as lenient mode."""
    data, expected = load(path)
    raised, events, parser = run_strict(data, expected["api"])
    assert raised == [n for n in expected["errors"] if n != "ProviderError"]
    provider = [type(e.error).__name__ for e in events if isinstance(e, ErrorEvent)]
    assert provider == [n for n in expected["errors"] if n == "ProviderError"]
    lenient_events, lenient_parser = parse(data, api=expected["api"])
    assert parser.calls == lenient_parser.calls
    assert [e for e in events if not isinstance(e, ErrorEvent)] == [
        e for e in lenient_events if not isinstance(e, ErrorEvent)
    ]


# -- re-chunking invariance -----------------------------------------------------------------

SMALL = responses_stream(
    [Call("call_1", "f", '{"a":"é🌍"}'), Call("call_2", "g", "patch\n", type="custom")],
    fragment=3,
    text="Hi ✓",
)


@pytest.mark.parametrize(
    "data",
    [SMALL, (QUIRKS / "responses-R01-no-item-added.sse").read_bytes()],
    ids=["generated", "R01"],
)
def test_every_split_point(data: bytes) -> None:
    expected = feed_all([data])
    assert expected[1]
    assert feed_all(byte_by_byte(data)) == expected
    for i in range(len(data) + 1):
        assert feed_all([data[:i], data[i:]]) == expected


@pytest.mark.parametrize("line_ending", ["\r\n", "\r"])
def test_line_endings(line_ending: str) -> None:
    calls = synthetic_calls(2, 50, unicode=True)
    lf = feed_all([responses_stream(calls)])
    other = feed_all([responses_stream(calls, line_ending=line_ending)])
    assert other[1] == lf[1]


STREAMS = [p.read_bytes() for p in QUIRK_FILES] + [
    SMALL,
    responses_stream(synthetic_calls(3, 200, unicode=True, seed=5), fragment=(1, 9)),
    responses_stream(synthetic_calls(2, 80), sequence_numbers=False, event_lines=False),
]


@settings(max_examples=100)
@given(st.sampled_from(range(len(STREAMS))), st.lists(st.integers(0, 1 << 16), max_size=30))
def test_random_cuts(which: int, cuts: list[int]) -> None:
    data = STREAMS[which]
    points = [c % (len(data) + 1) for c in cuts]
    assert feed_all(split_at(data, points)) == feed_all([data])


@given(st.sampled_from(range(len(STREAMS))), st.integers(0, 1 << 16))
def test_cut_then_finish_gives_prefixes(which: int, cut: int) -> None:
    """Input cut anywhere: no error outside the tree, and every call's text is a prefix."""
    data = STREAMS[which]
    cut %= len(data) + 1
    _, full_calls = feed_all([data])
    _, calls = feed_all([data[:cut]])
    full = {c.call_id: c.arguments for c in full_calls}
    for call in calls:
        if call.call_id in full and call.complete is False:
            assert full[call.call_id].startswith(call.arguments) or not call.arguments


@given(
    st.sampled_from(range(len(STREAMS))),
    st.lists(st.tuples(st.integers(0, 1 << 16), st.binary(max_size=4)), max_size=6),
)
def test_mutations_raise_only_tree_errors(which: int, edits: list[tuple[int, bytes]]) -> None:
    data = bytearray(STREAMS[which])
    for pos, junk in edits:
        at = pos % (len(data) + 1)
        data[at : at + len(junk)] = junk
    for strict in (False, True):
        parser = StreamParser(strict=strict)
        try:
            parser.feed(bytes(data))
            parser.finish()
        except FcstreamError:
            pass


_TEXT = "response.output_text.delta"
_ARGS = "response.function_call_arguments.delta"
_ADDED = "response.output_item.added"
_DONE_ITEM = "response.output_item.done"
HOT_SHAPES = [  # (SSE event name, payload without sequence_number)
    (_TEXT, {"type": _TEXT, "delta": "a"}),
    (_TEXT, {"delta": "b"}),  # no type: the event name says what it is
    (_TEXT, {"type": _TEXT, "delta": 5}),  # a field of the wrong type
    (_TEXT, {"type": "response.refusal.delta", "delta": "c"}),  # the payload disagrees
    (_TEXT, {"type": _TEXT, "delta": ""}),
    (_ARGS, {"type": _ARGS, "output_index": 0, "item_id": "fc_1", "delta": "x"}),
    (_ARGS, {"output_index": 0, "delta": "y"}),
    (_ARGS, {"type": _ARGS, "item_id": "fc_1", "delta": "z"}),  # found by item id only
    (_ARGS, {"type": _ARGS, "output_index": 1, "delta": "w"}),  # a call never announced
    (_ARGS, {"type": _ARGS, "output_index": 0, "delta": ["odd"]}),
    (_ARGS, {"type": _ARGS, "output_index": 0, "item_id": 7, "delta": "v"}),  # an odd id
    (_ARGS, {"type": _ARGS, "output_index": 1, "item_id": 7, "delta": "u"}),  # ... unknown call
    (_TEXT, {"type": _TEXT, "item_id": ["m"], "delta": "e"}),
    (_ARGS, {"type": _ARGS, "output_index": 0, "delta": "", "obfuscation": "q"}),
    ("response.in_progress", {"type": "response.in_progress", "response": {"id": "r"}}),
    ("response.in_progress", {"response": {"id": "r"}}),
    ("response.in_progress", {"type": "response.in_progress", "response": "odd"}),
    ("response.in_progress", {"type": "response.queued"}),
    ("response.content_part.added", {"type": "response.content_part.added", "part": {}}),
    ("response.web_search_call.searching",
     {"type": "response.web_search_call.searching", "output_index": 1, "item_id": "ws"}),
    ("response.web_search_call.searching", {"type": "response.web_search_call.completed"}),
    ("response.web_search_call.searching", {"type": _TEXT, "delta": "d"}),
    ("response.mystery", {"kind": "no type at all"}),
    (_ADDED, {"type": _ADDED, "output_index": 2, "item": {"type": "message", "id": "m"}}),
    (_ADDED, {"output_index": 3, "item": {"type": "web_search_call", "id": "ws"}}),
    (_ADDED, {"type": _ADDED, "item": {"type": "reasoning", "status": 7}}),  # an odd item
    (_ADDED, {"type": _ADDED, "item": None}),
    (_ADDED, {"type": _DONE_ITEM, "output_index": 2, "item": {"type": "message"}}),
    (_DONE_ITEM, {"type": _DONE_ITEM, "output_index": 4, "item": {"type": "mcp_list_tools"}}),
    (_DONE_ITEM, {"type": _DONE_ITEM, "output_index": 0, "item": fc("fc_1", "call_1", "f")}),
]


def event_by_event(data: bytes) -> list[Event]:
    """The accumulator's full path, one framed message at a time (no run, no hot loop)."""
    framer = SSEFramer()
    acc = ResponsesAccumulator()
    out: list[Event] = []
    for msg in framer.feed(data):
        acc.handle(msg, out)
    acc.finish(framer.dispatched, framer.finish(), out)
    return out


@given(
    st.lists(st.tuples(st.sampled_from(range(len(HOT_SHAPES))),
                       st.sampled_from(["next", "gap", "none"])), max_size=12),
)
def test_the_hot_loop_gives_what_the_full_path_gives(picks: list[tuple[int, str]]) -> None:
    """Deltas, opening events, passed-on types and items read inline by the run loop
    (tagged decode, no item_id, no message object) and every shape it leaves to the full path give
    the same events, errors and calls as message by message."""
    blocks = [sse(CREATED, added(0, fc("fc_1", "call_1", "f")))]
    seq = 0
    for which, step in picks:
        name, payload = HOT_SHAPES[which]
        seq += 2 if step == "gap" else 1
        body = payload if step == "none" else {**payload, "sequence_number": seq}
        blocks.append(f"event: {name}\ndata: {json.dumps(body)}\n\n".encode())
    blocks.append(sse(completed()))
    data = b"".join(blocks)
    events, _ = parse(data)
    assert normalize(events) == normalize(event_by_event(data))


def test_a_bad_byte_in_a_deltas_item_id_reads_the_same_on_every_path() -> None:
    """The hot loop never reads ``item_id`` (msgspec skips it unseen); the full path reads
    the same delta without it when that is all that fails, so a piece is not kept on one
    path and lost on the other (found by fuzzing mutated recordings)."""
    bad = json.dumps({**delta(0, "{}"), "sequence_number": 2}).encode().replace(
        b'"fc_1"', b'"fc_\xeb"')
    data = (sse({**CREATED, "sequence_number": 0},
                {**added(0, fc("fc_1", "call_1", "f")), "sequence_number": 1})
            + b"event: " + _ARGS.encode() + b"\ndata: " + bad + b"\n\n" + sse(completed()))
    events, parser = parse(data)
    assert normalize(events) == normalize(event_by_event(data))
    assert [c.arguments for c in parser.calls] == ["{}"]
    assert [e for e in events if isinstance(e, ErrorEvent)] == []


# -- odd shapes in events fcstream must not lose ---------------------------------------------


def test_terminal_event_with_odd_fields_still_ends_the_stream() -> None:
    odd = completed()
    odd["response"]["output"] = {"not": "a list"}
    data = sse(CREATED, added(0, fc("fc_1", "call_1", "f")), args_done(0, "{}"), odd)
    events, parser = parse(data)
    (error,) = errors(events)
    assert type(error) is PayloadError
    assert error.event_index == 3
    assert isinstance(events[-1], StreamDone)
    assert events[-1].status == "completed"
    assert parser.calls[0].complete
    with pytest.raises(PayloadError):
        parse(data, strict=True)


def test_odd_non_call_items_pass_through_unreported() -> None:
    strange = {"id": "x_1", "type": "web_search_call", "status": 7, "name": {"a": 1}}
    message = {"id": "m", "type": "message", "status": ["?"], "content": []}
    output = [message, strange, fc("fc_1", "call_1", "f", "{}", "completed")]
    data = sse(
        CREATED, added(0, message), added(1, strange), item_done(1, strange), completed(output)
    )
    events, parser = parse(data, strict=True)
    assert [type(e).__name__ for e in events if isinstance(e, OtherEvent | HostedToolEvent)] == [
        "OtherEvent",
        "HostedToolEvent",
        "HostedToolEvent",
    ]
    assert [c.call_id for c in parser.calls] == ["call_1"]


def test_failed_and_incomplete_details_in_odd_shapes() -> None:
    failed = {"type": "response.failed", "response": {"id": "r", "error": "overloaded"}}
    events, _ = parse(sse(CREATED, failed))
    (error,) = errors(events)
    assert isinstance(error, ProviderError)
    assert (error.message, error.code) == ("overloaded", None)
    incomplete = {"type": "response.incomplete", "response": {"incomplete_details": "?"}}
    events, _ = parse(sse(CREATED, incomplete))
    (error,) = errors(events)
    assert isinstance(error, ProviderError)
    assert error.message == "response incomplete"
    assert isinstance(events[-1], StreamDone)
    assert events[-1].status == "incomplete"


def test_output_index_reused_for_a_new_item() -> None:
    """Some compatible servers put every item at output_index 0: each added item is a new call."""
    first, second = fc("fc_a", "call_a", "f"), fc("fc_b", "call_b", "g")
    data = sse(
        CREATED,
        added(0, first),
        delta(0, "{}"),
        args_done(0, "{}"),
        item_done(0, {**first, "arguments": "{}"}),
        added(0, second),
        delta(0, "[1]"),
        args_done(0, "[1]"),
        item_done(0, {**second, "arguments": "[1]"}),
        completed(),
    )
    events, parser = parse(data, strict=True)
    assert [(c.call_id, c.arguments, c.complete) for c in parser.calls] == [
        ("call_a", "{}", True),
        ("call_b", "[1]", True),
    ]
    again = sse(CREATED, added(0, first), args_done(0, "{}"), added(0, first), completed())
    events, parser = parse(again)
    assert [type(e) for e in errors(events)] == [ProtocolError]
    assert len(parser.calls) == 1


# -- items closed as incomplete, keep-alives, lone surrogates ---------------------------------


def incomplete_response() -> dict[str, Any]:
    return {
        "type": "response.incomplete",
        "response": {
            "id": "resp_1",
            "status": "incomplete",
            "incomplete_details": {"reason": "max_output_tokens"},
        },
    }


@pytest.mark.parametrize("terminal", ["incomplete", "completed", "none"])
def test_an_item_done_with_status_incomplete_never_finishes_its_call(terminal: str) -> None:
    item = fc("fc_1", "call_1", "search")
    cut_item = {**item, "status": "incomplete", "arguments": '{"q":"his'}
    ending = {"incomplete": [incomplete_response()], "completed": [completed()], "none": []}
    data = sse(
        CREATED, added(0, item), delta(0, '{"q":"his'), item_done(0, cut_item), *ending[terminal]
    )
    events, _ = parse(data)
    [end] = ends(events)
    assert isinstance(end, CallIncomplete)
    reason = {"incomplete": "incomplete", "completed": "incomplete", "none": "truncated"}
    assert (end.reason, end.event_index) == (reason[terminal], 4)  # finish() counts 4 events
    assert end.call.arguments == '{"q":"his'
    assert not events[-1].complete  # type: ignore[union-attr]


def test_an_unstreamed_incomplete_item_in_the_final_output_is_incomplete() -> None:
    cut_item = {**fc("fc_1", "call_1", "search"), "status": "incomplete", "arguments": "{"}
    events, _ = parse(sse(CREATED, completed([cut_item])))
    [end] = ends(events)
    assert isinstance(end, CallIncomplete)
    assert end.reason == "incomplete"
    assert [e.name for e in events if isinstance(e, CallStarted)] == ["search"]


def test_a_ping_with_non_json_data_passes_through_a_responses_stream() -> None:
    ping = b"event: ping\ndata: 2025-03-03 10:00:15.018262\n\n"
    data = sse(CREATED, added(0, fc("fc_1", "call_1", "f")), delta(0, "{}"))
    data += ping + sse(args_done(0, "{}"), completed())
    events, parser = parse(data, strict=True)
    assert [(c.call_id, c.arguments, c.complete) for c in parser.calls] == [("call_1", "{}", True)]
    assert [e.type for e in events if isinstance(e, OtherEvent)] == ["ping"]
    with pytest.raises(PayloadError):  # on a plain message event it is still bad input
        parse(sse(CREATED) + b"data: 2025-03-03 10:00:15\n\n", strict=True)


def test_split_surrogates_in_responses_deltas_come_back_whole() -> None:
    high, low = "\\ud83c", "\\udf27"
    raw = [
        '{"type":"response.output_text.delta","output_index":0,"delta":"Rain ' + high + '"}',
        '{"type":"response.output_text.delta","output_index":0,"delta":"' + low + '"}',
        '{"type":"response.function_call_arguments.delta","output_index":1,"item_id":"fc_1",'
        '"delta":"{\\"i\\":\\"' + high + '"}',
        '{"type":"response.function_call_arguments.delta","output_index":1,"item_id":"fc_1",'
        '"delta":"' + low + '\\"}"}',
    ]
    data = sse(CREATED, added(1, fc("fc_1", "call_1", "f")))
    for payload in raw:
        kind = json.loads(payload)["type"]
        data += f"event: {kind}\ndata: {payload}\n\n".encode()
    done = fc("fc_1", "call_1", "f", '{"i":"\U0001f327"}', status="completed")
    data += sse(item_done(1, done), completed())
    _, parser = parse(data, strict=True)  # the item's text equals the joined halves
    result = fcstream.collect(data)
    assert result.texts == {0: "Rain \U0001f327"}
    assert [(c.arguments, c.complete) for c in parser.calls] == [('{"i":"\U0001f327"}', True)]
    assert result.complete


# -- big closing events: compared as raw JSON before any decode --------------------------------

BIG = json.dumps({"text": 'say "hi" \\ é 😀 \n\t' * 1200, "n": 1})  # ~26 KB, every escape kind
ENCODERS = {
    "msgspec (UTF-8 as is)": lambda p: msgspec.json.encode(p).decode(),
    "json.dumps ensure_ascii": json.dumps,  # \\uXXXX escapes: compared after a decode
    "json.dumps, slash escaped": lambda p: json.dumps(p).replace("/", "\\/"),
}


def big_stream(encode: Any, done: str, item: str, final: str, pieces: int = 7) -> bytes:
    step = -(-len(BIG) // pieces)
    payloads = [
        CREATED,
        added(0, fc("fc_1", "call_1", "f")),
        *(delta(0, BIG[i : i + step]) for i in range(0, len(BIG), step)),
        args_done(0, done),
        item_done(0, fc("fc_1", "call_1", "f", item, "completed")),
        completed([fc("fc_1", "call_1", "f", final, "completed")]),
    ]
    return "".join(f"event: {p['type']}\ndata: {encode(p)}\n\n" for p in payloads).encode()


@pytest.mark.parametrize("encode", ENCODERS.values(), ids=ENCODERS.keys())
def test_big_closing_texts_equal_to_the_deltas(encode: Any) -> None:
    events, parser = parse(big_stream(encode, BIG, BIG, BIG), strict=True)
    assert errors(events) == []
    (end,) = ends(events)
    assert isinstance(end, CallDone)
    assert end.event_index == 9
    assert end.call.arguments == BIG == parser.calls[0].arguments


@pytest.mark.parametrize("encode", ENCODERS.values(), ids=ENCODERS.keys())
@pytest.mark.parametrize("where", ["done", "item", "final"])
def test_big_closing_texts_that_differ_are_reported(encode: Any, where: str) -> None:
    other = BIG[:-2] + "2}"  # same length, last digit differs
    texts = {"done": BIG, "item": BIG, "final": BIG} | {where: other}
    events, parser = parse(big_stream(encode, texts["done"], texts["item"], texts["final"]))
    errs = protocol_errors(events)
    if where == "done":  # then the item and the final output disagree with the .done text
        assert [(e.event_index, e.data) for e in errs] == [(9, other), (10, BIG), (11, BIG)]
    else:
        assert [(e.event_index, e.data) for e in errs] == [({"item": 10, "final": 11}[where],
                                                             other)]
    (end,) = ends(events)
    # the .done text is authoritative; later closing events are only cross-checked
    assert end.call.arguments == (other if where == "done" else BIG)
    assert parser.calls[0].arguments == end.call.arguments


def test_done_with_arguments_as_a_json_value_is_reported_and_kept() -> None:
    done = {"type": "response.function_call_arguments.done", "output_index": 0,
            "item_id": "fc_1", "arguments": {"a": [1, 2]}}
    events, parser = parse(sse(CREATED, added(0, fc("fc_1", "call_1", "f")), done, completed()))
    (error,) = protocol_errors(events)
    assert "JSON value instead of a string" in str(error)
    (end,) = ends(events)
    assert isinstance(end, CallDone)
    assert end.call.arguments == '{"a": [1, 2]}' == parser.calls[0].arguments


def test_a_delta_after_done_in_the_same_read_is_reported() -> None:
    """The hot loop remembers the call the last delta went to; the ``.done`` between (read in
    the same run) must make the next delta look the call up again and find it final."""
    payloads = [CREATED, added(0, fc("fc_1", "call_1", "f")), delta(0, '{"a":'), delta(0, "1}"),
                args_done(0, '{"a":1}'), delta(0, "X")]
    blocks = [f"event: {p['type']}\ndata: {json.dumps(p)}\n\n".encode() for p in payloads]
    whole, calls = feed_all([b"".join(blocks)])
    assert feed_all(blocks) == (whole, calls)
    assert [type(e).__name__ for e in whole][-3:] == ["CallDone", "ErrorEvent", "StreamDone"]
    assert "after its arguments were final" in str(errors(whole)[0])
    assert calls[0].arguments == '{"a":1}'


@pytest.mark.parametrize("pieces", [[""], ["", ""], ["", '{"a":1}'], ['{"a":', "", "1}"]])
def test_empty_deltas_are_not_text_the_done_could_differ_from(pieces: list[str]) -> None:
    """An empty delta adds nothing and does not count as streamed text: a ``.done`` after
    only empty ones is the text (R03), not a difference to report; in one read or many."""
    payloads = [CREATED, added(0, fc("fc_1", "call_1", "f")),
                *(delta(0, piece) for piece in pieces), args_done(0, '{"a":1}')]
    blocks = [f"event: {p['type']}\ndata: {json.dumps(p)}\n\n".encode() for p in payloads]
    for reads in ([b"".join(blocks)], blocks):
        events, calls = feed_all(reads)
        assert errors(events) == []
        assert calls[0].arguments == '{"a":1}'


def test_big_closing_texts_equal_to_the_call_are_not_decoded_again() -> None:
    """Memory, measured (tracemalloc is exact, unlike time): an item or final output that
    repeats a 400 KB call costs about the copy of its payload, not a decoded second copy."""
    text = json.dumps({"q": 'a "b" c' * 60_000})
    head = [CREATED, added(0, fc("fc_1", "call_1", "f")), delta(0, text), args_done(0, text)]
    tail = [item_done(0, fc("fc_1", "call_1", "f", text, "completed")),
            completed([fc("fc_1", "call_1", "f", text, "completed")])]
    encode = ENCODERS["msgspec (UTF-8 as is)"]
    parser = StreamParser(strict=True)
    parser.feed("".join(f"event: {p['type']}\ndata: {encode(p)}\n\n" for p in head).encode())
    for payload in tail:
        read = f"event: {payload['type']}\ndata: {encode(payload)}\n\n".encode()
        tracemalloc.start()
        try:
            events = parser.feed(read)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert errors(events) == []
        assert peak < 1.5 * len(read)  # a decode would add the text again, and its escapes


def test_a_big_call_read_from_a_socket_is_held_about_twice_at_most() -> None:
    """Memory, measured: a 600 KB call in small deltas, read in 4 KB pieces, whose ``.done``,
    item and final output each repeat it. The framer lends each closing event its own buffer
    (no copy of the payload) and the call's fragments are joined while the ``.done`` still
    arrives, so the peak is the call and one payload: without either, three copies."""
    text = json.dumps({"q": "word " * 120_000})
    pieces = [text[i : i + 40] for i in range(0, len(text), 40)]
    payloads = [CREATED, added(0, fc("fc_1", "call_1", "f")),
                *(delta(0, piece) for piece in pieces), args_done(0, text),
                item_done(0, fc("fc_1", "call_1", "f", text, "completed")),
                completed([fc("fc_1", "call_1", "f", text, "completed")])]
    data = "".join(f"event: {p['type']}\ndata: {json.dumps(p)}\n\n" for p in payloads).encode()
    reads = [data[i : i + 4096] for i in range(0, len(data), 4096)]
    whole = [e for e in StreamParser(strict=True).feed(data) if not isinstance(e, ArgumentsDelta)]
    parser = StreamParser(strict=True)
    kept: list[Event] = []  # deltas dropped, as a consumer that runs finished calls would
    streamed = 0
    tracemalloc.start()
    try:
        for chunk in reads:
            for event in parser.feed(chunk):
                if isinstance(event, ArgumentsDelta):
                    streamed += len(event.delta)
                else:
                    kept.append(event)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kept == whole
    assert streamed == len(text)
    assert [type(e) for e in kept] == [StreamStarted, CallStarted, CallDone, Usage, StreamDone]
    assert kept[2].call.arguments == text  # type: ignore[attr-defined]
    assert peak < 2.3 * len(text)


@pytest.mark.parametrize("kind", ["response.new_kind", "response.web_search_call.searching"])
def test_a_big_payload_passed_on_is_bytes(kind: str) -> None:
    """A payload over 64 KB read in pieces is lent to the parser as the framer's buffer; an
    event that passes it on still holds ``bytes``, equal to what was sent."""
    payload = json.dumps({"type": kind, "output_index": 0, "blob": "b" * 100_000}).encode()
    data = b"event: " + kind.encode() + b"\ndata: " + payload + b"\n\n"
    parser = StreamParser(api="responses")
    events = [e for i in range(0, len(data), 4096) for e in parser.feed(data[i : i + 4096])]
    passed = [e for e in events if isinstance(e, (OtherEvent, HostedToolEvent))]
    assert len(passed) == 1
    assert type(passed[0].raw) is bytes
    assert passed[0].raw == payload
