"""The candidates added by the full suite: fcstream's async path and langchain-core's chunk
aggregation, beside the ones in ``_candidates`` (fcstream, the floor, naive, the openai SDK).

- ``fcstream async``: ``fcstream.aiter_events`` over an async iterator of the same 1-4 KB
  chunks, driven by one event loop reused for every run (``asyncio.run`` per stream would time
  loop creation, not the adapter).
- ``langchain-core``: what a LangChain user gets. langchain-openai turns every chunk into an
  ``AIMessageChunk`` whose ``tool_call_chunks`` carry ``name``/``args``/``id``/``index``, and
  the user aggregates them with ``+``. Chunks are read with ``json.loads`` (langchain-openai gets
  dicts from the SDK; the SDK's own cost is measured in its own row). Each ``+`` merges the
  argument strings and re-parses every call's partial JSON (``AIMessageChunk`` validates
  ``tool_calls`` on construction), so the cost grows with the call: the row is capped.
  A call is finished for LangChain only at the end of the stream: mid-stream,
  ``aggregate.tool_calls`` is a partial parse, a preview.

A peer that cannot be imported is :class:`Missing` with the reason, never silently left out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

from fcstream import StreamParser, aiter_events

from ._candidates import CallKey, Candidate, Missing, candidates, fcstream_calls
from ._pure import fcstream_pure
from ._workloads import Api, Stream

__all__ = [
    "LANGCHAIN",
    "PEER_ARG_CAPS",
    "PEER_CAPS",
    "fcstream_async",
    "langchain",
    "langchain_version",
    "suite_candidates",
]

LANGCHAIN = "langchain-core (AIMessageChunk +)"
ASYNC = "fcstream async (aiter_events)"

PEER_CAPS: dict[str, tuple[int, int]] = {LANGCHAIN: (2_500, 12_000)}
"""Largest stream (SSE events) a capped peer runs on: (quick, full). langchain's ``+`` costs
~0.1-1 ms per chunk and grows with the call."""

PEER_ARG_CAPS: dict[str, tuple[int, int]] = {LANGCHAIN: (8_000, 16_000)}
"""Largest argument bytes per stream (synthetic streams) a capped peer runs on: each ``+``
re-parses all the partial JSON so far in Python, so the cost is events x argument bytes."""

_LOOP: asyncio.AbstractEventLoop | None = None


def _loop() -> asyncio.AbstractEventLoop:
    global _LOOP
    if _LOOP is None or _LOOP.is_closed():
        _LOOP = asyncio.new_event_loop()
    return _LOOP


async def _achunks(chunks: tuple[bytes, ...]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk


async def _adrain(stream: Stream) -> StreamParser:
    parser = StreamParser()
    async for _event in aiter_events(_achunks(stream.chunks), parser=parser):
        pass
    return parser


def _fcstream_async_run(stream: Stream) -> StreamParser:
    return _loop().run_until_complete(_adrain(stream))


def fcstream_async(api: Api) -> Candidate | Missing:
    """The async adapter over the same chunks (sync and async paths side by side)."""
    return Candidate(ASYNC, _fcstream_async_run, fcstream_calls)


# -- langchain-core ----------------------------------------------------------------------------


def langchain_version() -> str:
    try:
        import langchain_core
    except ImportError:
        return "not installed"
    return str(langchain_core.__version__)


def _data_lines(data: bytes) -> list[str]:
    return [line[6:] for line in data.decode().splitlines() if line.startswith("data: ")]


def _lc_chat(make: Callable[..., Any], tcc: Callable[..., Any]) -> Callable[[Stream], Any]:
    def run(stream: Stream) -> dict[int, Any]:
        aggregates: dict[int, Any] = {}  # one message per choice, as n > 1 users must keep
        for payload in _data_lines(stream.data):
            if payload == "[DONE]":
                break
            chunk = json.loads(payload)
            for choice in chunk.get("choices") or []:
                delta = choice.get("delta") or {}
                pieces = []
                for frag in delta.get("tool_calls") or []:
                    fn = frag.get("function") or {}
                    pieces.append(
                        tcc(
                            name=fn.get("name"),
                            args=fn.get("arguments"),
                            id=frag.get("id"),
                            index=frag.get("index"),
                        )
                    )
                message = make(content=delta.get("content") or "", tool_call_chunks=pieces)
                key = choice.get("index", 0)
                seen = aggregates.get(key)
                aggregates[key] = message if seen is None else seen + message
        return aggregates

    return run


def _lc_responses(make: Callable[..., Any], tcc: Callable[..., Any]) -> Callable[[Stream], Any]:
    def run(stream: Stream) -> dict[int, Any]:
        aggregate = None
        for payload in _data_lines(stream.data):
            event = json.loads(payload)
            kind = event.get("type")
            if kind == "response.output_item.added":
                item = event.get("item") or {}
                if item.get("type") != "function_call":
                    continue
                piece = tcc(
                    name=item.get("name"),
                    args=item.get("arguments") or "",
                    id=item.get("call_id"),
                    index=event.get("output_index"),
                )
            elif kind == "response.function_call_arguments.delta":
                piece = tcc(
                    name=None, args=event.get("delta"), id=None, index=event["output_index"]
                )
            elif kind == "response.output_text.delta":
                message = make(content=event.get("delta") or "")
                aggregate = message if aggregate is None else aggregate + message
                continue
            else:
                continue
            message = make(content="", tool_call_chunks=[piece])
            aggregate = message if aggregate is None else aggregate + message
        return {0: aggregate} if aggregate is not None else {}

    return run


def _lc_calls(aggregates: dict[int, Any]) -> list[CallKey]:
    out: list[CallKey] = []
    for choice, message in sorted(aggregates.items()):
        chunks = sorted(message.tool_call_chunks, key=lambda c: c.get("index") or 0)
        for position, chunk in enumerate(chunks):
            out.append((choice, position, chunk.get("name"), chunk.get("args") or ""))
    return out


def langchain(api: Api) -> Candidate | Missing:
    try:
        from langchain_core.messages import AIMessageChunk
        from langchain_core.messages.tool import tool_call_chunk
    except Exception as exc:
        return Missing(LANGCHAIN, f"langchain-core {langchain_version()}: {exc}")
    run = _lc_chat if api == "chat" else _lc_responses
    return Candidate(LANGCHAIN, run(AIMessageChunk, tool_call_chunk), _lc_calls, superlinear=True)


def suite_candidates(api: Api, *, full_set: bool = True) -> list[Candidate | Missing]:
    """Every candidate of the suite, fcstream first, peers last. ``full_set=False`` leaves out
    the variants that answer no new question in the sweeps (1 event per read, the Python
    sources, floor + acc, floor + typed events)."""
    base = candidates(api)
    if not full_set:
        drop = ("1 event per read", "floor + accumulate", "floor + typed events")
        base = [c for c in base if not any(d in c.name for d in drop)]
    fc = [c for c in base if c.name.startswith("fcstream")]
    rest = [c for c in base if not c.name.startswith("fcstream")]
    sources = [fcstream_pure()] if full_set else []  # the compiled modules' share, same run
    return [*fc, *sources, fcstream_async(api), *rest, langchain(api)]
