"""Results back and next-turn input for both APIs, checked against the openai SDK's types."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openai.types.chat.chat_completion_assistant_message_param import (
    ChatCompletionAssistantMessageParam,
)
from openai.types.chat.chat_completion_tool_message_param import ChatCompletionToolMessageParam
from openai.types.responses.response_custom_tool_call_output_param import (
    ResponseCustomToolCallOutputParam,
)
from openai.types.responses.response_custom_tool_call_param import ResponseCustomToolCallParam
from openai.types.responses.response_function_tool_call_param import (
    ResponseFunctionToolCallParam,
)
from openai.types.responses.response_input_param import FunctionCallOutput

import fcstream
from fcstream import (
    ToolCall,
    TurnError,
    UsageError,
    collect,
    error_result,
    next_turn_chat,
    next_turn_responses,
)
from tests.test_tools import conforms


def chat_call(n: int, name: str = "get_weather", **kw: Any) -> ToolCall:
    return ToolCall(
        call_id=f"call_{n}", name=name, arguments=json.dumps({"city": f"c{n}"}), index=n, **kw
    )


def responses_call(n: int, name: str = "get_weather", **kw: Any) -> ToolCall:
    return ToolCall(
        call_id=f"call_{n}",
        name=name,
        arguments=json.dumps({"city": f"c{n}"}),
        index=n,
        api="responses",
        item_id=f"fc_{n}",
        **kw,
    )


# -- ToolCall.result and error_result --------------------------------------------------------------


def test_result_items_in_each_shape() -> None:
    call = chat_call(0)
    chat = call.result("sunny")
    assert chat == {"role": "tool", "tool_call_id": "call_0", "content": "sunny"}
    conforms(chat, ChatCompletionToolMessageParam)
    flat = call.result({"temp": 21}, api="responses")
    assert flat == {"type": "function_call_output", "call_id": "call_0", "output": '{"temp":21}'}
    conforms(flat, FunctionCallOutput)
    with_id = responses_call(1).result("ok", item_id="fco_1")
    assert with_id["id"] == "fco_1"
    conforms(with_id, FunctionCallOutput)
    custom = ToolCall(
        call_id="c", name="shell", arguments="ls", index=0, api="responses", type="custom"
    ).result("a b")
    assert custom == {"type": "custom_tool_call_output", "call_id": "c", "output": "a b"}
    conforms(custom, ResponseCustomToolCallOutputParam)


def test_error_result_reads_as_an_error() -> None:
    assert error_result(chat_call(0), "no such city") == {
        "role": "tool",
        "tool_call_id": "call_0",
        "content": "Error: no such city",
    }
    assert error_result(chat_call(0), "x", api="responses")["output"] == "Error: x"
    assert error_result(responses_call(0), "x")["type"] == "function_call_output"


# -- chat ------------------------------------------------------------------------------------------


def test_chat_turn_for_parallel_calls_in_call_order() -> None:
    calls = [chat_call(0), chat_call(1), chat_call(2)]
    results = [calls[2].result("r2"), calls[0].result("r0"), calls[1].result({"n": 1})]
    messages = next_turn_chat(calls, results, assistant_text="Checking three cities.")
    assert messages[0] == {
        "role": "assistant",
        "content": "Checking three cities.",
        "tool_calls": [c.to_chat() for c in calls],
    }
    assert messages[1:] == [
        {"role": "tool", "tool_call_id": "call_0", "content": "r0"},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"n":1}'},
        {"role": "tool", "tool_call_id": "call_2", "content": "r2"},
    ]
    conforms(messages[0], ChatCompletionAssistantMessageParam)
    for message in messages[1:]:
        conforms(message, ChatCompletionToolMessageParam)


def test_chat_turn_from_a_mapping_and_from_responses_items() -> None:
    calls = [chat_call(0), chat_call(1)]
    by_map = next_turn_chat(calls, {"call_1": {"ok": True}, "call_0": "fine"})
    assert by_map[0]["content"] is None
    assert [m["content"] for m in by_map[1:]] == ["fine", '{"ok":true}']
    flat_items = [c.result(f"r{c.index}", api="responses") for c in calls]
    converted = next_turn_chat(calls, flat_items)
    assert converted[1:] == [c.result(f"r{c.index}") for c in calls]


def test_chat_turn_echoes_provider_call_extras() -> None:
    signature = {"google": {"thought_signature": "sig=="}}
    call = chat_call(0, extra={"extra_content": signature})
    messages = next_turn_chat([call], {"call_0": "x"})
    assert messages[0]["tool_calls"][0]["extra_content"] == signature
    plain = next_turn_chat([call], {"call_0": "x"}, extras=False)
    assert "extra_content" not in plain[0]["tool_calls"][0]


def test_chat_turn_custom_call() -> None:
    call = ToolCall(call_id="c1", name="shell", arguments="ls", index=0, type="custom")
    messages = next_turn_chat([call], [call.result("a b")])
    assert messages[0]["tool_calls"] == [
        {"id": "c1", "type": "custom", "custom": {"name": "shell", "input": "ls"}}
    ]
    conforms(messages[0], ChatCompletionAssistantMessageParam)


def test_chat_turn_rejects_calls_from_several_choices() -> None:
    with pytest.raises(UsageError, match="one choice"):
        next_turn_chat([chat_call(0), chat_call(1, choice=1)], {"call_0": "", "call_1": ""})


def test_chat_turn_from_a_parsed_stream() -> None:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        body = {
            "id": "x",
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return b"data: " + json.dumps(body).encode() + b"\n\n"

    def frag(i: int, **kw: Any) -> dict[str, Any]:
        return {"tool_calls": [{"index": i, **kw}]}

    stream = b"".join(
        [
            chunk({"role": "assistant", "content": "Let me check."}),
            chunk(frag(0, id="call_a", type="function", function={"name": "f", "arguments": ""})),
            chunk(frag(0, function={"arguments": '{"x": 1}'})),
            chunk(frag(1, id="call_b", type="function", function={"name": "g", "arguments": "{}"})),
            chunk({}, "tool_calls"),
            b"data: [DONE]\n\n",
        ]
    )
    result = collect(stream)
    messages = next_turn_chat(
        result.calls, [c.result("ok") for c in result.calls], assistant_text=result.text
    )
    assert messages[0]["content"] == "Let me check."
    assert [tc["id"] for tc in messages[0]["tool_calls"]] == ["call_a", "call_b"]
    assert messages[0]["tool_calls"][0]["function"] == {"name": "f", "arguments": '{"x": 1}'}
    assert [m["tool_call_id"] for m in messages[1:]] == ["call_a", "call_b"]


# -- Responses ------------------------------------------------------------------------------------


def test_responses_turn_full_form() -> None:
    calls = [responses_call(0), responses_call(1)]
    items = next_turn_responses(calls, [calls[1].result("r1"), calls[0].result("r0")])
    assert items == [
        {
            "type": "function_call",
            "call_id": "call_0",
            "name": "get_weather",
            "arguments": '{"city": "c0"}',
            "id": "fc_0",
        },
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city": "c1"}',
            "id": "fc_1",
        },
        {"type": "function_call_output", "call_id": "call_0", "output": "r0"},
        {"type": "function_call_output", "call_id": "call_1", "output": "r1"},
    ]
    conforms(items[0], ResponseFunctionToolCallParam)
    conforms(items[2], FunctionCallOutput)


def test_responses_turn_short_form_with_previous_response_id() -> None:
    calls = [responses_call(0), responses_call(1)]
    request = next_turn_responses(
        calls, {"call_0": "a", "call_1": [1, 2]}, previous_response_id="resp_123"
    )
    assert request == {
        "previous_response_id": "resp_123",
        "input": [
            {"type": "function_call_output", "call_id": "call_0", "output": "a"},
            {"type": "function_call_output", "call_id": "call_1", "output": "[1,2]"},
        ],
    }


def test_responses_turn_item_ids() -> None:
    calls = [responses_call(0), responses_call(1)]
    given = [calls[0].result("a", item_id="mine"), calls[1].result("b")]
    items = next_turn_responses(calls, given, item_ids=True)
    assert [i.get("id") for i in items[2:]] == ["mine", "fco_call_1"]
    custom_ids = next_turn_responses(
        calls,
        {"call_0": "a", "call_1": "b"},
        previous_response_id="r",
        item_ids=lambda c: f"out{c.index}",
    )
    assert [i["id"] for i in custom_ids["input"]] == ["out0", "out1"]
    for item in custom_ids["input"]:
        conforms(item, FunctionCallOutput)


def test_responses_turn_from_chat_items_and_custom_calls() -> None:
    fn = responses_call(0)
    custom = ToolCall(
        call_id="call_1", name="shell", arguments="ls", index=1, api="responses", type="custom"
    )
    items = next_turn_responses(
        [fn, custom], [fn.result("x", api="chat"), custom.result("y", api="chat")]
    )
    conforms(items[1], ResponseCustomToolCallParam)
    assert items[2:] == [
        {"type": "function_call_output", "call_id": "call_0", "output": "x"},
        {"type": "custom_tool_call_output", "call_id": "call_1", "output": "y"},
    ]


# -- pairing errors -------------------------------------------------------------------------------


def test_missing_result_names_the_call() -> None:
    calls = [chat_call(0), chat_call(1), chat_call(2)]
    with pytest.raises(TurnError) as info:
        next_turn_chat(calls, [calls[1].result("x")])
    assert info.value.missing == ["call_0", "call_2"]
    assert (info.value.unknown, info.value.duplicate) == ([], [])
    assert "no result for: 'call_0', 'call_2'" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unknown_and_duplicate_results_name_the_ids() -> None:
    calls = [responses_call(0), responses_call(1)]
    stray = responses_call(7).result("?")
    with pytest.raises(TurnError) as info:
        next_turn_responses(
            calls, [calls[0].result("a"), calls[0].result("b"), calls[1].result("c"), stray]
        )
    assert info.value.duplicate == ["call_0"]
    assert info.value.unknown == ["call_7"]
    assert info.value.missing == []
    text = str(info.value)
    assert "result for no call: 'call_7'" in text
    assert "twice: 'call_0'" in text
    with pytest.raises(TurnError) as info:
        next_turn_responses(
            calls, {"call_0": "a", "call_1": "b", "call_9": "c"}, previous_response_id="r"
        )
    assert info.value.unknown == ["call_9"]


def test_calls_sharing_an_id_or_without_one() -> None:
    twin = [chat_call(0), ToolCall(call_id="call_0", name="g", arguments="{}", index=1)]
    with pytest.raises(TurnError) as info:
        next_turn_chat(twin, {"call_0": "x"})
    assert info.value.duplicate == ["call_0"]
    nameless = [chat_call(0), ToolCall(call_id=None, name="g", arguments="{}", index=1)]
    with pytest.raises(TurnError) as info:
        next_turn_chat(nameless, {"call_0": "x"})
    assert info.value.without_id == [1]


def test_turn_errors_compare_by_fields() -> None:
    a = TurnError("m", missing=["x"])
    assert a == TurnError("m", missing=["x"])
    assert a != TurnError("m", missing=["y"])
    assert hash(a) == hash(TurnError("m", missing=["x"]))


@pytest.mark.parametrize(
    "results",
    [
        [{"role": "user", "content": "hi"}],
        ["sunny"],
        {"role": "tool", "tool_call_id": "call_0", "content": "x"},
    ],
)
def test_results_that_are_not_result_items(results: Any) -> None:
    with pytest.raises(UsageError):
        next_turn_chat([chat_call(0)], results)


def test_empty_turn() -> None:
    assert next_turn_chat([], []) == []
    assert next_turn_responses([], {}) == []


def test_public_names() -> None:
    for name in ("error_result", "next_turn_chat", "next_turn_responses", "TurnError"):
        assert name in fcstream.__all__
        assert getattr(fcstream, name).__module__ == "fcstream"


def test_turn_error_pickles_and_sits_in_the_tree() -> None:
    import copy
    import pickle

    error = TurnError("m", missing=["a"], unknown=["b"], duplicate=["c"], without_id=[1])
    assert isinstance(error, fcstream.FcstreamError)
    assert isinstance(error, ValueError)
    for clone in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error)):
        assert clone == error
        assert str(clone) == str(error)
    assert "+- TurnError" in (fcstream._errors.__doc__ or "")
