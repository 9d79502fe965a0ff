"""A best-effort view of arguments while they stream: for progress bars and UIs, never for
running tools.

``ArgumentsPreview`` is deliberately a separate thing from finality. ``looks_complete`` turning
true means "one JSON value has closed", which the model may follow with more text (F1: ``1``
before ``0``, ``{...}{...}``); only ``CallDone`` says a call is finished.

The scanner keeps its state (open containers, inside a string, a pending escape) between
fragments, so each fragment is read once: per-fragment cost is O(len(fragment)), found by a
regex over the structural characters rather than a Python loop per character. ``value()`` builds
a closed copy of the text and decodes it, which costs O(len(text)): call it when you want to
show something, not per delta on megabyte arguments.
"""

from __future__ import annotations

import re
from typing import Any, Final

import msgspec

__all__ = ["ArgumentsPreview"]

_STRUCTURE: Final = re.compile(r'[{}\[\]",\\]')
_IN_STRING: Final = re.compile(r'["\\]')
_CLOSE: Final = {"{": "}", "[": "]"}
_DECODE: Final = msgspec.json.Decoder()
_SPACE: Final = " \t\r\n"


class ArgumentsPreview:
    """Feed argument fragments; ask for a partial value or whether a value has closed."""

    __slots__ = (
        "_cut",
        "_cut_stack",
        "_escape",
        "_in_string",
        "_parts",
        "_size",
        "_stack",
        "_values_closed",
    )

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._size = 0
        self._stack: list[str] = []
        self._in_string = False
        self._escape = False
        self._cut = 0  # a point where the text, closed with _cut_stack, is valid JSON
        self._cut_stack = ""
        self._values_closed = 0  # top-level containers or strings closed so far

    def feed(self, fragment: str) -> None:
        """Read one more fragment (only the new text is scanned)."""
        if not fragment:
            return
        base = self._size
        self._parts.append(fragment)
        self._size += len(fragment)
        pos = 0
        n = len(fragment)
        if self._escape:  # the escaped character is the first of this fragment
            self._escape = False
            pos = 1
        stack = self._stack
        while pos < n:
            if self._in_string:
                m = _IN_STRING.search(fragment, pos)
                if m is None:
                    return
                pos = m.end()
                if m.group() == "\\":
                    if pos >= n:
                        self._escape = True
                        return
                    pos += 1
                    continue
                self._in_string = False
                if not stack:
                    self._values_closed += 1
                continue
            m = _STRUCTURE.search(fragment, pos)
            if m is None:
                return
            char = m.group()
            pos = m.end()
            if char == '"':
                self._in_string = True
            elif char in "{[":
                stack.append(char)
                self._cut = base + pos
                self._cut_stack = "".join(stack)
            elif char in "}]":
                if stack:
                    stack.pop()
                if not stack:
                    self._values_closed += 1
            elif char == ",":
                self._cut = base + pos - 1
                self._cut_stack = "".join(stack)

    @property
    def text(self) -> str:
        """Everything fed so far, joined once per call."""
        if len(self._parts) > 1:
            self._parts = ["".join(self._parts)]
        return self._parts[0] if self._parts else ""

    @property
    def looks_complete(self) -> bool:
        """True when the text is one closed JSON value so far. NOT a finality signal."""
        if self._stack or self._in_string or self._values_closed != 1:
            return False
        text = self.text.strip(_SPACE)
        return bool(text) and text[-1] in '}]"'

    def value(self) -> Any:
        """The arguments so far as a Python value, closing whatever is open.

        A dangling key or an unfinished literal is dropped back to the last complete member.
        Returns ``None`` when nothing usable has arrived yet.
        """
        text = self.text
        if not text.strip(_SPACE):
            return None
        closing = "".join(_CLOSE[c] for c in reversed(self._stack))
        head = text[:-1] if self._escape else text
        candidates = [head + ('"' if self._in_string else "") + closing]
        cut_closing = "".join(_CLOSE[c] for c in reversed(self._cut_stack))
        candidates.append(text[: self._cut] + cut_closing)
        for candidate in candidates:
            try:
                return _DECODE.decode(candidate)
            except msgspec.DecodeError:
                continue
        return None
