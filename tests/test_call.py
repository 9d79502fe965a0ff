"""ToolCall: decoding on demand (json, values, split, parsed) and the next request's shapes."""

from __future__ import annotations

import dataclasses
import json
from typing import TypedDict

import msgspec
import pytest

from fcstream import ArgumentBuffer, ArgumentsError, FcstreamError, ToolCall


def make(arguments: str, **kwargs: object) -> ToolCall:
    fields: dict[str, object] = {"call_id": "call_1", "name": "get_weather", "index": 2}
    fields.update(kwargs)
    return ToolCall(arguments=arguments, **fields)  # type: ignore[arg-type]


# -- json() ------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\t "])
def test_empty_arguments_mean_no_parameters(text: str) -> None:
    assert make(text).json() == {}


def test_json_decodes_one_value() -> None:
    assert make('{"city": "Paris", "n": [1, 2.5, null, true]}').json() == {
        "city": "Paris",
        "n": [1, 2.5, None, True],
    }
    assert make(" 10 ").json() == 10
    assert make('"text"').json() == "text"


def test_invalid_json_raises_with_the_call_fields() -> None:
    with pytest.raises(ArgumentsError) as info:
        make('{"city": "Pa', call_id="call_9", name="f", index=4).json()
    error = info.value
    assert (error.call_id, error.name, error.index) == ("call_9", "f", 4)
    assert error.values_found == 0
    assert error.position == 0
    assert "not valid JSON" in error.message
    assert isinstance(error, ValueError)
    assert isinstance(error, FcstreamError)
    assert "call_9" in str(error)
    assert "'f'" in str(error)


def test_two_values_say_how_many() -> None:
    with pytest.raises(ArgumentsError) as info:
        make('{"a":1}{"a":2}').json()
    assert info.value.values_found == 2
    assert info.value.position == 14
    assert "2 JSON values" in info.value.message


def test_one_value_then_garbage() -> None:
    with pytest.raises(ArgumentsError) as info:
        make('{"query":"test"}, "limit": 10}').json()
    assert info.value.values_found == 1
    assert info.value.position == 16
    assert info.value.excerpt.startswith(', "limit"')


@pytest.mark.parametrize("text", ["NaN", "Infinity", '{"a": NaN}', "[1,]", "{'a': 1}"])
def test_non_json_is_refused(text: str) -> None:
    with pytest.raises(ArgumentsError):
        make(text).json()
    with pytest.raises(ArgumentsError):
        make(text).values()


@pytest.mark.parametrize("text", ['"\ud800"', '"\\ud800"', '{"icon":"\ud83c x"}'])
def test_lone_surrogates_are_read_as_values_reads_them(text: str) -> None:
    # A half whose partner never came (escaped or not) is JSON to the stdlib, not to msgspec:
    # json(), values() and parsed() agree, and no UnicodeEncodeError escapes.
    call = make(text)
    assert [call.json()] == call.values()
    assert call.parsed(object) == call.json()


def test_lone_surrogate_in_broken_json_is_an_arguments_error() -> None:
    with pytest.raises(ArgumentsError):
        make('{"icon":"\ud800').json()
    with pytest.raises(ArgumentsError):
        make('{"icon":"\ud800').parsed(dict)


def test_excerpt_is_bounded() -> None:
    with pytest.raises(ArgumentsError) as info:
        make("{" + "x" * 10_000).json()
    assert len(info.value.excerpt) < 200


# -- values() and split() ----------------------------------------------------------------------


def test_values_of_several_objects() -> None:
    call = make('{"path":"a"} {"path":"b"}\n{"path":"a"}')
    assert call.values() == [{"path": "a"}, {"path": "b"}, {"path": "a"}]


def test_values_of_one_value_and_of_scalars() -> None:
    assert make('{"a":1}').values() == [{"a": 1}]
    assert make("1 2 [3]").values() == [1, 2, [3]]


def test_values_of_empty_arguments_is_one_empty_object() -> None:
    assert make("").values() == [{}]


def test_values_of_invalid_text_raise() -> None:
    with pytest.raises(ArgumentsError) as info:
        make('{"a":1}{"a":').values()
    assert info.value.values_found == 1


def test_split_keeps_the_exact_text_of_each_value() -> None:
    call = make('{"path": "a"}  {"path":"b", "n": 1.50}', extra={"k": 1}, complete=True)
    first, second = call.split()
    assert first.arguments == '{"path": "a"}'
    assert second.arguments == '{"path":"b", "n": 1.50}'
    assert (first.call_id, second.call_id) == ("call_1", "call_1#1")
    for part in (first, second):
        assert (part.name, part.index, part.choice, part.api, part.extra, part.complete) == (
            "get_weather",
            2,
            0,
            "chat",
            {"k": 1},
            True,
        )


def test_split_without_id_keeps_none() -> None:
    parts = make("1 2 3", call_id=None).split()
    assert [p.call_id for p in parts] == [None, None, None]
    assert [p.arguments for p in parts] == ["1", "2", "3"]


@pytest.mark.parametrize("text", ['{"a":1}', "", "  "])
def test_split_of_one_value_is_the_call_itself(text: str) -> None:
    call = make(text)
    assert call.split() == [call]


def test_split_of_invalid_text_raises() -> None:
    with pytest.raises(ArgumentsError):
        make('{"a":1}{').split()


# -- parsed() ----------------------------------------------------------------------------------


class WeatherStruct(msgspec.Struct):
    city: str
    units: str = "c"


@dataclasses.dataclass
class WeatherData:
    city: str
    units: str = "c"


class WeatherDict(TypedDict):
    city: str
    units: str


def test_parsed_into_a_struct_a_dataclass_and_a_typeddict() -> None:
    call = make('{"city": "Oslo", "units": "f"}')
    assert call.parsed(WeatherStruct) == WeatherStruct("Oslo", "f")
    assert call.parsed(WeatherData) == WeatherData("Oslo", "f")
    assert call.parsed(WeatherDict) == {"city": "Oslo", "units": "f"}


def test_parsed_defaults_and_empty_arguments() -> None:
    assert make('{"city": "Oslo"}').parsed(WeatherStruct) == WeatherStruct("Oslo")

    class NoParams(msgspec.Struct):
        pass

    assert make("").parsed(NoParams) == NoParams()
    assert make("").parsed(dict) == {}


def test_parsed_validation_error_is_msgspecs() -> None:
    with pytest.raises(msgspec.ValidationError):
        make('{"city": 5}').parsed(WeatherStruct)
    with pytest.raises(msgspec.ValidationError):
        make("{}").parsed(WeatherData)


def test_parsed_invalid_json_is_an_arguments_error() -> None:
    with pytest.raises(ArgumentsError) as info:
        make('{"city": "Oslo"}{"city": "Rome"}').parsed(WeatherStruct)
    assert info.value.values_found == 2


def test_parsed_lax_mode() -> None:
    class Count(msgspec.Struct):
        n: int

    with pytest.raises(msgspec.ValidationError):
        make('{"n": "5"}').parsed(Count)
    assert make('{"n": "5"}').parsed(Count, strict=False) == Count(5)


# -- shapes for the next request ---------------------------------------------------------------


def test_to_chat_function_and_custom() -> None:
    assert make('{"a":1}').to_chat() == {
        "id": "call_1",
        "type": "function",
        "function": {"name": "get_weather", "arguments": '{"a":1}'},
    }
    assert make("free text", type="custom", name="grep").to_chat() == {
        "id": "call_1",
        "type": "custom",
        "custom": {"name": "grep", "input": "free text"},
    }


def test_to_responses_function_and_custom() -> None:
    call = make('{"a":1}', api="responses")
    assert call.to_responses() == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"a":1}',
    }
    assert make("{}", api="responses", item_id="fc_1").to_responses()["id"] == "fc_1"
    assert make("*.py", type="custom", name="grep", item_id="ctc_1").to_responses() == {
        "type": "custom_tool_call",
        "call_id": "call_1",
        "name": "grep",
        "input": "*.py",
        "id": "ctc_1",
    }


def test_result_for_chat() -> None:
    call = make("{}")
    assert call.result("18C") == {"role": "tool", "tool_call_id": "call_1", "content": "18C"}
    assert call.result({"temp": 18, "unit": "C"})["content"] == '{"temp":18,"unit":"C"}'
    assert call.result([1, 2])["content"] == "[1,2]"
    assert call.result(None)["content"] == "null"


def test_result_for_responses() -> None:
    call = make("{}", api="responses", item_id="fc_1")
    assert call.result("ok") == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": "ok",
    }
    assert call.result("ok", item_id="fco_1")["id"] == "fco_1"
    custom = make("x", api="responses", type="custom")
    assert custom.result(3) == {
        "type": "custom_tool_call_output",
        "call_id": "call_1",
        "output": "3",
    }


def test_result_api_override() -> None:
    assert make("{}").result("ok", api="responses")["type"] == "function_call_output"
    assert make("{}", api="responses").result("ok", api="chat")["role"] == "tool"


def test_tool_call_is_frozen() -> None:
    call = make("{}")
    with pytest.raises(AttributeError):
        call.arguments = "x"  # type: ignore[misc]
    assert call == make("{}")
    assert call != make("{}", complete=False)


# -- ArgumentBuffer ----------------------------------------------------------------------------


def test_argument_buffer_appends_and_joins_once() -> None:
    buffer = ArgumentBuffer()
    assert buffer.text() == ""
    buffer.append("")
    assert buffer.empty
    for piece in ['{"a"', "", ":", "1}"]:
        buffer.append(piece)
    assert not buffer.empty
    assert buffer.size == 7
    text = buffer.text()
    assert text == '{"a":1}'
    assert buffer.text() is text  # cached until the next append
    buffer.append(" ")
    assert buffer.text() == '{"a":1} '
    assert buffer.size == 8


def test_argument_buffer_many_pieces() -> None:
    buffer = ArgumentBuffer()
    for i in range(100_000):
        buffer.append(str(i % 10))
    assert buffer.text() == "0123456789" * 10_000


def test_argument_buffer_folds_fragments_into_blocks() -> None:
    # Memory: thousands of tiny fragments must not stay thousands of str objects.
    buffer = ArgumentBuffer()
    pieces = [f"{i % 10}" for i in range(1000)]
    for piece in pieces:
        buffer.add(piece)
    assert len(buffer) <= ArgumentBuffer.COMPACT_AT
    buffer.clear()  # the loose fragments gone, the folded blocks still hold text
    assert not buffer.empty
    buffer.extend(pieces[len(pieces) - len(pieces) % (ArgumentBuffer.COMPACT_AT + 1):])
    assert buffer.text() == "".join(pieces)
    assert buffer.text() == "".join(pieces)  # asking again is the same text
    buffer.add("x")
    assert buffer.text() == "".join(pieces) + "x"


@pytest.mark.parametrize("pieces", [
    ['{"a":', '"x\\"y"}'],
    ["é😀\n\t\x00", '"\\'],
    ["z" * 40_000, "é" * 20_000, "y"],  # pieces longer than the compare window
    [],
])
def test_equals_json_against_the_encoded_text(pieces: list[str]) -> None:
    buffer = ArgumentBuffer()
    for piece in pieces:
        buffer.add(piece)
    text = "".join(pieces)
    raw = msgspec.json.encode(text)
    assert buffer.equals_json(raw)
    assert buffer.equals_json(memoryview(raw))
    assert not buffer.equals_json(raw[:-1] + b'x"')  # longer
    if text:
        assert not buffer.equals_json(raw[:-2] + b'!"')  # the last character differs
        assert not buffer.equals_json(b'"' + raw[2:])  # shorter
    assert not buffer.equals_json(json.dumps(text + "é").encode())
    assert not buffer.equals_json(b"null")
    assert not buffer.equals_json(b"")


def test_equals_json_is_false_for_other_escaping_and_lone_surrogates() -> None:
    buffer = ArgumentBuffer()
    buffer.add("é/")
    assert buffer.equals_json('"é/"'.encode())
    assert not buffer.equals_json(b'"\\u00e9/"')  # the same text, escaped otherwise
    assert not buffer.equals_json('"é\\/"'.encode())
    halves = ArgumentBuffer()
    halves.add("\ud83d")
    halves.add("\ude00")
    assert halves.equals_json('"😀"'.encode())  # joined first: text() re-pairs the halves
    lone = ArgumentBuffer()
    lone.add("\ud83d")
    assert not lone.equals_json(b'"\\ud83d"')  # no UTF-8 for a lone half: texts decide


@pytest.mark.parametrize("pieces", [
    ['{"a":', ' 1}'],
    ["z" * 40_000, "é" * 30_000, "y"],  # a long text: compared piece by piece
    [],
])
def test_equals_says_whether_the_fragments_spell_the_text(pieces: list[str]) -> None:
    buffer = ArgumentBuffer()
    for piece in pieces:
        buffer.add(piece)
    text = "".join(pieces)
    assert buffer.equals(text)
    if len(text) >= 64 * 1024:  # compared piece by piece: the equal text replaces the pieces
        assert len(buffer) == 1
        assert buffer.text() is text
    assert not buffer.equals(text + "x")
    if text:
        assert not buffer.equals(text[:-1])
        assert not buffer.equals(text[:-1] + "!")
    assert buffer.text() == text  # comparing changed nothing


def test_settle_joins_the_fragments_once_a_big_event_holds_a_sixteenth_of_them() -> None:
    """``settle`` joins early (before a closing event's payload is complete), but only when
    that event is big enough to pay for the join; the text never changes."""
    buffer = ArgumentBuffer()
    pieces = [f"{i:05d}," for i in range(1000)]  # 6,000 characters
    for piece in pieces:
        buffer.add(piece)
    text = "".join(pieces)
    held = len(buffer) + len(buffer._blocks)
    buffer.settle(len(text) // 16 - 1)
    assert len(buffer) + len(buffer._blocks) == held  # too small an event: nothing joined
    buffer.settle(len(text) // 16 + 1)
    assert list(buffer) == [text]
    assert not buffer._blocks
    buffer.add("x")
    buffer.settle(10**6)
    assert buffer.text() == text + "x"
    assert list(buffer) == [text + "x"]
    empty = ArgumentBuffer()
    empty.settle(10**6)
    assert empty.text() == ""
