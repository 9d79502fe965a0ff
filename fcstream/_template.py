"""Payload templates: read a streamed delta without decoding the bytes it repeats.

A server streams the same JSON again and again with only the delta's text changed: ``id``,
``model``, ``created``, the choice and the call index are byte for byte what the previous payload
said. A :class:`Template` keeps that payload's bytes around one string value (the *slot*) and
reads a new payload by checking it starts and ends with the same bytes, then decoding only the
slot's string token.

Why this is exact, not a guess: a JSON string token ends at its first unescaped quote, so if
``head + token + tail`` is the new payload and ``token`` decodes as one JSON string (msgspec
checks the escapes, the UTF-8 and that nothing follows the closing quote), the payload is the
template's JSON with that one value replaced. Its full decode would give the template's fields
and the new text. Anything else -- a different ``created``, another call index, a finish reason,
a quote inside the slot that is not escaped -- fails the match, and the payload takes the full
decode. A template is only made from a payload whose full decode was checked, and before it
reads anything it is proved to hold the field read in its slot: by the first matching payload,
decoded in full, whose field changed along with the slot (:meth:`Template.confirm`), or by a
probe, the same bytes with another value in the slot (see :func:`make`).

A payload that also carries a value made anew every time (OpenAI's ``obfuscation`` padding)
makes no template (:func:`varies`): reading around a second changing value takes more Python
steps than msgspec's decode of the whole payload (on 1,000 padded content chunks, 16,383
instructions per event through :meth:`Template.read`, 13,753 even inlined, against 13,494
without templates), so the owner stops learning instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

import msgspec

__all__ = ["ERRORS", "STRING", "VARYING_KEY", "Template", "make", "varies"]

VARYING_KEY: Final = b'"obfuscation":'
"""A key whose value servers make anew for every payload: a payload with it makes no
template."""

STRING: Final = msgspec.json.Decoder(str).decode
_PROBE: Final = b'"\\u0001fcstream probe\\u0002"'
_PROBE_TEXT: Final = "\x01fcstream probe\x02"
ERRORS: Final = (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError)
"""What decoding a token that is not one JSON string raises."""


_NO_INLINE: Final = 1 << 62
"""``Template.inline_at`` of a template the hot loop must not read inline."""

_NEVER: Final = b"\x00fcstream: failed its check"
"""The head of a template that failed its check: the hot loop's ``startswith`` turns it down
(``read`` itself refuses every payload once the check failed)."""


class Template:
    """One payload's bytes around its slot. :meth:`read` gives the slot's text for a payload of
    the same shape, ``None`` for any other payload. ``tag`` is what the owner needs to apply the
    text (the field, the choice, the call index): it holds for every payload matched.

    A template is checked the first time a payload matches it, not when it is made: servers
    that change other bytes on every payload (log probabilities, counters) make templates that
    never match, and those cost two slices. A template that fails the check never matches.

    The attributes are public for a hot loop that inlines :meth:`read`: once ``head``/``tail``
    match, a payload of at least ``inline_at`` bytes has its token at ``payload[start :
    len(payload) - cut]``. Until the template is checked, ``inline_at`` is more than any
    payload, and :meth:`read` does the work."""

    __slots__ = (
        "_check", "_failed", "confirmable", "cut", "follower", "head", "inline_at", "size",
        "source", "start", "tag", "tail",
    )

    def __init__(
        self, head: bytes, tail: bytes, tag: Any, check: Callable[[], bool],
        source: str | None = None,
    ) -> None:
        self.head = head  # up to and including the slot's opening quote
        self.tail = tail  # from the slot's closing quote to the end
        self.inline_at = _NO_INLINE  # ``size`` once checked
        self.start = len(head) - 1
        self.cut = len(tail) - 1
        self.size = len(head) + len(tail)
        self.tag = tag
        self.follower: Template | None = None
        """The template the next payload matched last time (the owner keeps it): choices that
        take turns find theirs at once."""
        self._check: Callable[[], bool] | None = check  # None once run
        self._failed = False
        self.source = source  # the field's text in the payload it was made from, if known
        self.confirmable = source is not None
        """Unchecked, and :meth:`confirm` can check it: the owner may decode a matching
        payload in full and confirm, instead of running the check's probe decodes."""

    @property
    def matched(self) -> bool:
        """Whether a payload ever matched (the check ran and passed)."""
        return self._check is None and not self._failed

    def read(self, payload: bytes) -> str | None:
        if not (payload.startswith(self.head) and payload.endswith(self.tail)):
            return None
        if self._failed:
            return None
        check = self._check
        if check is not None:
            if not check():
                self._fail()
                return None
            self._passed()
        if len(payload) < self.size:
            return None  # head and tail overlap: not this shape
        try:
            return STRING(payload[self.start : len(payload) - self.cut])
        except ERRORS:
            return None

    def confirm(self, payload: bytes, value: object) -> None:
        """The check, done with a payload that matches the template and that the owner
        decoded in full anyway (``value``: the field it read there). Apart from the slot,
        the payload's bytes are the source's, so its JSON is the source's with one string
        replaced: if the field read changed along with the slot, the field is the slot, and
        the template passes; if the field is not the slot's text, the template fails. A slot
        that holds the source's text again proves nothing: the next match tries again."""
        if self._check is None or len(payload) < self.size:
            return
        try:
            text = STRING(payload[self.start : len(payload) - self.cut])
        except ERRORS:
            return  # not one string between head and tail: not a payload of this shape
        if text != value:
            self._fail()
        elif text != self.source:
            self._passed()

    def _passed(self) -> None:
        self._check = None
        self.confirmable = False
        self.inline_at = self.size

    def _fail(self) -> None:
        self._check = None
        self.confirmable = False
        self._failed = True
        self.head = _NEVER


_STRING_REST: Final = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
"""A JSON string token after its opening quote: characters other than a quote or backslash,
and backslash escapes, up to the closing quote."""


def _string_end(data: bytes, start: int) -> int:
    """Index of the quote closing the string token that opens at ``start``, or -1."""
    match = _STRING_REST.match(data, start + 1)
    return -1 if match is None else match.end() - 1


def _slot(data: bytes, key: bytes) -> tuple[int, int] | None:
    """Where the string value of the only ``key`` in ``data`` starts and ends (the quotes)."""
    at = data.find(key)
    if at < 0:
        return None
    at += len(key)
    if data.find(key, at) >= 0 or data[at : at + 1] != b'"':
        return None  # the key twice, or a value that is not a string
    end = _string_end(data, at)
    return None if end < 0 else (at, end)


def varies(data: bytes) -> bool:
    """Whether ``data`` carries ``VARYING_KEY``: no template of it would match the next
    payload, nor would one of any other shape of the same stream."""
    return data.find(VARYING_KEY) >= 0  # ``in`` costs an internal TypeError (see _sse._NUL)


def make(
    data: bytes,
    key: bytes,
    decode: Callable[[bytes], Any],
    read: Callable[[Any], Any],
    tag: Any,
    text: str | None = None,
) -> Template | None:
    """A template for payloads like ``data`` with the string value of ``key`` left open, or
    ``None`` when ``data`` does not allow one (the key twice, or not a string) or
    :func:`varies`. ``decode`` is the owner's full decoder and ``read`` picks, from its
    result, the value the slot must be: the check (run at the first match) decodes a probe
    to prove the slot is that value. ``text`` is the field's value in ``data`` as the owner
    decoded it, when it knows it: the owner may then check the template with
    :meth:`Template.confirm` instead."""
    slot = None if varies(data) else _slot(data, key)
    if slot is None:
        return None
    start, end = slot

    def check() -> bool:
        try:
            value: object = read(decode(data[:start] + _PROBE + data[end + 1 :]))
        except ERRORS:
            return False
        return value == _PROBE_TEXT

    return Template(data[: start + 1], data[end:], tag, check, text)
