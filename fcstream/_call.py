"""The one call type both APIs rebuild into, and the buffer its arguments grow in.

``ToolCall`` is frozen: once handed over it never changes, so an agent can run it on another
thread while the stream goes on. Its ``arguments`` are the exact text the model sent; decoding is
on demand (``json()``, ``parsed()``), never a condition for finality.
"""

from __future__ import annotations

import builtins
import json as _json
from itertools import chain
from typing import Any, ClassVar, Final, Literal, TypeVar

import msgspec

from . import _surrogates
from ._errors import ArgumentsError, excerpt

__all__ = ["NO_ARGS", "ArgumentBuffer", "ToolCall"]

T = TypeVar("T")

Api = Literal["chat", "responses"]
CallType = Literal["function", "custom"]

_DECODE: Final = msgspec.json.Decoder()
_ENCODE: Final = msgspec.json.Encoder()
_JOIN_TO_COMPARE: Final = 64 * 1024
"""Texts shorter than this are compared with the joined fragments, longer ones piece by
piece (``ArgumentBuffer.equals``)."""
_WINDOW: Final = 16 * 1024
"""Characters encoded at a time by ``ArgumentBuffer.equals_json``."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN and Infinity: msgspec refuses them too


_SCANNER: Final = _json.JSONDecoder(parse_constant=_reject_constant)
"""Finds where each of several concatenated values ends (msgspec decodes exactly one)."""


class ArgumentBuffer(list[str]):
    """Fragments appended as they come and joined once, when asked.

    ``text += piece`` copies the whole text on every fragment (quadratic). This is a ``list``
    so that ``append`` is the C method itself, the cheapest O(1) step per delta. Every
    ``COMPACT_AT`` fragments the caller folds them into one block (``compact()``): a 4-byte
    fragment costs ~50 bytes as its own ``str``, so a megabyte of arguments would otherwise
    hold ~18 MB; with blocks it stays near its own size. ``text()`` joins the blocks once and
    keeps the result, so asking again costs nothing. The join also re-pairs UTF-16 surrogate
    halves that arrived in separate fragments (see ``_surrogates``).
    """

    __slots__ = ("_blocks",)

    COMPACT_AT: ClassVar[int] = 128
    """Fragments kept loose before they are folded: one join per 128 appends is O(1) each."""

    def __init__(self) -> None:  # list.__new__ made it empty: no list.__init__ to call
        self._blocks: list[str] = []

    def add(self, piece: str) -> None:
        """``append`` plus the compaction check (hot paths inline the two)."""
        self.append(piece)
        if len(self) > self.COMPACT_AT:
            self.compact()

    def compact(self) -> None:
        """Fold the loose fragments into one block."""
        self._blocks.append("".join(self))
        self.clear()

    def text(self) -> str:
        blocks = self._blocks
        if blocks:
            blocks.extend(self)
            self[:] = ("".join(blocks),)
            self._blocks = []
        elif len(self) == 1:
            return self[0]
        elif not self:
            return ""
        joined = _surrogates.pair("".join(self))
        self[:] = (joined,)
        return joined

    def equals(self, text: str) -> bool:
        """Whether the fragments spell exactly ``text``. A short text is compared with the
        join (one C-level step, kept for ``text()``); a long one piece by piece, so that a
        megabyte of arguments is not copied to be compared, and when equal the buffer keeps
        ``text`` in place of its fragments. (Surrogate halves are re-paired only by
        ``text()``; a decoded ``text`` never holds two halves side by side, so equal pieces
        mean an equal join.)"""
        if len(text) < _JOIN_TO_COMPARE:
            return self.text() == text
        pos = 0
        for piece in chain(self._blocks, self):
            if not text.startswith(piece, pos):
                return False
            pos += len(piece)
        if pos != len(text):
            return False
        self.reset(text)
        return True

    def equals_json(self, raw: bytes | memoryview | msgspec.Raw) -> bool:
        """Whether ``raw``, a JSON string token, is exactly the text as msgspec encodes it,
        compared window by window: a closing event's megabyte of arguments is checked without
        being decoded into a second copy. Escaping that differs from msgspec's (which escapes
        only quotes, backslashes and control characters) compares unequal: the caller then
        decodes and compares texts.

        The fragments are joined first (``text()``, which every caller asks for next, to
        hand the call over): encoded block by block, each block's fixed cost was most of the
        compare. Each encoded window is matched in place against ``raw`` (no copies)."""
        view = memoryview(raw)
        end = len(view) - 1
        if end < 1 or view[0] != 0x22 or view[end] != 0x22:
            return False
        text = self.text()
        pos = 1
        encode = _ENCODE.encode
        try:
            for at in range(0, len(text), _WINDOW):
                token = encode(text[at : at + _WINDOW])
                size = len(token) - 2
                if pos + size > end or not token.startswith(view[pos : pos + size], 1):
                    return False
                pos += size
        except (msgspec.EncodeError, UnicodeEncodeError):  # a lone surrogate half: texts decide
            return False
        return pos == end

    def settle(self, incoming: int) -> None:
        """Join the fragments now, while an event of ``incoming`` bytes that may repeat the
        whole text (a closing event) is still arriving: joined at hand-over, the fragments,
        the joined text and that event's payload would all be held at once. Only once the
        event holds a sixteenth of the text's size: each join copies at most 16 bytes per
        byte of such events (linear however often it happens), and joining early holds the
        fragments and the text next to that sixteenth only."""
        blocks = self._blocks
        if len(self) + len(blocks) > 1 and incoming * 16 >= sum(map(len, blocks)) + sum(
                map(len, self)):
            self.text()

    def reset(self, text: str) -> None:
        """Hold ``text`` alone (the fragments are dropped)."""
        self._blocks = []
        self[:] = (text,) if text else ()

    @property
    def empty(self) -> bool:
        """Whether no text arrived yet, told without joining the fragments."""
        return not any(self) and not any(self._blocks)

    @property
    def size(self) -> int:
        """Characters so far (joins first)."""
        return len(self.text())


NO_ARGS: Final = ArgumentBuffer()
"""An empty buffer for hot loops to hold before a delta found its call: never written to."""


class ToolCall(msgspec.Struct, frozen=True, kw_only=True):
    """One tool call, rebuilt from either API.

    - ``call_id``: the id the result must echo (chat ``id``, Responses ``call_id``).
    - ``name``: the tool's name.
    - ``arguments``: the exact argument text sent (JSON for functions, free text for custom tools).
    - ``index``: 0-based position among the calls of its choice, in order of first appearance.
    - ``choice``: the chat choice index (always 0 for Responses).
    - ``api``: which API streamed it.
    - ``item_id``: the Responses output item id (``fc_...``), ``None`` for chat.
    - ``type``: ``"function"`` or ``"custom"`` (free-form input).
    - ``complete``: ``True`` when the stream's structure finished the call; ``False`` when it was
      cut (length, content filter, error, truncated input) and ``arguments`` may be a prefix.
    - ``extra``: provider-specific call metadata kept as sent (e.g. Gemini's
      ``extra_content.google.thought_signature``), ``None`` when there was none.
    """

    call_id: str | None
    name: str | None
    arguments: str
    index: int
    choice: int = 0
    api: Api = "chat"
    item_id: str | None = None
    type: CallType = "function"
    complete: bool = True
    extra: dict[str, Any] | None = None

    # -- decoding --------------------------------------------------------------------------

    def json(self) -> Any:
        """The decoded arguments. Empty text means ``{}`` (a tool without parameters).

        Raises :class:`ArgumentsError` naming the call when the text is not exactly one JSON
        value; for several values (``{"a":1}{"a":2}``) it says how many it found, and
        :meth:`values` returns them.
        """
        text = self.arguments
        if not text.strip():
            return {}
        try:
            return _DECODE.decode(text)
        except (msgspec.DecodeError, UnicodeEncodeError):  # lone surrogates cannot be encoded
            return self._stdlib_value()

    def values(self) -> list[Any]:
        """Every JSON value in the arguments, in order (C24: several objects packed in one call).

        Empty text gives ``[{}]``, as :meth:`json` gives ``{}``: a tool without parameters is
        still one call. Raises :class:`ArgumentsError` if the text holds something that is not
        JSON.
        """
        if not self.arguments.strip():
            return [{}]
        found, _, ok = self._scan()
        if not ok:
            raise self._arguments_error()
        return [value for value, _, _ in found]

    def split(self) -> list[ToolCall]:
        """One call per JSON value in the arguments (opt-in for C24); ``[self]`` for one value.

        Each call's ``arguments`` is the exact text of its value, as sent. The extra calls get
        ids ``"<call_id>#<n>"`` (``n`` from 1) so results stay distinct.
        """
        if not self.arguments.strip():
            return [self]
        found, _, ok = self._scan()
        if not ok:
            raise self._arguments_error()
        if len(found) <= 1:
            return [self]
        text = self.arguments
        return [
            msgspec.structs.replace(
                self,
                call_id=self.call_id if n == 0 or self.call_id is None else f"{self.call_id}#{n}",
                arguments=text[start:end],
            )
            for n, (_, start, end) in enumerate(found)
        ]

    def parsed(self, type: builtins.type[T], *, strict: bool = True) -> T:
        """Decode the arguments straight into ``type`` (a msgspec Struct, dataclass, TypedDict...).

        Raises :class:`ArgumentsError` for text that is not one JSON value and
        ``msgspec.ValidationError`` when the value does not fit ``type``.
        """
        text = self.arguments if self.arguments.strip() else "{}"
        try:
            return msgspec.json.decode(text, type=type, strict=strict)
        except msgspec.ValidationError:
            raise
        except (msgspec.DecodeError, UnicodeEncodeError):
            return msgspec.convert(self._stdlib_value(), type, strict=strict)

    def _stdlib_value(self) -> Any:
        """The one JSON value of arguments msgspec refused because they hold a lone surrogate
        (escaped or not), which the stdlib reads; raises ``ArgumentsError`` otherwise."""
        if _surrogates.in_text(self.arguments):
            found, _, ok = self._scan()
            if ok and len(found) == 1:
                return found[0][0]
        raise self._arguments_error() from None

    def _scan(self) -> tuple[list[tuple[Any, int, int]], int, bool]:
        """(value, start, end) of each JSON value in order, where reading stopped, and whether
        the whole text was read."""
        text = self.arguments
        found: list[tuple[Any, int, int]] = []
        pos = _skip_space(text, 0)
        while pos < len(text):
            try:
                value, end = _SCANNER.raw_decode(text, pos)
            except ValueError:
                return found, pos, False
            found.append((value, pos, end))
            pos = _skip_space(text, end)
        return found, pos, True

    def _arguments_error(self) -> ArgumentsError:
        text = self.arguments
        found, pos, ok = self._scan()
        count = len(found)
        if ok and count > 1:
            message = f"arguments hold {count} JSON values, not one"
        else:
            message = "arguments are not valid JSON"
        return ArgumentsError(
            message,
            call_id=self.call_id,
            name=self.name,
            index=self.index,
            values_found=count,
            position=pos,
            excerpt=excerpt(text[pos : pos + 120] if pos < len(text) else text[-120:]),
        )

    # -- shapes for the next request -------------------------------------------------------

    def to_chat(self) -> dict[str, Any]:
        """The assistant-side tool call in Chat Completions shape (nested ``function``)."""
        if self.type == "custom":
            return {
                "id": self.call_id,
                "type": "custom",
                "custom": {"name": self.name, "input": self.arguments},
            }
        return {
            "id": self.call_id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }

    def to_responses(self) -> dict[str, Any]:
        """The call as a Responses input item (flat; ``call_id`` plus the item ``id`` if known)."""
        item: dict[str, Any]
        if self.type == "custom":
            item = {
                "type": "custom_tool_call",
                "call_id": self.call_id,
                "name": self.name,
                "input": self.arguments,
            }
        else:
            item = {
                "type": "function_call",
                "call_id": self.call_id,
                "name": self.name,
                "arguments": self.arguments,
            }
        if self.item_id is not None:
            item["id"] = self.item_id
        return item

    def result(
        self, output: Any, *, api: Api | None = None, item_id: str | None = None
    ) -> dict[str, Any]:
        """The item that sends ``output`` back for this call.

        Chat: ``{"role": "tool", "tool_call_id": ..., "content": ...}``; Responses:
        ``{"type": "function_call_output", "call_id": ..., "output": ...}`` (or
        ``custom_tool_call_output``). ``api`` defaults to the API the call came from;
        ``item_id`` adds an ``id`` to a Responses item (some gateways require one). ``output``
        that is not a string is sent as JSON text.
        """
        text = output if isinstance(output, str) else _ENCODE.encode(output).decode()
        if (api or self.api) == "chat":
            return {"role": "tool", "tool_call_id": self.call_id, "content": text}
        kind = "custom_tool_call_output" if self.type == "custom" else "function_call_output"
        item: dict[str, Any] = {"type": kind, "call_id": self.call_id, "output": text}
        if item_id is not None:
            item["id"] = item_id
        return item


def _skip_space(text: str, pos: int) -> int:
    n = len(text)
    while pos < n and text[pos] in " \t\r\n":
        pos += 1
    return pos
