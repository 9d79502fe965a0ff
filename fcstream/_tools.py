"""Tool definitions for both APIs, strict schemas, and ``tool_choice``.

One definition, two shapes, and mixing them up is the most common integration mistake::

    Chat Completions  {"type": "function", "function": {"name": ..., "parameters": ...}}  nested
    Responses         {"type": "function", "name": ..., "parameters": ...}                flat

A :class:`Tool` is neither: ``to_chat()`` and ``to_responses()`` write each shape,
``Tool.from_definition()`` reads both (and gives equal Tools for the two), and :func:`tools_for`
refuses a dict in the other API's shape with an error that shows both.

Schemas come from ``msgspec.json.schema`` and never from a hand-written converter, so the schema
the model sees and the type the arguments decode into (``Tool.params_type``) are one type.
"""

from __future__ import annotations

import copy
import inspect
import json
import re
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import partial
from typing import Annotated, Any, Final, Literal

import msgspec

from ._call import Api, CallType, ToolCall
from ._errors import DefinitionError, StrictSchemaError, UsageError

__all__ = ["Tool", "allowed_tools", "strict_schema", "tool_choice", "tools_for"]

ToolChoiceMode = Literal["auto", "none", "required"]
AllowedMode = Literal["auto", "required"]

_API_NAMES: Final = {"chat": "Chat Completions", "responses": "Responses"}
_CHAT_SHAPE: Final = '{"type": "function", "function": {"name": ..., "parameters": ...}} (nested)'
_RESPONSES_SHAPE: Final = '{"type": "function", "name": ..., "parameters": ...} (flat)'
SHAPES: Final = f"Chat Completions expects {_CHAT_SHAPE}; Responses expects {_RESPONSES_SHAPE}"
"""The sentence every shape error ends with: once both shapes are side by side, the fix is plain."""

_NAME: Final = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
"""OpenAI's rule for function names; other providers accept a subset of the same."""

_MUTABLE_DEFAULTS: Final = (list, dict, set, bytearray)


# -- the Tool ---------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Tool:
    """A tool the model may call, independent of the API it is sent to.

    - ``name``, ``description``: as sent to the model.
    - ``parameters``: the JSON schema of the arguments (``None``: the definition had none).
    - ``strict``: ``True``/``False`` are written to both shapes; ``None`` leaves each API's own
      default, and the two differ (Chat Completions: not strict; Responses: strict, normalising
      the schema server-side, which makes optional parameters mandatory). Strict mode and parallel
      calls do not mix: the guarantee needs ``parallel_tool_calls: false`` in the request.
    - ``type``: ``"function"`` (JSON arguments) or ``"custom"`` (free-form text input).
    - ``format``: a custom tool's input format, in the flat Responses form (``{"type": "text"}``
      or ``{"type": "grammar", "syntax": ..., "definition": ...}``); chat nests the grammar.
    - ``extra``: other keys of the definition (e.g. Responses ``defer_loading``), written back
      where they were read (inside ``function`` for chat, at the top for Responses).
    - ``params_type``: the type the arguments decode into (a msgspec Struct); ``fn``: the Python
      function :meth:`invoke` runs. Neither takes part in equality: a definition read back from
      JSON equals the Tool it was written from.
    """

    name: str
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None
    type: CallType = "function"
    format: dict[str, Any] | None = None
    extra: dict[str, Any] | None = None
    params_type: Any = field(default=None, compare=False, repr=False)
    fn: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    # how invoke() passes decoded arguments: None = as one value; else the field names, passed
    # as keywords except the first ``positional`` (positional-only parameters)
    keywords: tuple[str, ...] | None = field(default=None, compare=False, repr=False)
    positional: int = field(default=0, compare=False, repr=False)
    # root properties that only strict mode made nullable: a null there means "use the default"
    nulled: frozenset[str] = field(default=frozenset(), compare=False, repr=False)

    # -- building -----------------------------------------------------------------------

    @classmethod
    def from_function(
        cls,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool | None = False,
    ) -> Tool:
        """A tool from a function's signature and docstring.

        The parameters become a msgspec Struct (``msgspec.defstruct``: annotations, defaults,
        unknown fields rejected) whose ``msgspec.json.schema`` is the tool's ``parameters``; the
        docstring's first paragraph is the description, and ``Args:`` or ``:param x:`` entries
        describe the parameters. ``strict=True`` passes the schema through :func:`strict_schema`.

        Raises :class:`DefinitionError` for ``*args``/``**kwargs``, a name the APIs reject or a
        type msgspec cannot describe, and :class:`StrictSchemaError` for a strict schema that
        cannot be made.
        """
        tool_name = name if name else str(getattr(fn, "__name__", ""))
        _check_name(tool_name)
        doc = inspect.getdoc(fn) or ""
        summary, param_docs = _parse_docstring(doc)
        try:
            hints = typing.get_type_hints(fn, include_extras=True)
        except Exception as exc:
            raise DefinitionError(f"cannot read the type hints of {tool_name!r}: {exc}") from exc
        fields: list[tuple[str, Any] | tuple[str, Any, Any]] = []
        positional = 0
        for param in inspect.signature(fn).parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise DefinitionError(
                    f"{tool_name!r} takes *{param.name}: a tool's parameters must be named"
                )
            if param.kind is param.POSITIONAL_ONLY:
                positional += 1
            annotation = _describe(hints.get(param.name, Any), param_docs.get(param.name))
            if param.default is param.empty:
                fields.append((param.name, annotation))
            elif isinstance(param.default, _MUTABLE_DEFAULTS):
                factory = partial(copy.deepcopy, param.default)
                fields.append((param.name, annotation, msgspec.field(default_factory=factory)))
            else:
                fields.append((param.name, annotation, param.default))
        try:
            params_type = msgspec.defstruct(
                tool_name,
                fields,
                kw_only=True,
                forbid_unknown_fields=True,
                module=getattr(fn, "__module__", None),
            )
            schema = _schema_of(params_type)
        except (TypeError, ValueError) as exc:
            raise DefinitionError(
                f"cannot describe the parameters of {tool_name!r}: {exc}"
            ) from exc
        schema.pop("title", None)  # the generated Struct's name: the tool's name already says it
        return cls._build(
            name=tool_name,
            description=description if description is not None else (summary or None),
            schema=schema,
            strict=strict,
            params_type=params_type,
            fn=fn,
            keywords=params_type.__struct_fields__,
            positional=positional,
        )

    @classmethod
    def from_struct(
        cls,
        type: Any,
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool | None = False,
        fn: Callable[[Any], Any] | None = None,
    ) -> Tool:
        """A tool whose arguments are one msgspec Struct (or dataclass, TypedDict...).

        The schema is ``msgspec.json.schema(type)`` with the root inlined; the name defaults to
        the type's name and the description to its docstring's first paragraph. :meth:`invoke`
        calls ``fn(args)`` with the decoded value.

        Raises :class:`DefinitionError` when the type is not an object msgspec can describe.
        """
        tool_name = name if name else str(getattr(type, "__name__", ""))
        _check_name(tool_name)
        try:
            schema = _schema_of(type)
        except (TypeError, ValueError) as exc:
            raise DefinitionError(f"cannot describe {tool_name!r}: {exc}") from exc
        if schema.get("type") != "object":
            raise DefinitionError(
                f"the parameters of {tool_name!r} must be a JSON object, not {schema!r}"
            )
        # the type's name and docstring: already the tool's name and description
        schema.pop("title", None)
        schema.pop("description", None)
        summary, _ = _parse_docstring(inspect.getdoc(type) or "")
        return cls._build(
            name=tool_name,
            description=description if description is not None else (summary or None),
            schema=schema,
            strict=strict,
            params_type=type,
            fn=fn,
            keywords=None,
            positional=0,
        )

    @classmethod
    def custom(
        cls,
        name: str,
        fn: Callable[[str], Any] | None = None,
        *,
        description: str | None = None,
        format: Mapping[str, Any] | None = None,
    ) -> Tool:
        """A custom (free-form) tool: the model sends text, ``fn`` gets that text.

        ``format`` is ``{"type": "text"}`` or a grammar in either API's form; it is stored flat.
        """
        _check_name(name)
        return cls(
            name=name,
            description=description,
            type="custom",
            format=_flat_format(format),
            fn=fn,
        )

    @classmethod
    def _build(
        cls,
        *,
        name: str,
        description: str | None,
        schema: dict[str, Any],
        strict: bool | None,
        params_type: Any,
        fn: Callable[..., Any] | None,
        keywords: tuple[str, ...] | None,
        positional: int,
    ) -> Tool:
        nulled: frozenset[str] = frozenset()
        if strict:
            properties = schema.get("properties") or {}
            required = set(schema.get("required") or ())
            nulled = frozenset(
                key
                for key, sub in properties.items()
                if key not in required and not _accepts_null(sub)
            )
            schema = strict_schema(schema)
        return cls(
            name=name,
            description=description,
            parameters=schema,
            strict=strict,
            params_type=params_type,
            fn=fn,
            keywords=keywords,
            positional=positional,
            nulled=nulled,
        )

    # -- reading definitions ----------------------------------------------------------------

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any], *, api: Api | None = None) -> Tool:
        """Read a function or custom tool definition in either shape.

        With ``api``, the definition must be in that API's shape. Raises
        :class:`DefinitionError` for a definition in the other shape (the message shows both),
        one that is neither, or a hosted tool (``web_search``, ``mcp``...), which is not
        something the client runs.
        """
        found = _shape(definition)
        if api is not None and found != api:
            raise _shape_error(api, found)
        kind: CallType = definition["type"]
        if found == "chat":
            body = definition[kind]
            if not isinstance(body, Mapping):
                raise DefinitionError(f"{kind!r} must be an object; {SHAPES}", api=api, found=found)
            known = _known_keys(kind)
            rest = {k: v for k, v in definition.items() if k not in ("type", kind)}
            if rest:
                raise DefinitionError(
                    f"keys {sorted(rest)} beside {kind!r} in a nested (chat) definition: "
                    f"they belong inside it; {SHAPES}",
                    api=api,
                    found=found,
                )
        else:
            body = definition
            known = {*_known_keys(kind), "type"}
        name = body.get("name")
        if not isinstance(name, str) or not name:
            raise DefinitionError(f"a definition without a name; {SHAPES}", api=api, found=found)
        description = body.get("description")
        strict = body.get("strict")
        parameters = body.get("parameters")
        if description is not None and not isinstance(description, str):
            raise DefinitionError(f"{name!r}: description must be a string", api=api, found=found)
        if strict is not None and not isinstance(strict, bool):
            raise DefinitionError(
                f"{name!r}: strict must be true, false or null", api=api, found=found
            )
        if parameters is not None and not isinstance(parameters, Mapping):
            raise DefinitionError(
                f"{name!r}: parameters must be a JSON schema", api=api, found=found
            )
        extra = {k: copy.deepcopy(v) for k, v in body.items() if k not in known}
        fmt = body.get("format") if kind == "custom" else None
        return cls(
            name=name,
            description=description,
            parameters=copy.deepcopy(dict(parameters)) if parameters is not None else None,
            strict=strict,
            type=kind,
            format=_flat_format(fmt),
            extra=extra or None,
        )

    # -- writing definitions ----------------------------------------------------------------

    def to_chat(self) -> dict[str, Any]:
        """The Chat Completions definition: ``{"type": ..., <type>: {"name": ...}}`` (nested)."""
        body: dict[str, Any] = {"name": self.name}
        if self.description is not None:
            body["description"] = self.description
        if self.type == "custom":
            if self.format is not None:
                body["format"] = _chat_format(self.format)
        else:
            if self.parameters is not None:
                body["parameters"] = copy.deepcopy(self.parameters)
            if self.strict is not None:
                body["strict"] = self.strict
        body.update(copy.deepcopy(self.extra or {}))
        return {"type": self.type, self.type: body}

    def to_responses(self) -> dict[str, Any]:
        """The Responses definition: ``{"type": ..., "name": ..., ...}`` (flat).

        ``parameters`` and ``strict`` are always present (``null`` when unset), as the Responses
        request type requires; ``strict: null`` means the API's default, which is strict.
        """
        out: dict[str, Any] = {"type": self.type, "name": self.name}
        if self.description is not None:
            out["description"] = self.description
        if self.type == "custom":
            if self.format is not None:
                out["format"] = copy.deepcopy(self.format)
        else:
            out["parameters"] = copy.deepcopy(self.parameters)
            out["strict"] = self.strict
        out.update(copy.deepcopy(self.extra or {}))
        return out

    def definition(self, api: Api) -> dict[str, Any]:
        """``to_chat()`` or ``to_responses()``, by name."""
        if api == "chat":
            return self.to_chat()
        if api == "responses":
            return self.to_responses()
        raise UsageError(f"api must be 'chat' or 'responses', not {api!r}")

    # -- running --------------------------------------------------------------------------

    def decode(self, call: ToolCall) -> Any:
        """The call's arguments as this tool takes them: decoded straight into ``params_type``
        (no intermediate dict), the decoded JSON when there is no ``params_type``, or the raw
        text for a custom tool.

        For a strict tool, a ``null`` sent for a parameter that only strict mode made nullable
        means "use the default" and is dropped before decoding (root level only: give nested
        Struct fields an explicit ``| None`` for strict mode).

        Raises :class:`ArgumentsError` (not one JSON value) and ``msgspec.ValidationError``
        (valid JSON that does not fit the type; its message names the JSON path).
        """
        if self.type == "custom":
            return call.arguments
        if self.params_type is None:
            return call.json()
        if self.nulled:
            value = call.json()
            if isinstance(value, dict) and any(value.get(key, 0) is None for key in self.nulled):
                kept = {k: v for k, v in value.items() if not (v is None and k in self.nulled)}
                return msgspec.json.decode(msgspec.json.encode(kept), type=self.params_type)
        return call.parsed(self.params_type)

    def run(self, args: Any) -> Any:
        """Call ``fn`` with already decoded arguments (see :meth:`decode`).

        A function tool gets its parameters by name (positional-only ones by position); a
        Struct tool gets the Struct; a custom tool the text. The result is returned as is (a
        coroutine for an async ``fn``). Raises :class:`UsageError` when the tool has no ``fn``.
        """
        fn = self.fn
        if fn is None:
            raise UsageError(f"tool {self.name!r} has no function to run")
        names = self.keywords
        if names is None:
            return fn(args)
        values = [getattr(args, n) for n in names]
        cut = self.positional
        return fn(*values[:cut], **dict(zip(names[cut:], values[cut:], strict=True)))

    def invoke(self, call: ToolCall) -> Any:
        """``run(decode(call))``: decode the arguments and call the function."""
        return self.run(self.decode(call))


# -- shapes -------------------------------------------------------------------------------------


def _known_keys(kind: str) -> set[str]:
    if kind == "custom":
        return {"name", "description", "format"}
    return {"name", "description", "parameters", "strict"}


def _shape(definition: Any) -> Api:
    """Which API's shape a function/custom definition is in; DefinitionError if neither."""
    if not isinstance(definition, Mapping):
        raise DefinitionError(
            f"a tool definition must be an object, not {type(definition).__name__}; {SHAPES}"
        )
    kind = definition.get("type")
    if kind is None:
        hint = (
            " (a bare function definition, as in the legacy functions= parameter)"
            if "name" in definition
            else ""
        )
        raise DefinitionError(f"a tool definition without 'type'{hint}; {SHAPES}")
    if kind not in ("function", "custom"):
        raise DefinitionError(f"a {kind!r} tool is not a function or custom tool the client runs")
    nested = kind in definition
    flat = "name" in definition
    if nested and not flat:
        return "chat"
    if flat and not nested:
        return "responses"
    what = "both shapes at once" if nested else "neither shape"
    raise DefinitionError(f"this definition is in {what}; {SHAPES}")


def _shape_error(api: Api, found: Api, index: int | None = None) -> DefinitionError:
    convert = "to_chat()" if api == "chat" else "to_responses()"
    return DefinitionError(
        f"a definition in the {_API_NAMES[found]} shape "
        f"({'nested' if found == 'chat' else 'flat'}) used with {_API_NAMES[api]}. {SHAPES}. "
        f"Tool.from_definition(d).{convert} converts it",
        api=api,
        found=found,
        index=index,
    )


def tools_for(api: Api, tools: Iterable[Tool | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The ``tools`` request parameter for ``api``.

    :class:`Tool` objects are written in the API's shape; dicts are checked and passed through
    unchanged: a function or custom definition in the other API's shape raises
    :class:`DefinitionError` (``.index`` says which), other types (hosted tools such as
    ``web_search``) pass as they are. Two tools with one name raise too.
    """
    if api not in _API_NAMES:
        raise UsageError(f"api must be 'chat' or 'responses', not {api!r}")
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, tool in enumerate(tools):
        if isinstance(tool, Tool):
            name = tool.name
            out.append(tool.definition(api))
        elif isinstance(tool, Mapping):
            if tool.get("type") not in ("function", "custom"):
                out.append(dict(tool))
                continue
            try:
                found = _shape(tool)
            except DefinitionError as exc:
                exc.index = index
                raise
            if found != api:
                raise _shape_error(api, found, index)
            name = Tool.from_definition(tool).name
            out.append(dict(tool))
        else:
            raise UsageError(f"tools[{index}] is a {type(tool).__name__}, not a Tool or a dict")
        if name in seen:
            raise DefinitionError(f"two tools are named {name!r}", api=api, index=index)
        seen.add(name)
    return out


def _flat_format(fmt: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A custom tool format in the flat (Responses) form; chat nests the grammar."""
    if fmt is None:
        return None
    out = copy.deepcopy(dict(fmt))
    grammar = out.get("grammar")
    if out.get("type") == "grammar" and isinstance(grammar, Mapping):
        del out["grammar"]
        out.update(grammar)
    return out


def _chat_format(fmt: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(fmt))
    if out.get("type") == "grammar" and "grammar" not in out:
        inner = {k: out.pop(k) for k in ("definition", "syntax") if k in out}
        out["grammar"] = inner
    return out


# -- tool_choice ----------------------------------------------------------------------------------


def tool_choice(
    api: Api,
    mode: ToolChoiceMode | None = None,
    *,
    function: str | None = None,
    custom: str | None = None,
) -> str | dict[str, Any]:
    """The ``tool_choice`` request parameter in ``api``'s shape; give exactly one of:

    - ``mode``: ``"auto"``, ``"none"`` or ``"required"`` (the same string for both APIs);
    - ``function``: force that function. Chat nests it
      (``{"type": "function", "function": {"name": ...}}``), Responses does not
      (``{"type": "function", "name": ...}``);
    - ``custom``: force that custom tool (``{"type": "custom", "custom": {"name": ...}}`` or
      ``{"type": "custom", "name": ...}``).

    For a subset of tools, see :func:`allowed_tools`. Raises :class:`UsageError` otherwise.
    """
    _check_api(api)
    given = [x for x in (mode, function, custom) if x is not None]
    if len(given) != 1:
        raise UsageError("give exactly one of mode, function= or custom=")
    if mode is not None:
        if mode not in ("auto", "none", "required"):
            raise UsageError(f"mode must be 'auto', 'none' or 'required', not {mode!r}")
        return mode
    if function is not None:
        return _named(api, "function", function)
    assert custom is not None
    return _named(api, "custom", custom)


def allowed_tools(
    api: Api,
    tools: Iterable[str | Tool | Mapping[str, Any]],
    *,
    mode: AllowedMode = "auto",
) -> dict[str, Any]:
    """``tool_choice`` that limits the model to some tools, keeping the full ``tools`` list
    (and the prompt cache) unchanged.

    ``tools`` are function names, :class:`Tool` objects (their type is kept) or dicts: function
    and custom definitions in either shape are reduced to their name; anything else (a hosted
    tool such as ``{"type": "mcp", "server_label": ...}``) is passed as is. ``mode="auto"``
    lets the model answer without calling; ``"required"`` makes it call one of them. The shapes
    differ: chat ``{"type": "allowed_tools", "allowed_tools": {"mode": ..., "tools": [...]}}``,
    Responses ``{"type": "allowed_tools", "mode": ..., "tools": [...]}``.
    """
    _check_api(api)
    if mode not in ("auto", "required"):
        raise UsageError(f"mode must be 'auto' or 'required', not {mode!r}")
    refs: list[dict[str, Any]] = []
    for tool in tools:
        if isinstance(tool, str):
            refs.append(_named(api, "function", tool))
        elif isinstance(tool, Tool):
            refs.append(_named(api, tool.type, tool.name))
        elif isinstance(tool, Mapping):
            if tool.get("type") in ("function", "custom"):
                ref = Tool.from_definition(tool)
                refs.append(_named(api, ref.type, ref.name))
            else:
                refs.append(dict(tool))
        else:
            raise UsageError(f"cannot refer to a tool by a {type(tool).__name__}")
    if not refs:
        raise UsageError("allowed_tools needs at least one tool")
    if api == "chat":
        return {"type": "allowed_tools", "allowed_tools": {"mode": mode, "tools": refs}}
    return {"type": "allowed_tools", "mode": mode, "tools": refs}


def _named(api: Api, kind: str, name: str) -> dict[str, Any]:
    if not isinstance(name, str) or not name:
        raise UsageError(f"a tool name must be a non-empty string, not {name!r}")
    if api == "chat":
        return {"type": kind, kind: {"name": name}}
    return {"type": kind, "name": name}


def _check_api(api: str) -> None:
    if api not in _API_NAMES:
        raise UsageError(f"api must be 'chat' or 'responses', not {api!r}")


# -- schemas from types ---------------------------------------------------------------------------


def _schema_of(tp: Any) -> dict[str, Any]:
    """``msgspec.json.schema`` with the root's ``$ref`` inlined (a tool's parameters must be an
    object, not a reference), keeping ``$defs`` only for what is still referenced."""
    (root,), components = msgspec.json.schema_components([tp], ref_template="#/$defs/{name}")
    return _inline_root({**root, "$defs": components} if components else dict(root))


def _inline_root(schema: dict[str, Any]) -> dict[str, Any]:
    """``{"$ref": "#/$defs/X", "$defs": {...}}`` -> X's body (plus the ``$defs`` still used)."""
    ref = schema.get("$ref")
    if not isinstance(ref, str):
        return schema
    for key in ("$defs", "definitions"):
        prefix = f"#/{key}/"
        defs = schema.get(key)
        if not (ref.startswith(prefix) and isinstance(defs, dict)):
            continue
        target = defs.get(ref[len(prefix) :])
        if not isinstance(target, dict):
            return schema
        name = ref[len(prefix) :]
        rest = {k: v for k, v in defs.items() if k != name}
        body = {k: v for k, v in schema.items() if k not in ("$ref", key)}
        out = {**copy.deepcopy(target), **body}
        if _refers(target, ref) or _refers(rest, ref):
            rest = defs  # recursive: keep the root's definition for the references to it
        if rest:
            out[key] = rest
        return out
    return schema


def _refers(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_refers(v, ref) for v in node.values())
    if isinstance(node, list):
        return any(_refers(v, ref) for v in node)
    return False


def _describe(annotation: Any, doc: str | None) -> Any:
    """``Annotated[T, Meta(description=doc)]`` unless the annotation already has a description
    (an explicit ``Meta`` wins over the docstring)."""
    if not doc:
        return annotation
    if typing.get_origin(annotation) is Annotated:
        for meta in annotation.__metadata__:
            if isinstance(meta, msgspec.Meta) and meta.description:
                return annotation
    return Annotated[annotation, msgspec.Meta(description=doc)]


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise DefinitionError(
            f"tool name {name!r} is not 1-64 letters, digits, '_' or '-' (the APIs reject it); "
            "pass name="
        )


# -- docstrings -----------------------------------------------------------------------------------

_SECTION: Final = re.compile(
    r"^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments)\s*:\s*$"
)
_GOOGLE_ITEM: Final = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_SPHINX_PARAM: Final = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The first paragraph (lines joined) and per-parameter descriptions from Google-style
    ``Args:`` sections and Sphinx ``:param x:`` lines. Anything else is left alone."""
    lines = doc.splitlines()
    summary: list[str] = []
    for line in lines:
        text = line.strip()
        if not text or _SECTION.match(text) or text.startswith(":"):
            break
        summary.append(text)
    params: dict[str, str] = {}
    i, n = 0, len(lines)
    while i < n:
        line = lines[i]
        text = line.strip()
        if _SECTION.match(text):
            base, item_indent, current = _indent(line), -1, None
            i += 1
            while i < n:
                entry = lines[i]
                if not entry.strip():
                    i += 1
                    continue
                depth = _indent(entry)
                if depth <= base:
                    break
                if item_indent < 0:
                    item_indent = depth
                match = _GOOGLE_ITEM.match(entry.strip()) if depth == item_indent else None
                if match:
                    current = match.group(1)
                    params[current] = match.group(2).strip()
                elif current is not None:
                    params[current] = f"{params[current]} {entry.strip()}".strip()
                i += 1
            continue
        match = _SPHINX_PARAM.match(text)
        if match:
            current, parts = match.group(1), [match.group(2).strip()]
            base = _indent(line)
            i += 1
            while i < n and lines[i].strip() and _indent(lines[i]) > base:
                parts.append(lines[i].strip())
                i += 1
            params[current] = " ".join(p for p in parts if p)
            continue
        i += 1
    return " ".join(summary), params


# -- strict mode ----------------------------------------------------------------------------------

_DROPPED: Final = frozenset(
    {
        "default",
        "examples",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$comment",
        "$schema",
        "discriminator",
    }
)
"""Annotations that never constrain a value and that strict mode may reject. ``default`` in
particular can never apply once every property is required; ``discriminator`` (from tagged
unions) only repeats what each variant's tag already says."""

_ALLOWED: Final = frozenset(
    {
        "type",
        "properties",
        "required",
        "additionalProperties",
        "items",
        "anyOf",
        "enum",
        "const",
        "$ref",
        "$defs",
        "definitions",
        "description",
        "title",
        "pattern",
        "format",
        "multipleOf",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "minItems",
        "maxItems",
    }
)
"""The strict-mode subset of JSON Schema (OpenAI Structured Outputs)."""

_UNSUPPORTED: Final = {
    "allOf": "allOf is not supported in strict mode (anyOf is)",
    "oneOf": "oneOf is not supported in strict mode (anyOf is)",
    "not": "'not' is not supported in strict mode",
    "if": "if/then/else is not supported in strict mode",
    "then": "if/then/else is not supported in strict mode",
    "else": "if/then/else is not supported in strict mode",
    "dependentRequired": "dependentRequired is not supported in strict mode",
    "dependentSchemas": "dependentSchemas is not supported in strict mode",
    "dependencies": "dependencies is not supported in strict mode",
    "patternProperties": "patternProperties is an open map: strict mode needs every key listed "
    "in properties",
    "propertyNames": "propertyNames is not supported in strict mode",
    "unevaluatedProperties": "unevaluatedProperties is not supported in strict mode",
    "minProperties": "minProperties is not supported in strict mode",
    "maxProperties": "maxProperties is not supported in strict mode",
    "prefixItems": "tuples (prefixItems) are not supported in strict mode: use an object",
    "additionalItems": "additionalItems is not supported in strict mode",
    "unevaluatedItems": "unevaluatedItems is not supported in strict mode",
    "contains": "contains is not supported in strict mode",
    "minContains": "minContains is not supported in strict mode",
    "maxContains": "maxContains is not supported in strict mode",
    "uniqueItems": "uniqueItems is not supported in strict mode",
    "minLength": "minLength is not supported in strict mode (use pattern)",
    "maxLength": "maxLength is not supported in strict mode (use pattern)",
    "contentEncoding": "contentEncoding is not supported in strict mode",
    "contentMediaType": "contentMediaType is not supported in strict mode",
}

_FORMATS: Final = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"}
)
_PRIMITIVES: Final = frozenset({"string", "number", "integer", "boolean", "null"})
_KEY: Final = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$-]*$")


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A new schema that strict mode accepts; ``schema`` itself is never changed.

    Every object (root, nested, in ``anyOf``, ``items`` and ``$defs``) gets
    ``additionalProperties: false`` and lists all its properties in ``required``; a property
    that was optional now also accepts ``null`` (``"type": [T, "null"]`` for primitives, else
    ``anyOf`` with ``{"type": "null"}``; existing nullability is kept, never duplicated). A root
    ``$ref`` is inlined; a ``$ref`` with sibling keywords is replaced by the definition it names
    (strict mode rejects the siblings); an enum or const without ``type`` gets one; a
    single-entry ``allOf`` is merged; annotations strict mode may reject and that constrain
    nothing (``default``, ``examples``, ``discriminator``...) are dropped.

    Strict mode and parallel calls do not mix: with several calls in one turn the schema is not
    enforced; send ``parallel_tool_calls: false`` for the guarantee.

    Raises :class:`StrictSchemaError` listing, with JSON paths, everything that cannot be made
    strict: a root that is not an object, open maps (``additionalProperties: true`` or a schema,
    ``patternProperties``, an object with no properties), schemas with no type, unsupported
    keywords and formats, arrays without ``items``, unresolvable references.
    """
    work = copy.deepcopy(dict(schema))
    work = _inline_root(work)
    problems: list[tuple[str, str]] = []
    kind = work.get("type")
    if kind is None and "properties" in work and "anyOf" not in work:
        work["type"] = kind = "object"
    if kind != "object":
        found = f"type {kind!r}" if kind is not None else "no type"
        if "anyOf" in work:
            found = "anyOf"
        elif "$ref" in work:
            found = "an unresolved $ref"
        problems.append(("$", f"the root must be an object (type: object), not {found}"))
    out: dict[str, Any] = _Strict(work, problems).walk(work, "$")
    if problems:
        count = len(problems)
        raise StrictSchemaError(
            f"the schema cannot be made strict ({count} problem{'s' * (count != 1)})",
            problems=problems,
        )
    return out


class _Strict:
    """One pass over a private copy; problems are collected, never raised one at a time."""

    def __init__(self, root: dict[str, Any], problems: list[tuple[str, str]]) -> None:
        self.root = root
        self.problems = problems

    def resolve(self, ref: str) -> dict[str, Any] | None:
        if ref == "#":
            return self.root
        for key in ("$defs", "definitions"):
            prefix = f"#/{key}/"
            defs = self.root.get(key)
            if ref.startswith(prefix) and isinstance(defs, dict):
                target = defs.get(ref[len(prefix) :])
                return target if isinstance(target, dict) else None
        return None

    def walk(self, node: Any, path: str) -> Any:
        if not isinstance(node, dict):
            self.problems.append(
                (path, f"a {type(node).__name__} schema ({node!r}) is not allowed: use a typed one")
            )
            return node
        node = {k: v for k, v in node.items() if k not in _DROPPED}
        all_of = node.get("allOf")
        if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
            del node["allOf"]
            node = {**{k: v for k, v in all_of[0].items() if k not in _DROPPED}, **node}
        ref = node.get("$ref")
        if ref is not None:
            target = self.resolve(ref) if isinstance(ref, str) else None
            if target is None:
                self.problems.append(
                    (
                        _at(path, "$ref"),
                        f"cannot resolve {ref!r} (only #, #/$defs/... and #/definitions/... are)",
                    )
                )
                return node
            if len(node) == 1:
                return node
            # strict mode rejects keywords beside $ref: inline the definition, siblings win
            siblings = {k: v for k, v in node.items() if k != "$ref"}
            body = {k: v for k, v in target.items() if k not in ("$defs", "definitions")}
            node = {**copy.deepcopy(body), **siblings}
        self._infer_type(node)
        for key in node:
            reason = _UNSUPPORTED.get(key)
            if reason is not None:
                self.problems.append((_at(path, key), reason))
            elif key not in _ALLOWED:
                self.problems.append((_at(path, key), f"{key!r} is not in strict mode's subset"))
        fmt = node.get("format")
        if fmt is not None and fmt not in _FORMATS:
            self.problems.append(
                (
                    _at(path, "format"),
                    f"format {fmt!r} is not one strict mode supports "
                    f"({', '.join(sorted(_FORMATS))})",
                )
            )
        kind = node.get("type")
        kinds = set(kind) if isinstance(kind, list) else {kind} if kind is not None else set()
        if not kinds and not any(k in node for k in ("anyOf", "enum", "const")):
            self.problems.append(
                (path, "no type: strict mode needs one (a value of any type cannot be described)")
            )
        for key in ("$defs", "definitions"):
            defs = node.get(key)
            if isinstance(defs, dict):
                node[key] = {n: self.walk(d, _at(_at(path, key), n)) for n, d in defs.items()}
        any_of = node.get("anyOf")
        if isinstance(any_of, list):
            if path == "$":
                self.problems.append((_at(path, "anyOf"), "the root cannot be an anyOf"))
            node["anyOf"] = [
                self.walk(b, f"{_at(path, 'anyOf')}[{i}]") for i, b in enumerate(any_of)
            ]
        if "array" in kinds:
            items = node.get("items")
            if isinstance(items, dict):
                node["items"] = self.walk(items, _at(path, "items"))
            elif "prefixItems" not in node:
                what = "no items schema" if items is None else f"items {items!r}"
                self.problems.append(
                    (_at(path, "items"), f"an array with {what}: give one schema for every item")
                )
        if "object" in kinds or "properties" in node:
            self._object(node, path)
        return node

    def _object(self, node: dict[str, Any], path: str) -> None:
        extra = node.get("additionalProperties")
        props = node.get("properties")
        if extra is True or isinstance(extra, dict):
            self.problems.append(
                (
                    _at(path, "additionalProperties"),
                    "an open map (additionalProperties: true or a schema): strict mode needs every "
                    "key listed in properties",
                )
            )
        elif extra is None and props is None:
            self.problems.append(
                (
                    path,
                    "an object with no properties is an open map: strict mode needs every "
                    "key listed in properties",
                )
            )
        else:
            node["additionalProperties"] = False
        if props is None:
            if extra is False:  # an explicitly empty object: fine, and spelled out for strict
                node["properties"] = {}
                node["required"] = []
            return
        if not isinstance(props, dict):
            self.problems.append((_at(path, "properties"), "properties must be an object"))
            return
        required = node.get("required") or []
        unknown = [r for r in required if r not in props]
        if unknown:
            self.problems.append(
                (_at(path, "required"), f"names properties that are not defined: {unknown}")
            )
        base = _at(path, "properties")
        new_props: dict[str, Any] = {}
        for key, sub in props.items():
            walked = self.walk(sub, _at(base, key))
            if key not in required and isinstance(walked, dict):
                walked = _nullable(walked)
            new_props[key] = walked
        node["properties"] = new_props
        node["required"] = list(new_props)

    @staticmethod
    def _infer_type(node: dict[str, Any]) -> None:
        """Give an enum or const its type: strict mode wants one on every schema."""
        if "type" in node:
            return
        if "enum" in node and isinstance(node["enum"], list):
            values = node["enum"]
        elif "const" in node:
            values = [node["const"]]
        else:
            return
        kinds = {_json_type(v) for v in values}
        if None in kinds or not kinds:
            return
        if {"integer", "number"} <= kinds:
            kinds.discard("integer")
        ordered = sorted(k for k in kinds if k is not None and k != "null")
        if "null" in kinds:
            ordered.append("null")
        node["type"] = ordered[0] if len(ordered) == 1 else ordered


def _json_type(value: Any) -> str | None:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _accepts_null(node: Any) -> bool:
    if not isinstance(node, dict):
        return node is True
    kind = node.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if "const" in node and node["const"] is None:
        return True
    if isinstance(node.get("enum"), list) and None in node["enum"] and kind is None:
        return True
    any_of = node.get("anyOf")
    return isinstance(any_of, list) and any(_accepts_null(b) for b in any_of)


def _nullable(node: dict[str, Any]) -> dict[str, Any]:
    """``node`` also accepting null (unchanged if it already does)."""
    if _accepts_null(node):
        return node
    kind = node.get("type")
    if isinstance(node.get("anyOf"), list) and "$ref" not in node:
        return {**node, "anyOf": [*node["anyOf"], {"type": "null"}]}
    kinds = [kind] if isinstance(kind, str) else kind if isinstance(kind, list) else None
    if kinds and all(k in _PRIMITIVES for k in kinds) and "$ref" not in node:
        out = {**node, "type": [*kinds, "null"]}
        if isinstance(node.get("enum"), list) and None not in node["enum"]:
            out["enum"] = [*node["enum"], None]
        if "const" in node:
            out.pop("const")
            out["enum"] = [node["const"], None]
        return out
    notes = {k: v for k, v in node.items() if k in ("description", "title")}
    inner = {k: v for k, v in node.items() if k not in notes}
    return {"anyOf": [inner, {"type": "null"}], **notes}


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if _KEY.match(key) else f"{path}[{json.dumps(key)}]"
