"""The same logical calls give equal ToolCalls whichever API streamed them.

fixtures.generate writes one call set as a Chat Completions stream and as a Responses stream;
both are parsed and the calls compared apart from ``api`` and ``item_id`` (the only fields that
say which wire they came from). The shapes for the next request are checked against the openai
SDK's own request types, so "the shape each API accepts" is the SDK's definition, not ours.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fcstream import (
    ArgumentsDelta,
    CallDone,
    CallIncomplete,
    CallStarted,
    ErrorEvent,
    Event,
    StreamDone,
    StreamParser,
    ToolCall,
)
from fixtures.generate import Call, chat_stream, responses_stream, synthetic_calls

CUSTOM = Call(
    call_id="call_custom_1",
    name="apply_patch",
    arguments='*** Begin Patch\n*** Update File: src/ü.py\n@@\n-print("hi")\n+print("héllo 🌍")\n',
    type="custom",
)
EMPTY_ARGS = Call(call_id="call_noargs", name="get_time", arguments="")

CASES: dict[str, tuple[list[Call], Any]] = {
    "single": (synthetic_calls(1, 120), 8),
    "parallel-2-fragment-1": (synthetic_calls(2, 90, seed=1), 1),
    "parallel-3": (synthetic_calls(3, 300, seed=2), (4, 12)),
    "parallel-8": (synthetic_calls(8, 200, seed=3), (1, 17)),
    "unicode": (synthetic_calls(4, 400, unicode=True, seed=4), 3),
    "unicode-fragment-1": (synthetic_calls(2, 120, unicode=True, seed=5), 1),
    "custom": ([CUSTOM], 5),
    "custom-mixed": ([*synthetic_calls(2, 100, seed=6), CUSTOM], (2, 9)),
    "no-arguments": ([EMPTY_ARGS, *synthetic_calls(1, 60, seed=7)], 4),
    "big": (synthetic_calls(2, 20_000, seed=8), 64),
}


def parse(data: bytes) -> tuple[list[Event], list[ToolCall], StreamParser]:
    parser = StreamParser(strict=True)
    events = parser.feed(data)
    events += parser.finish()
    return events, parser.calls, parser


def neutral(call: ToolCall) -> ToolCall:
    """The call without what names its wire."""
    return msgspec.structs.replace(call, api="chat", item_id=None)


def call_story(events: list[Event]) -> list[tuple[Any, ...]]:
    """What happened to calls, without event indexes (they differ between the wires)."""
    story: list[tuple[Any, ...]] = []
    for e in events:
        if isinstance(e, CallStarted):
            story.append(("started", e.index, e.call_id, e.name, e.type))
        elif isinstance(e, CallDone | CallIncomplete):
            story.append((type(e).__name__, neutral(e.call)))
    return story


def deltas_by_call(events: list[Event]) -> dict[int, str]:
    text: dict[int, list[str]] = {}
    for e in events:
        if isinstance(e, ArgumentsDelta):
            text.setdefault(e.index, []).append(e.delta)
    return {i: "".join(parts) for i, parts in text.items()}


def check_same(calls: list[Call], fragment: Any, text: str = "") -> tuple[list[ToolCall], ...]:
    chat_events, chat_calls, chat = parse(chat_stream(calls, fragment=fragment, text=text))
    resp_events, resp_calls, resp = parse(responses_stream(calls, fragment=fragment, text=text))
    assert chat.api == "chat"
    assert resp.api == "responses"
    # compatible servers: no sequence_number, no event: lines (R06) -- the same calls
    bare = responses_stream(
        calls, fragment=fragment, text=text, sequence_numbers=False, event_lines=False
    )
    assert parse(bare)[1] == resp_calls
    assert [neutral(c) for c in chat_calls] == [neutral(c) for c in resp_calls]
    assert call_story(chat_events) == call_story(resp_events)
    for events in (chat_events, resp_events):
        assert not [e for e in events if isinstance(e, ErrorEvent)]
        done = events[-1]
        assert isinstance(done, StreamDone)
        assert done.complete
    # what the deltas streamed is what the calls hold
    assert deltas_by_call(chat_events) == deltas_by_call(resp_events)
    for call in resp_calls:
        assert deltas_by_call(resp_events).get(call.index, "") == call.arguments
    # the generator's truth
    assert [(c.call_id, c.name, c.arguments, c.type) for c in resp_calls] == [
        (c.call_id, c.name, c.arguments, c.type) for c in calls
    ]
    assert all(c.complete for c in (*chat_calls, *resp_calls))
    assert [c.index for c in resp_calls] == list(range(len(calls)))
    assert [c.api for c in chat_calls] == ["chat"] * len(calls)
    assert [c.api for c in resp_calls] == ["responses"] * len(calls)
    assert all(c.item_id is None for c in chat_calls)
    assert all(c.item_id and c.item_id.startswith(("fc_", "ctc_")) for c in resp_calls)
    return chat_calls, resp_calls


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_calls_from_both_apis(case: str) -> None:
    calls, fragment = CASES[case]
    check_same(calls, fragment)


def test_text_before_calls() -> None:
    check_same(synthetic_calls(2, 80, seed=9), 6, text="Let me look that up for you — ✓")


def test_item_ids_are_the_generators() -> None:
    calls = [
        dataclasses.replace(c, item_id=f"fc_custom{i}")
        for i, c in enumerate(synthetic_calls(3, 50))
    ]
    _, resp_calls = check_same(calls, 5)
    assert [c.item_id for c in resp_calls] == ["fc_custom0", "fc_custom1", "fc_custom2"]


@given(
    st.lists(
        st.tuples(
            st.text(st.characters(codec="utf-8"), max_size=60),
            st.booleans(),
        ),
        min_size=1,
        max_size=5,
    ),
    st.integers(1, 12),
)
def test_any_text_any_fragment(specs: list[tuple[str, bool]], fragment: int) -> None:
    """Arguments need not be JSON for the calls to match: any text, any fragment size."""
    calls = [
        Call(
            call_id=f"call_{i}",
            name=f"tool_{i}",
            arguments=text,
            type="custom" if custom else "function",
        )
        for i, (text, custom) in enumerate(specs)
    ]
    check_same(calls, fragment)


# -- shapes for the next request, checked against the openai SDK's request types -----------

openai_types = pytest.importorskip("openai.types")
pydantic = pytest.importorskip("pydantic")

from openai.types.chat import (  # noqa: E402
    ChatCompletionAssistantMessageParam,
    ChatCompletionToolMessageParam,
)
from openai.types.responses import ResponseInputItemParam  # noqa: E402

CHAT_ASSISTANT = pydantic.TypeAdapter(ChatCompletionAssistantMessageParam)
CHAT_TOOL = pydantic.TypeAdapter(ChatCompletionToolMessageParam)
RESPONSES_ITEM = pydantic.TypeAdapter(ResponseInputItemParam)


@pytest.mark.parametrize("case", ["parallel-3", "custom-mixed", "unicode", "no-arguments"])
def test_request_shapes(case: str) -> None:
    calls, fragment = CASES[case]
    chat_calls, resp_calls = check_same(calls, fragment)
    output = {"ok": True, "note": "é"}
    for chat_call, resp_call in zip(chat_calls, resp_calls, strict=True):
        # chat: nested function (or custom) in the assistant message, role tool result
        for call in (chat_call, resp_call):
            shape = call.to_chat()
            if call.type == "custom":
                assert shape == {
                    "id": call.call_id,
                    "type": "custom",
                    "custom": {"name": call.name, "input": call.arguments},
                }
            else:
                assert shape == {
                    "id": call.call_id,
                    "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments},
                }
            CHAT_ASSISTANT.validate_python({"role": "assistant", "tool_calls": [shape]})
            result = call.result(output, api="chat")
            assert result == {
                "role": "tool",
                "tool_call_id": call.call_id,
                "content": '{"ok":true,"note":"é"}',
            }
            CHAT_TOOL.validate_python(result)
        assert chat_call.result("done") == chat_call.result("done", api="chat")

        # responses: flat function_call / custom_tool_call with call_id, *_output results
        for call in (chat_call, resp_call):
            item = call.to_responses()
            if call.type == "custom":
                expected = {
                    "type": "custom_tool_call",
                    "call_id": call.call_id,
                    "name": call.name,
                    "input": call.arguments,
                }
            else:
                expected = {
                    "type": "function_call",
                    "call_id": call.call_id,
                    "name": call.name,
                    "arguments": call.arguments,
                }
            if call.item_id is not None:
                expected["id"] = call.item_id
            assert item == expected
            RESPONSES_ITEM.validate_python(item)
            result = call.result("42", api="responses")
            kind = "custom_tool_call_output" if call.type == "custom" else "function_call_output"
            assert result == {"type": kind, "call_id": call.call_id, "output": "42"}
            RESPONSES_ITEM.validate_python(result)
        assert resp_call.result("done") == resp_call.result("done", api="responses")
        assert "id" in resp_call.to_responses()
        assert "id" not in chat_call.to_responses()
        assert resp_call.to_chat() == chat_call.to_chat()


# -- the generator itself --------------------------------------------------------------------


def test_synthetic_calls_are_json_of_about_the_size_asked() -> None:
    import json

    for unicode in (False, True):
        calls = synthetic_calls(5, 500, unicode=unicode, seed=11)
        assert len({c.call_id for c in calls}) == 5
        for call in calls:
            json.loads(call.arguments)
            assert 500 <= len(call.arguments.encode()) <= 560
        if unicode:
            assert any(len(c.arguments.encode()) > len(c.arguments) for c in calls)
    assert synthetic_calls(3, 100, seed=1) == synthetic_calls(3, 100, seed=1)


def test_chat_stream_options() -> None:
    calls = synthetic_calls(2, 60)
    base = parse(chat_stream(calls))[1]
    assert parse(chat_stream(calls, line_ending="\r\n"))[1] == base
    events, two, _ = parse(chat_stream(calls, choices=2))
    assert [c for c in two if c.choice == 0] == base
    assert [c.call_id for c in two if c.choice == 1] == [f"{c.call_id}_1" for c in calls]
    events, cut, _ = parse(chat_stream(calls, finish_reason=None, done=False))
    assert isinstance(events[-1], StreamDone)
    assert events[-1].status == "truncated"
    assert [c.complete for c in cut] == [True, False]  # the first ended when the second began


def test_bundled_files_are_what_the_generator_writes() -> None:
    """fixtures/streams and fixtures/quirks are generated: rerun `python -m fixtures.generate`
    after changing the generator, so the files never drift from their source."""
    import json

    from fixtures.generate import QUIRKS_DIR, STREAMS_DIR, demo_streams, responses_quirks

    for name, data in demo_streams().items():
        assert (STREAMS_DIR / name).read_bytes() == data, name
    for stem, (data, expected) in responses_quirks().items():
        assert (QUIRKS_DIR / f"{stem}.sse").read_bytes() == data, stem
        on_disk = json.loads((QUIRKS_DIR / f"{stem}.expected.json").read_text(encoding="utf-8"))
        assert on_disk == expected, stem
