"""Lone UTF-16 surrogates: valid JSON that msgspec refuses, and halves joined back together.

Servers that cut text by UTF-16 code units (JavaScript gateways) can split one character between
two deltas, each half written as an escape: ``"Rain \\ud83c"`` then ``"\\udf27 today"``. RFC
8259's grammar allows such escapes and Python's ``json`` reads them (the ``str`` holds the lone
half); msgspec rejects them. So, only after msgspec rejected a payload that holds such an escape,
:func:`decode` reads it with the stdlib and builds the same view Struct with ``msgspec.convert``
(a field typed ``Raw`` gets its value's JSON text). Nothing changes on the fast path: the
fallback runs only for payloads that already failed.

The halves come back together wherever pieces are joined (a call's arguments, the collected
text) through :func:`pair`, which costs one O(1) ``isascii()`` test for ASCII text.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from typing import Any, Final

import msgspec
import msgspec.inspect as mi

__all__ = ["decode", "has_escape", "in_text", "load", "pair", "view"]

_ESCAPE: Final = re.compile(rb"\\u[dD][89a-fA-F]")
"""A ``\\uD800``..``\\uDFFF`` escape (a false hit, e.g. an escaped backslash, only costs a
failed fallback)."""
_CHAR: Final = re.compile("[\ud800-\udfff]")
_TEXT_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F]")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # msgspec refuses NaN/Infinity: so does the fallback


def has_escape(data: bytes | bytearray | memoryview) -> bool:
    """Whether ``data`` holds a surrogate escape (so the stdlib may read what msgspec cannot)."""
    return _ESCAPE.search(data) is not None


def load(data: bytes | bytearray | memoryview | str) -> Any:
    """``data`` read by the stdlib as exactly one JSON value; raises ``ValueError`` otherwise
    (also for invalid UTF-8, NaN/Infinity and nesting too deep to read)."""
    text = data if isinstance(data, str) else bytes(data).decode("utf-8")
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc


def decode(data: bytes | bytearray | memoryview, *types: Any) -> Any:
    """``data`` through the stdlib as the first of ``types`` it fits, for a payload msgspec
    rejected because of a surrogate escape. Raises ``ValueError`` when the stdlib cannot read
    it either and ``msgspec.ValidationError`` (the last one) when it fits none of ``types``."""
    value = load(data)
    error: msgspec.ValidationError | None = None
    for type in types:
        try:
            return msgspec.convert(_fit(value, _info(type)), type)
        except msgspec.ValidationError as exc:
            error = exc
    assert error is not None
    raise error


def view(decoder: msgspec.json.Decoder[Any], data: bytes | bytearray | memoryview) -> Any:
    """``decoder.decode(data)``, through the stdlib when msgspec refused a surrogate escape;
    raises what msgspec raised when the stdlib cannot read it (or it does not fit) either."""
    try:
        return decoder.decode(data)
    except (msgspec.DecodeError, UnicodeDecodeError):
        value = rescue(decoder, data)
        if value is None:
            raise
        return value


def rescue(decoder: msgspec.json.Decoder[Any], data: bytes | bytearray | memoryview) -> Any:
    """What ``view`` gives for ``data`` that msgspec refused: the stdlib's reading when the
    refusal was a surrogate escape and the value fits, else ``None``. (For callers that
    decode first and come here only on failure.)"""
    if has_escape(data):
        with contextlib.suppress(ValueError, msgspec.ValidationError):
            return decode(data, decoder.type)
    return None


@functools.cache
def _info(type: Any) -> mi.Type:
    return mi.type_info(type)


def _fit(value: Any, info: mi.Type) -> Any:
    """``value`` with every part that ``info`` types as ``Raw`` replaced by its JSON text
    (``msgspec.convert`` fills a ``Raw`` field only from a ``Raw``)."""
    if isinstance(info, mi.RawType):
        return msgspec.Raw(json.dumps(value).encode())  # ensure_ascii: halves stay escapes
    if isinstance(info, mi.UnionType):
        for member in info.types:
            if _fits(value, member):
                return _fit(value, member)
        return value
    if isinstance(info, mi.StructType) and isinstance(value, dict):
        fields = {f.encode_name: f.type for f in info.fields}
        return {k: _fit(v, fields[k]) if k in fields else v for k, v in value.items()}
    if isinstance(info, mi.ListType) and isinstance(value, list):
        return [_fit(v, info.item_type) for v in value]
    return value


def _fits(value: Any, info: mi.Type) -> bool:
    if isinstance(info, mi.RawType):
        return True
    if isinstance(value, dict):
        return isinstance(info, (mi.StructType, mi.DictType))
    if isinstance(value, list):
        return isinstance(info, mi.ListType)
    return False


def pair(text: str) -> str:
    """``text`` with surrogate halves that arrived apart joined into the character they make;
    halves without a partner stay as they are."""
    if text.isascii() or _CHAR.search(text) is None:
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def in_text(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate or a surrogate escape (``ToolCall.json`` then
    falls back to the stdlib, which reads both)."""
    return _CHAR.search(text) is not None or _TEXT_ESCAPE.search(text) is not None
