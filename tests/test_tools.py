"""Tool definitions (both shapes), strict schemas and tool_choice.

Shapes are checked against the openai SDK's own request TypedDicts (a test dependency only:
fcstream never imports openai), so a drift in either API's shape shows up here.
"""

from __future__ import annotations

import copy
import types
import typing
from typing import Annotated, Any, Literal

import msgspec
import pytest
import typing_extensions
from hypothesis import given
from hypothesis import strategies as st
from openai.types.chat.chat_completion_allowed_tool_choice_param import (
    ChatCompletionAllowedToolChoiceParam,
)
from openai.types.chat.chat_completion_custom_tool_param import ChatCompletionCustomToolParam
from openai.types.chat.chat_completion_function_tool_param import ChatCompletionFunctionToolParam
from openai.types.chat.chat_completion_named_tool_choice_custom_param import (
    ChatCompletionNamedToolChoiceCustomParam,
)
from openai.types.chat.chat_completion_named_tool_choice_param import (
    ChatCompletionNamedToolChoiceParam,
)
from openai.types.responses.custom_tool_param import CustomToolParam
from openai.types.responses.function_tool_param import FunctionToolParam
from openai.types.responses.tool_choice_allowed_param import ToolChoiceAllowedParam
from openai.types.responses.tool_choice_custom_param import ToolChoiceCustomParam
from openai.types.responses.tool_choice_function_param import ToolChoiceFunctionParam

import fcstream
from fcstream import (
    ArgumentsError,
    DefinitionError,
    StrictSchemaError,
    Tool,
    ToolCall,
    UsageError,
    allowed_tools,
    strict_schema,
    tool_choice,
    tools_for,
)

# -- checking values against the SDK's TypedDicts ---------------------------------------------


_REQUIRED = (typing.Required, typing_extensions.Required)
_NOT_REQUIRED = (typing.NotRequired, typing_extensions.NotRequired)


def _origin(hint: Any) -> Any:
    return typing.get_origin(hint)


def _matches(value: Any, hint: Any) -> bool:
    origin = typing.get_origin(hint)
    if hint is Any or hint is object:
        return True
    if origin in _REQUIRED or origin in _NOT_REQUIRED:
        return _matches(value, typing.get_args(hint)[0])
    if origin is Literal or origin is typing_extensions.Literal:
        return value in typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_matches(value, arg) for arg in typing.get_args(hint))
    if typing_extensions.is_typeddict(hint):
        return isinstance(value, dict) and not _problems(value, hint)
    if hint is type(None):
        return value is None
    if origin is not None:
        base = origin
        if base in (dict, typing.Dict):  # noqa: UP006
            return isinstance(value, dict)
        if isinstance(value, (list, tuple)):
            args = typing.get_args(hint)
            return not args or all(_matches(v, args[0]) for v in value)
        return isinstance(value, dict) if base is typing.Mapping else False
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, hint)


def _problems(value: dict[str, Any], td: Any) -> list[str]:
    hints = typing_extensions.get_type_hints(td, include_extras=True)
    # the SDK writes Required[...] under `from __future__ import annotations` in total=False
    # TypedDicts, so __required_keys__ is empty: read Required from the resolved hints instead
    required = {k for k, h in hints.items() if _origin(h) in _REQUIRED}
    out = [f"missing {k!r}" for k in sorted(required | td.__required_keys__) if k not in value]
    for key, item in value.items():
        if key not in hints:
            out.append(f"unknown key {key!r}")
        elif not _matches(item, hints[key]):
            out.append(f"{key!r}: {item!r} does not fit {hints[key]!r}")
    return out


def conforms(value: Any, td: Any) -> None:
    """Assert ``value`` is a valid ``td`` (an openai request TypedDict), recursively."""
    assert isinstance(value, dict), value
    problems = _problems(value, td)
    assert not problems, (td.__name__, problems, value)


# -- fixtures ------------------------------------------------------------------------------------


class Address(msgspec.Struct, forbid_unknown_fields=True):
    """A postal address."""

    street: str
    city: str
    zip: str | None = None


class Order(msgspec.Struct, forbid_unknown_fields=True):
    """Place an order.

    Second paragraph, not part of the description.
    """

    item: str
    quantity: int = 1
    ship_to: Address | None = None
    tags: list[str] = []


def get_weather(city: str, unit: Literal["c", "f"] = "c", days: int = 1) -> str:
    """Get the weather for a city.

    The forecast is cached.

    Args:
        city: The city's name,
            as written locally.
        unit (str): Celsius or Fahrenheit.
    """
    return f"{city}:{unit}:{days}"


def sphinx_style(query: str, limit: int = 10) -> list[str]:
    """Search the index.

    :param query: What to look for.
    :param int limit: How many results
        at most.
    """
    return [query] * limit


def call(arguments: str, name: str = "get_weather", **kw: Any) -> ToolCall:
    return ToolCall(
        call_id=kw.pop("call_id", "call_1"), name=name, arguments=arguments, index=0, **kw
    )


def schema_of(tp: Any) -> dict[str, Any]:
    """msgspec's schema of ``tp`` with its root reference inlined, as Tool does."""
    out: dict[str, Any] = msgspec.json.schema(tp)
    ref = out.pop("$ref")
    defs = out.pop("$defs")
    body = dict(defs.pop(ref.rsplit("/", 1)[1]))
    if defs:
        body["$defs"] = defs
    return body


# -- Tool.from_function -------------------------------------------------------------------------


def test_from_function_schema_is_msgspecs_schema_of_the_signature() -> None:
    tool = Tool.from_function(get_weather)
    assert tool.name == "get_weather"
    assert tool.description == "Get the weather for a city."
    assert isinstance(tool.params_type, type)
    assert issubclass(tool.params_type, msgspec.Struct)
    expected = schema_of(tool.params_type)
    expected.pop("title")
    assert tool.parameters == expected
    params = tool.parameters
    assert params is not None
    assert params["type"] == "object"
    assert params["required"] == ["city"]
    assert params["additionalProperties"] is False  # unknown fields are rejected on decode too
    assert params["properties"]["city"] == {
        "description": "The city's name, as written locally.",
        "type": "string",
    }
    assert params["properties"]["unit"]["description"] == "Celsius or Fahrenheit."
    assert params["properties"]["unit"]["enum"] == ["c", "f"]
    assert params["properties"]["days"] == {"type": "integer", "default": 1}
    assert "title" not in params
    assert tool.strict is False


def test_from_function_sphinx_params_and_overrides() -> None:
    tool = Tool.from_function(sphinx_style, name="search", description="Find things.")
    assert (tool.name, tool.description) == ("search", "Find things.")
    props = tool.parameters["properties"] if tool.parameters else {}
    assert props["query"]["description"] == "What to look for."
    assert props["limit"]["description"] == "How many results at most."


def test_explicit_meta_description_wins_over_the_docstring() -> None:
    def f(x: Annotated[int, msgspec.Meta(description="from Meta", ge=0)]) -> int:
        """F.

        Args:
            x: from the docstring
        """
        return x

    props = Tool.from_function(f).parameters["properties"]  # type: ignore[index]
    assert props["x"] == {"description": "from Meta", "type": "integer", "minimum": 0}


def test_from_function_nested_struct_keeps_defs() -> None:
    def ship(order: Order, express: bool = False) -> str:
        """Ship an order."""
        return order.item

    tool = Tool.from_function(ship)
    params = tool.parameters
    assert params is not None
    assert params["properties"]["order"] == {"$ref": "#/$defs/Order"}
    assert set(params["$defs"]) == {"Order", "Address"}
    assert tool.invoke(call('{"order": {"item": "pen"}}', name="ship")) == "pen"


def test_from_function_invoke_decodes_into_the_struct_and_calls() -> None:
    tool = Tool.from_function(get_weather)
    assert tool.invoke(call('{"city": "Paris", "days": 3}')) == "Paris:c:3"
    args = tool.decode(call('{"city": "Oslo"}'))
    assert isinstance(args, tool.params_type)
    with pytest.raises(msgspec.ValidationError, match=r"\$\.days"):
        tool.decode(call('{"city": "Oslo", "days": "3"}'))
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        tool.decode(call('{"city": "Oslo", "color": "red"}'))
    with pytest.raises(ArgumentsError):
        tool.decode(call('{"city": '))


def test_positional_only_and_keyword_only_parameters() -> None:
    def f(a: int, /, b: int, *, c: int = 0) -> tuple[int, int, int]:
        return (a, b, c)

    tool = Tool.from_function(f)
    assert tool.invoke(call('{"a": 1, "b": 2, "c": 3}', name="f")) == (1, 2, 3)


def test_mutable_defaults_are_copied_per_call() -> None:
    def f(items: list[int] = [1], opts: dict[str, int] = {"a": 1}) -> list[int]:  # noqa: B006
        items.append(0)
        return items

    tool = Tool.from_function(f)
    assert tool.invoke(call("{}", name="f")) == [1, 0]
    assert tool.invoke(call("", name="f")) == [1, 0]  # empty arguments mean {}


def test_unannotated_parameter_is_any() -> None:
    def f(x, y: int = 0):  # type: ignore[no-untyped-def]
        return x

    tool = Tool.from_function(f)
    assert tool.parameters["properties"]["x"] == {}  # type: ignore[index]
    assert tool.invoke(call('{"x": [1, "a"]}', name="f")) == [1, "a"]


def test_async_function_invoke_returns_a_coroutine() -> None:
    import asyncio

    async def f(x: int) -> int:
        return x + 1

    tool = Tool.from_function(f)
    assert asyncio.run(tool.invoke(call('{"x": 1}', name="f"))) == 2


@pytest.mark.parametrize(
    "fn",
    [
        lambda *args: None,
        lambda **kw: None,
    ],
)
def test_star_parameters_are_rejected(fn: Any) -> None:
    with pytest.raises(DefinitionError, match="must be named"):
        Tool.from_function(fn, name="f")


def test_bad_names_are_rejected() -> None:
    with pytest.raises(DefinitionError, match="1-64"):
        Tool.from_function(lambda x: x)  # "<lambda>"
    with pytest.raises(DefinitionError):
        Tool.from_function(get_weather, name="a" * 65)
    with pytest.raises(DefinitionError):
        Tool.custom("has space")


class Opaque:
    """A type msgspec has no schema for."""


class Node(msgspec.Struct):
    value: int
    children: list[Node] = []


def test_unresolvable_hints_are_a_definition_error() -> None:
    def f(x: Unknown) -> None:  # type: ignore[name-defined]  # noqa: F821
        return None

    with pytest.raises(DefinitionError, match="cannot read the type hints"):
        Tool.from_function(f)


def test_type_msgspec_cannot_describe_is_a_definition_error() -> None:
    def f(x: Opaque) -> None:
        return None

    with pytest.raises(DefinitionError, match="cannot describe"):
        Tool.from_function(f)


# -- Tool.from_struct ------------------------------------------------------------------------------


def test_from_struct() -> None:
    placed: list[Order] = []
    tool = Tool.from_struct(Order, fn=placed.append)
    assert tool.name == "Order"
    assert tool.description == "Place an order."
    params = tool.parameters
    assert params is not None
    expected = schema_of(Order)
    expected.pop("title")
    expected.pop("description")
    assert params == expected
    assert params["properties"]["ship_to"]["anyOf"][0] == {"$ref": "#/$defs/Address"}
    tool.invoke(call('{"item": "pen", "ship_to": {"street": "1 Rue", "city": "Lyon"}}'))
    assert placed == [Order(item="pen", ship_to=Address(street="1 Rue", city="Lyon"))]


def test_from_struct_recursive_keeps_its_own_definition() -> None:
    tool = Tool.from_struct(Node)
    params = tool.parameters
    assert params is not None
    assert params["properties"]["children"]["items"] == {"$ref": "#/$defs/Node"}
    assert "Node" in params["$defs"]
    strict = strict_schema(params)
    assert strict["$defs"]["Node"]["additionalProperties"] is False


def test_from_struct_needs_an_object() -> None:
    class Pair(msgspec.Struct, array_like=True):
        a: int
        b: int

    with pytest.raises(DefinitionError, match="JSON object"):
        Tool.from_struct(Pair)


def test_invoke_without_fn_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no function"):
        Tool.from_struct(Order).invoke(call('{"item": "x"}'))


# -- shapes ------------------------------------------------------------------------------------


def test_to_chat_and_to_responses_shapes() -> None:
    tool = Tool.from_function(get_weather, strict=True)
    chat = tool.to_chat()
    assert chat == {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the weather for a city.",
            "parameters": tool.parameters,
            "strict": True,
        },
    }
    flat = tool.to_responses()
    assert flat == {
        "type": "function",
        "name": "get_weather",
        "description": "Get the weather for a city.",
        "parameters": tool.parameters,
        "strict": True,
    }
    conforms(chat, ChatCompletionFunctionToolParam)
    conforms(flat, FunctionToolParam)
    assert tool.definition("chat") == chat
    assert tool.definition("responses") == flat


def test_definitions_are_copies() -> None:
    tool = Tool.from_function(get_weather)
    tool.to_chat()["function"]["parameters"]["properties"].clear()
    tool.to_responses()["parameters"]["properties"].clear()
    assert tool.parameters is not None
    assert tool.parameters["properties"]


@pytest.mark.parametrize(
    "tool",
    [
        Tool.from_function(get_weather),
        Tool.from_function(get_weather, strict=True),
        Tool.from_struct(Order, strict=None),
        Tool(name="bare"),
        Tool(name="described", description="d", parameters={"type": "object"}, strict=False),
        Tool(name="extra", parameters={}, extra={"defer_loading": True}),
        Tool.custom("shell", description="Run a command"),
        Tool.custom("text", format={"type": "text"}),
        Tool.custom("sql", format={"type": "grammar", "syntax": "lark", "definition": "start: X"}),
    ],
    ids=lambda t: t.name,
)
def test_both_shapes_read_back_equal(tool: Tool) -> None:
    from_chat = Tool.from_definition(tool.to_chat())
    from_flat = Tool.from_definition(tool.to_responses())
    assert from_chat == from_flat == tool
    assert Tool.from_definition(tool.to_chat(), api="chat") == tool
    assert Tool.from_definition(tool.to_responses(), api="responses") == tool
    # and writing again gives the same definitions
    assert from_chat.to_chat() == tool.to_chat()
    assert from_flat.to_responses() == tool.to_responses()


def test_strict_none_leaves_each_apis_default() -> None:
    tool = Tool(name="t", parameters={"type": "object", "properties": {}})
    assert "strict" not in tool.to_chat()["function"]
    assert tool.to_responses()["strict"] is None  # key required by the Responses request type
    conforms(tool.to_responses(), FunctionToolParam)


def test_custom_tool_shapes_and_grammar_nesting() -> None:
    grammar = {"type": "grammar", "syntax": "regex", "definition": "[a-z]+"}
    tool = Tool.custom("words", description="Lower-case words", format=grammar)
    chat = tool.to_chat()
    assert chat == {
        "type": "custom",
        "custom": {
            "name": "words",
            "description": "Lower-case words",
            "format": {"type": "grammar", "grammar": {"definition": "[a-z]+", "syntax": "regex"}},
        },
    }
    flat = tool.to_responses()
    assert flat == {
        "type": "custom",
        "name": "words",
        "description": "Lower-case words",
        "format": grammar,
    }
    conforms(chat, ChatCompletionCustomToolParam)
    conforms(flat, CustomToolParam)
    # the chat-form grammar is accepted too and stored flat
    assert (
        Tool.custom("words", description="Lower-case words", format=chat["custom"]["format"])
        == tool
    )


def test_custom_tool_gets_the_text() -> None:
    seen: list[str] = []
    tool = Tool.custom("shell", seen.append)
    tool.invoke(call("ls -la", name="shell", type="custom"))
    assert seen == ["ls -la"]


def test_definition_without_fn_decodes_to_json() -> None:
    tool = Tool.from_definition(Tool.from_function(get_weather).to_chat())
    assert tool.params_type is None
    assert tool.decode(call('{"city": "Rome"}')) == {"city": "Rome"}


# -- shape errors ------------------------------------------------------------------------------


def test_wrong_shape_error_says_which_is_which() -> None:
    tool = Tool.from_function(get_weather)
    with pytest.raises(DefinitionError) as info:
        Tool.from_definition(tool.to_responses(), api="chat")
    exc = info.value
    assert (exc.api, exc.found) == ("chat", "responses")
    text = str(exc)
    assert "Responses shape (flat) used with Chat Completions" in text
    assert '{"type": "function", "function": {"name": ..., "parameters": ...}} (nested)' in text
    assert '{"type": "function", "name": ..., "parameters": ...} (flat)' in text
    assert "to_chat()" in text
    with pytest.raises(DefinitionError) as info:
        Tool.from_definition(tool.to_chat(), api="responses")
    assert (info.value.api, info.value.found) == ("responses", "chat")
    assert "to_responses()" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("definition", "match"),
    [
        ({"name": "f", "parameters": {}}, "without 'type'.*legacy functions"),
        ({"type": "function"}, "neither shape"),
        ({"type": "function", "name": "f", "function": {"name": "f"}}, "both shapes"),
        ({"type": "web_search"}, "not a function or custom tool"),
        ({"type": "function", "function": {"parameters": {}}}, "without a name"),
        ({"type": "function", "function": "f"}, "must be an object"),
        ({"type": "function", "function": {"name": "f"}, "strict": True}, "belong inside"),
        ({"type": "function", "name": "f", "strict": "yes"}, "strict must be"),
        ({"type": "function", "name": "f", "parameters": []}, "JSON schema"),
        ({"type": "function", "name": "f", "description": 1}, "description"),
        (["not", "a", "dict"], "must be an object"),
    ],
)
def test_unreadable_definitions(definition: Any, match: str) -> None:
    with pytest.raises(DefinitionError, match=match):
        Tool.from_definition(definition)


def test_tools_for_converts_tools_and_checks_dicts() -> None:
    tool = Tool.from_function(get_weather)
    hosted = {"type": "web_search"}
    chat_dict = Tool.from_function(sphinx_style).to_chat()
    assert tools_for("chat", [tool, chat_dict]) == [tool.to_chat(), chat_dict]
    assert tools_for("responses", [tool, hosted]) == [tool.to_responses(), hosted]
    with pytest.raises(DefinitionError) as info:
        tools_for("responses", [tool, hosted, chat_dict])
    assert info.value.index == 2
    assert str(info.value).startswith("tools[2]: a definition in the Chat Completions shape")
    with pytest.raises(DefinitionError, match="two tools are named 'get_weather'"):
        tools_for("chat", [tool, tool.to_chat()])
    with pytest.raises(DefinitionError) as info:
        tools_for("chat", [{"type": "function"}])
    assert info.value.index == 0
    with pytest.raises(UsageError):
        tools_for("chat", ["get_weather"])  # type: ignore[list-item]
    with pytest.raises(UsageError):
        tools_for("completions", [tool])  # type: ignore[arg-type]


# -- strict_schema -----------------------------------------------------------------------------


def test_strict_closes_objects_and_makes_optional_nullable() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"type": "integer", "default": 3},
            "c": {"type": ["string", "null"]},
            "d": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "e": {"enum": ["x", "y"]},
            "f": {"type": "object", "properties": {"g": {"type": "boolean"}}},
            "h": {"type": "array", "items": {"type": "object", "properties": {"i": {}}}},
        },
        "required": ["a", "h"],
    }
    schema["properties"]["h"]["items"]["properties"]["i"] = {"type": "number"}
    before = copy.deepcopy(schema)
    out = strict_schema(schema)
    assert schema == before  # never mutated
    assert out == {
        "type": "object",
        "properties": {
            "a": {"type": "string"},
            "b": {"type": ["integer", "null"]},
            "c": {"type": ["string", "null"]},
            "d": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
            "e": {"enum": ["x", "y", None], "type": ["string", "null"]},
            "f": {
                "anyOf": [
                    {
                        "type": "object",
                        "properties": {"g": {"type": ["boolean", "null"]}},
                        "required": ["g"],
                        "additionalProperties": False,
                    },
                    {"type": "null"},
                ]
            },
            "h": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"i": {"type": ["number", "null"]}},
                    "required": ["i"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["a", "b", "c", "d", "e", "f", "h"],
        "additionalProperties": False,
    }


def test_strict_on_msgspec_schema_with_defs_refs_and_descriptions() -> None:
    out = strict_schema(msgspec.json.schema(Order))  # root $ref + $defs, as msgspec makes it
    assert out["type"] == "object"
    assert out["additionalProperties"] is False
    assert out["required"] == ["item", "quantity", "ship_to", "tags"]
    assert out["properties"]["ship_to"] == {
        "anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}]
    }
    address = out["$defs"]["Address"]
    assert address["additionalProperties"] is False
    assert address["required"] == ["street", "city", "zip"]
    assert address["properties"]["zip"] == {"anyOf": [{"type": "string"}, {"type": "null"}]}
    assert "Order" not in out.get("$defs", {})  # the root was inlined
    assert not _has_key(out, "default")


def test_ref_with_siblings_is_inlined_and_nullable_ref_wrapped() -> None:
    schema = {
        "type": "object",
        "properties": {
            "home": {"$ref": "#/$defs/Address", "description": "Where they live"},
            "work": {"$ref": "#/definitions/Address2"},
        },
        "required": ["home"],
        "$defs": {
            "Address": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            }
        },
        "definitions": {"Address2": {"type": "object", "properties": {}}},
    }
    out = strict_schema(schema)
    assert out["properties"]["home"] == {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
        "description": "Where they live",
    }
    assert out["properties"]["work"] == {
        "anyOf": [{"$ref": "#/definitions/Address2"}, {"type": "null"}]
    }
    assert out["definitions"]["Address2"] == {
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": False,
    }


def test_strict_keeps_nullability_without_duplicating_null() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "a": {"type": ["string", "null"], "enum": ["x", None]},
            "b": {"anyOf": [{"type": "string"}, {"type": "null"}], "description": "B"},
            "c": {"const": None},
            "d": {"type": "null"},
            "e": {"const": "only"},
        },
    }
    out = strict_schema(schema)
    assert out["properties"]["a"] == {"type": ["string", "null"], "enum": ["x", None]}
    assert out["properties"]["b"] == schema["properties"]["b"]
    assert out["properties"]["c"] == {"const": None, "type": "null"}
    assert out["properties"]["d"] == {"type": "null"}
    assert out["properties"]["e"] == {"type": ["string", "null"], "enum": ["only", None]}
    assert strict_schema(out) == out  # idempotent


def test_single_allof_is_merged_and_annotations_dropped() -> None:
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "a": {
                "allOf": [{"type": "integer", "minimum": 0}],
                "description": "A",
                "examples": [1],
                "default": 0,
            },
        },
        "required": ["a"],
    }
    assert strict_schema(schema) == {
        "type": "object",
        "properties": {"a": {"type": "integer", "minimum": 0, "description": "A"}},
        "required": ["a"],
        "additionalProperties": False,
    }


def test_strict_problems_are_listed_all_at_once_with_paths() -> None:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {
            "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "flags": {"type": "object", "additionalProperties": True, "properties": {}},
            "anything": {},
            "blob": {"type": "object"},
            "pair": {"type": "array", "prefixItems": [{"type": "integer"}], "items": False},
            "name": {"type": "string", "minLength": 1},
            "price": {"type": "string", "format": "decimal"},
            "either": {"oneOf": [{"type": "integer"}, {"type": "string"}]},
            "by_key": {"type": "object", "patternProperties": {"^x": {"type": "string"}}},
            "list": {"type": "array"},
            "ref": {"$ref": "#/$defs/Missing"},
            "odd key": {"type": "string", "x-vendor": 1},
            "nested": {"$ref": "#/$defs/Inner"},
        },
        "required": ["ghost"],
        "$defs": {"Inner": {"type": "object", "additionalProperties": {"type": "string"}}},
    }
    with pytest.raises(StrictSchemaError) as info:
        strict_schema(schema)
    exc = info.value
    assert isinstance(exc, DefinitionError)
    assert isinstance(exc, ValueError)
    paths = dict(exc.problems)
    assert set(paths) == {
        "$.required",
        "$.$defs.Inner.additionalProperties",
        "$.properties.counts.additionalProperties",
        "$.properties.flags.additionalProperties",
        "$.properties.anything",
        "$.properties.blob",
        "$.properties.pair.prefixItems",
        "$.properties.name.minLength",
        "$.properties.price.format",
        "$.properties.either.oneOf",
        "$.properties.either",
        "$.properties.by_key.patternProperties",
        "$.properties.by_key",
        "$.properties.list.items",
        "$.properties.ref.$ref",
        '$.properties["odd key"].x-vendor',
    }
    assert "open map" in paths["$.properties.counts.additionalProperties"]
    assert "open map" in paths["$.properties.blob"]
    assert "no type" in paths["$.properties.anything"]
    assert "ghost" in paths["$.required"]
    assert f"{len(exc.problems)} problems" in str(exc)
    assert "$.properties.counts.additionalProperties: an open map" in str(exc)
    assert schema["properties"]["anything"] == {}  # untouched


@pytest.mark.parametrize(
    ("schema", "found"),
    [
        ({"type": "array", "items": {"type": "string"}}, "type 'array'"),
        ({"anyOf": [{"type": "object", "properties": {}}]}, "anyOf"),
        ({}, "no type"),
        ({"type": ["object", "null"], "properties": {}}, "type ['object', 'null']"),
    ],
)
def test_root_must_be_an_object(schema: dict[str, Any], found: str) -> None:
    with pytest.raises(StrictSchemaError) as info:
        strict_schema(schema)
    assert info.value.problems[0] == (
        "$",
        f"the root must be an object (type: object), not {found}",
    )


def test_root_without_type_but_with_properties_gets_object() -> None:
    assert strict_schema({"properties": {"a": {"type": "string"}}, "required": ["a"]}) == {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
        "additionalProperties": False,
    }


def test_open_map_from_a_dict_parameter() -> None:
    def f(counts: dict[str, int]) -> None:
        return None

    with pytest.raises(StrictSchemaError) as info:
        Tool.from_function(f, strict=True)
    assert info.value.problems[0][0] == "$.properties.counts.additionalProperties"
    Tool.from_function(f)  # fine without strict


def test_strict_errors_are_comparable_and_hashable() -> None:
    a = StrictSchemaError("x", problems=[("$", "r")])
    assert a == StrictSchemaError("x", problems=[("$", "r")])
    assert hash(a) == hash(StrictSchemaError("x", problems=[("$", "r")]))


def test_strict_tool_null_means_default_at_the_root() -> None:
    tool = Tool.from_function(get_weather, strict=True)
    assert tool.nulled == {"unit", "days"}
    params = tool.parameters
    assert params is not None
    assert params["required"] == ["city", "unit", "days"]
    assert params["properties"]["days"] == {"type": ["integer", "null"]}
    assert tool.invoke(call('{"city": "Oslo", "unit": null, "days": null}')) == "Oslo:c:1"
    assert tool.invoke(call('{"city": "Oslo", "unit": "f", "days": 2}')) == "Oslo:f:2"
    with pytest.raises(msgspec.ValidationError):
        tool.decode(call('{"city": null, "unit": null, "days": null}'))


def test_optional_parameter_that_accepts_none_keeps_null() -> None:
    def f(x: int | None = 5) -> int | None:
        return x

    tool = Tool.from_function(f, strict=True)
    assert tool.nulled == frozenset()
    assert tool.invoke(call('{"x": null}', name="f")) is None


# a small grammar of schemas strict mode can accept
_leaf: st.SearchStrategy[dict[str, Any]] = st.sampled_from(
    [
        {"type": "string"},
        {"type": "integer", "minimum": 0},
        {"type": ["number", "null"]},
        {"enum": ["a", "b"]},
        {"type": "boolean", "default": True},
        {"const": 3},
    ]
)


def _object_of(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    return st.dictionaries(st.sampled_from("abcdef"), children, max_size=4).flatmap(
        lambda props: st.builds(
            lambda required: {
                "type": "object",
                "properties": props,
                "required": [k for k in props if k in required],
            },
            st.sets(st.sampled_from("abcdef")),
        )
    )


_schemas: st.SearchStrategy[dict[str, Any]] = st.recursive(
    _leaf,
    lambda children: st.one_of(
        _object_of(children),
        children.map(lambda c: {"type": "array", "items": c}),
        st.lists(children, min_size=1, max_size=3).map(lambda cs: {"anyOf": cs}),
    ),
    max_leaves=12,
)


def _objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if "properties" in node:
            found.append(node)
        for value in node.values():
            found.extend(_objects(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_objects(value))
    return found


def _has_key(node: Any, key: str) -> bool:
    if isinstance(node, dict):
        return key in node or any(_has_key(v, key) for v in node.values())
    if isinstance(node, list):
        return any(_has_key(v, key) for v in node)
    return False


@given(_object_of(_schemas))
def test_strict_invariants(schema: dict[str, Any]) -> None:
    before = copy.deepcopy(schema)
    out = strict_schema(schema)
    assert schema == before
    for obj in _objects(out):
        assert obj["additionalProperties"] is False
        assert obj["required"] == list(obj["properties"])
    assert not _has_key(out, "default")
    assert strict_schema(out) == out


# -- tool_choice ---------------------------------------------------------------------------------


@pytest.mark.parametrize("api", ["chat", "responses"])
@pytest.mark.parametrize("mode", ["auto", "none", "required"])
def test_tool_choice_modes(api: Literal["chat", "responses"], mode: Any) -> None:
    assert tool_choice(api, mode) == mode


def test_tool_choice_forced_function_and_custom() -> None:
    chat_fn = tool_choice("chat", function="get_weather")
    assert chat_fn == {"type": "function", "function": {"name": "get_weather"}}
    conforms(chat_fn, ChatCompletionNamedToolChoiceParam)
    flat_fn = tool_choice("responses", function="get_weather")
    assert flat_fn == {"type": "function", "name": "get_weather"}
    conforms(flat_fn, ToolChoiceFunctionParam)
    chat_custom = tool_choice("chat", custom="shell")
    assert chat_custom == {"type": "custom", "custom": {"name": "shell"}}
    conforms(chat_custom, ChatCompletionNamedToolChoiceCustomParam)
    flat_custom = tool_choice("responses", custom="shell")
    assert flat_custom == {"type": "custom", "name": "shell"}
    conforms(flat_custom, ToolChoiceCustomParam)


def test_allowed_tools_shapes() -> None:
    weather = Tool.from_function(get_weather)
    shell = Tool.custom("shell")
    chat = allowed_tools("chat", ["search", weather, shell], mode="required")
    assert chat == {
        "type": "allowed_tools",
        "allowed_tools": {
            "mode": "required",
            "tools": [
                {"type": "function", "function": {"name": "search"}},
                {"type": "function", "function": {"name": "get_weather"}},
                {"type": "custom", "custom": {"name": "shell"}},
            ],
        },
    }
    conforms(chat, ChatCompletionAllowedToolChoiceParam)
    mcp = {"type": "mcp", "server_label": "deepwiki"}
    flat = allowed_tools("responses", ["search", weather.to_chat(), shell.to_responses(), mcp])
    assert flat == {
        "type": "allowed_tools",
        "mode": "auto",
        "tools": [
            {"type": "function", "name": "search"},
            {"type": "function", "name": "get_weather"},
            {"type": "custom", "name": "shell"},
            mcp,
        ],
    }
    conforms(flat, ToolChoiceAllowedParam)


@pytest.mark.parametrize(
    "bad",
    [
        lambda: tool_choice("chat"),
        lambda: tool_choice("chat", "auto", function="f"),
        lambda: tool_choice("chat", "always"),  # type: ignore[arg-type]
        lambda: tool_choice("completions", "auto"),  # type: ignore[arg-type]
        lambda: tool_choice("chat", function=""),
        lambda: allowed_tools("chat", []),
        lambda: allowed_tools("chat", ["f"], mode="none"),  # type: ignore[arg-type]
        lambda: allowed_tools("responses", [3]),  # type: ignore[list-item]
    ],
)
def test_tool_choice_misuse(bad: Any) -> None:
    with pytest.raises(UsageError):
        bad()


def test_public_names() -> None:
    for name in (
        "Tool",
        "strict_schema",
        "tool_choice",
        "allowed_tools",
        "tools_for",
        "DefinitionError",
        "StrictSchemaError",
    ):
        assert name in fcstream.__all__
        assert getattr(fcstream, name).__module__ == "fcstream"


@pytest.mark.parametrize(
    "error",
    [
        DefinitionError("wrong shape", api="chat", found="responses", index=2),
        StrictSchemaError("cannot", problems=[("$.a", "open map"), ("$", "root")]),
    ],
    ids=lambda e: type(e).__name__,
)
def test_definition_errors_pickle_copy_and_tree(error: DefinitionError) -> None:
    import pickle

    assert isinstance(error, fcstream.FcstreamError)
    assert isinstance(error, ValueError)
    for clone in (pickle.loads(pickle.dumps(error)), copy.deepcopy(error)):
        assert type(clone) is type(error)
        assert clone == error
        assert str(clone) == str(error)
    assert "+- DefinitionError" in (fcstream._errors.__doc__ or "")
    assert "+- StrictSchemaError" in (fcstream._errors.__doc__ or "")
