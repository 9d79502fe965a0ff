"""View Structs for ``chat.completion.chunk`` payloads: only the fields fcstream reads.

Unknown fields are skipped unbuilt by msgspec, so stray provider fields (C16) cost nothing and
never break a stream. Two decoders, both built once at import:

- ``CHUNK`` expects the common shape (``arguments`` and ``content`` as strings);
- ``LOOSE_CHUNK`` is tried only when ``CHUNK`` rejects a payload's *shape*: it reads
  ``arguments`` sent as a JSON object (C12) and ``content`` sent as a list of parts (C17) as raw
  JSON, keeping their exact text, and ``tool_calls`` sent as one object instead of a list (TGI
  <= 3.1). Paying for it only on rare payloads keeps the hot path lean.

``delta.function_call`` (the deprecated functions API) and ``usage`` inside a choice
(Moonshot/Kimi, read with that choice's ``finish_reason``) are read too; the accumulator's hot
path never applies a chunk that carries either.
"""

from __future__ import annotations

from typing import Final

import msgspec

__all__ = [
    "CHUNK",
    "FIRST_CHUNK",
    "LOOSE_CHUNK",
    "ChatChunk",
    "ContentPart",
    "FirstChunk",
    "LooseChatChunk",
    "raw_value",
]

ABSENT: Final = msgspec.Raw()
"""Default for optional raw fields: msgspec cannot put ``Raw`` in a union with ``None``."""


def raw_value(raw: msgspec.Raw) -> bytes | None:
    """The raw JSON of an optional field, ``None`` when it was absent or ``null``."""
    if raw is ABSENT or not len(raw):
        return None
    value = bytes(raw)
    return None if value == b"null" else value


class FunctionDelta(msgspec.Struct, gc=False):
    name: str | None = None
    arguments: str | None = None


class ToolCallDelta(msgspec.Struct, gc=False):
    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: FunctionDelta | None = None
    extra_content: msgspec.Raw = ABSENT


class Delta(msgspec.Struct, gc=False):
    content: str | None = None
    refusal: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    tool_calls: list[ToolCallDelta] | None = None
    function_call: FunctionDelta | None = None


class Choice(msgspec.Struct, gc=False):
    index: int = 0
    delta: Delta | None = None
    finish_reason: str | None = None
    usage: msgspec.Raw = ABSENT


class ChatChunk(msgspec.Struct, gc=False):
    """The per-chunk view. ``id``/``model``/``object`` are left out (``FirstChunk`` reads
    the first two while the stream's metadata is not known, ``META`` reads them for payloads
    outside a run and without ``choices``): building three strings per chunk that are the same
    every time would cost more than the arguments themselves."""

    choices: list[Choice] | None = None
    usage: msgspec.Raw = ABSENT
    x_groq: msgspec.Raw = ABSENT
    error: msgspec.Raw = ABSENT


class FirstChunk(ChatChunk, gc=False):
    """A chunk read while the stream's metadata is not known yet: ``id`` and ``model`` come
    with the same decode, so ``StreamStarted`` needs no second pass over the payload."""

    id: str | None = None
    model: str | None = None


# -- the tolerant shape, for payloads the fast one rejects ----------------------------------


class ContentPart(msgspec.Struct, gc=False):
    """One part of a ``content`` list: ``text``, ``thinking`` (Mistral) or ``reasoning`` parts
    (Databricks: a ``summary`` list of ``summary_text`` parts)."""

    type: str = "text"
    text: str | None = None
    thinking: msgspec.Raw = ABSENT
    summary: msgspec.Raw = ABSENT


class LooseFunctionDelta(msgspec.Struct, gc=False):
    name: str | None = None
    arguments: msgspec.Raw = ABSENT


class LooseToolCallDelta(msgspec.Struct, gc=False):
    index: int | None = None
    id: str | None = None
    type: str | None = None
    function: LooseFunctionDelta | None = None
    extra_content: msgspec.Raw = ABSENT


class LooseDelta(msgspec.Struct, gc=False):
    content: str | list[ContentPart] | None = None
    refusal: str | None = None
    reasoning_content: str | None = None
    reasoning: str | None = None
    tool_calls: list[LooseToolCallDelta] | LooseToolCallDelta | None = None
    function_call: LooseFunctionDelta | None = None


class LooseChoice(msgspec.Struct, gc=False):
    index: int = 0
    delta: LooseDelta | None = None
    finish_reason: str | None = None
    usage: msgspec.Raw = ABSENT


class LooseChatChunk(msgspec.Struct, gc=False):
    choices: list[LooseChoice] | None = None
    usage: msgspec.Raw = ABSENT
    x_groq: msgspec.Raw = ABSENT
    error: msgspec.Raw = ABSENT


class ErrorBody(msgspec.Struct, gc=False):
    """An ``error`` object (or a top-level error payload, vLLM style)."""

    message: str | None = None
    type: str | None = None
    code: str | int | None = None


class ChunkIds(msgspec.Struct, gc=False):
    """``id`` and ``model`` alone, read as ``FirstChunk`` reads them: a field the read skips
    (``object`` with a bad byte) must not make a stream's metadata depend on which path read
    its first chunk."""

    id: str | None = None
    model: str | None = None


class ChunkMeta(ChunkIds, gc=False):
    object: str | None = None


class GroqExtra(msgspec.Struct, gc=False):
    usage: msgspec.Raw = ABSENT


CHUNK: Final = msgspec.json.Decoder(ChatChunk)
FIRST_CHUNK: Final = msgspec.json.Decoder(FirstChunk)
LOOSE_CHUNK: Final = msgspec.json.Decoder(LooseChatChunk)
ERROR_BODY: Final = msgspec.json.Decoder(ErrorBody)
META: Final = msgspec.json.Decoder(ChunkMeta)
IDS: Final = msgspec.json.Decoder(ChunkIds)
GROQ_EXTRA: Final = msgspec.json.Decoder(GroqExtra)
ANY: Final = msgspec.json.Decoder()
