"""Thin loops that feed a StreamParser from whatever the caller holds: hand-written sync and
async twins over the same core.

Sources, found by duck typing (fcstream imports no client library here):

- ``bytes`` (a whole recorded stream) or any iterable of byte chunks (``requests``'
  ``iter_content()``, a binary file);
- an ``httpx.Response`` (its ``iter_bytes()``/``aiter_bytes()``);
- an httpx-sse ``EventSource`` (``iter_sse()``/``aiter_sse()``) or any iterable of objects with
  ``.event`` and ``.data`` (httpx-sse ``ServerSentEvent``), fed without re-framing;
- an openai SDK stream (see ``_openai``), read from its raw bytes when still unread.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from ._call import ToolCall
from ._errors import UsageError
from ._events import CallDone, Event
from ._parser import ApiChoice, StreamParser
from ._result import Collector, StreamResult

__all__ = ["acollect", "aiter_calls", "aiter_events", "collect", "iter_calls", "iter_events"]

_CHUNK = 64 * 1024


def _feed(parser: StreamParser, item: Any) -> list[Event]:
    if isinstance(item, (bytes, bytearray, memoryview)):
        return parser.feed(item)
    if isinstance(item, str):
        return parser.feed(item.encode())
    data = getattr(item, "data", None)
    if isinstance(data, (str, bytes)):
        return parser.feed_event(getattr(item, "event", None), data)
    raise UsageError(
        f"cannot read {type(item).__name__} items: expected bytes chunks or SSE events "
        "(objects with .event and .data)"
    )


def _sync_items(source: Any) -> Iterable[Any]:
    from ._openai import sync_items

    items = sync_items(source)
    if items is not None:
        return items
    if isinstance(source, (bytes, bytearray, memoryview)):
        return (source,)
    if hasattr(source, "iter_sse"):
        return source.iter_sse()  # type: ignore[no-any-return]
    if hasattr(source, "iter_bytes"):
        return source.iter_bytes()  # type: ignore[no-any-return]
    if hasattr(source, "read") and not hasattr(source, "__next__"):
        return iter(lambda: source.read(_CHUNK), b"")
    if isinstance(source, Iterable):
        return source
    raise UsageError(f"cannot read events from {type(source).__name__}")


def _async_items(source: Any) -> AsyncIterable[Any] | Iterable[Any]:
    from ._openai import async_items

    items = async_items(source)
    if items is not None:
        return items
    if hasattr(source, "aiter_sse"):
        return source.aiter_sse()  # type: ignore[no-any-return]
    if hasattr(source, "aiter_bytes"):
        return source.aiter_bytes()  # type: ignore[no-any-return]
    if isinstance(source, AsyncIterable):
        return source
    return _sync_items(source)


def iter_events(
    source: Any, *, api: ApiChoice = "auto", strict: bool = True,
    parser: StreamParser | None = None,
) -> Iterator[Event]:
    """Yield events from ``source`` as they complete, then the end-of-input events.

    Pass ``parser`` to keep access to ``parser.calls`` afterwards (e.g. after an exception).
    """
    parser = parser or StreamParser(api, strict=strict)
    for item in _sync_items(source):
        yield from _feed(parser, item)
    yield from parser.finish()


async def aiter_events(
    source: Any, *, api: ApiChoice = "auto", strict: bool = True,
    parser: StreamParser | None = None,
) -> AsyncIterator[Event]:
    """The async twin of :func:`iter_events`; closes the source's iterator on early exit."""
    parser = parser or StreamParser(api, strict=strict)
    items = _async_items(source)
    if isinstance(items, AsyncIterable):
        iterator = aiter(items)
        try:
            async for item in iterator:
                for event in _feed(parser, item):
                    yield event
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                await close()
    else:
        for item in items:
            for event in _feed(parser, item):
                yield event
    for event in parser.finish():
        yield event


def iter_calls(source: Any, *, api: ApiChoice = "auto", strict: bool = True
               ) -> Iterator[ToolCall]:
    """Yield each call the moment it is final (``CallDone``); incomplete calls are not yielded."""
    for event in iter_events(source, api=api, strict=strict):
        if isinstance(event, CallDone):
            yield event.call


async def aiter_calls(source: Any, *, api: ApiChoice = "auto", strict: bool = True
                      ) -> AsyncIterator[ToolCall]:
    """The async twin of :func:`iter_calls`."""
    async for event in aiter_events(source, api=api, strict=strict):
        if isinstance(event, CallDone):
            yield event.call


def collect(source: Any, *, api: ApiChoice = "auto", strict: bool = True) -> StreamResult:
    """Read the whole stream; return calls, text, finish reasons, usage and completeness."""
    parser = StreamParser(api, strict=strict)
    collector = Collector()
    for event in iter_events(source, parser=parser):
        collector.add(event)
    return collector.result(calls=parser.calls, api=parser.api)


async def acollect(source: Any, *, api: ApiChoice = "auto", strict: bool = True
                   ) -> StreamResult:
    """The async twin of :func:`collect`."""
    parser = StreamParser(api, strict=strict)
    collector = Collector()
    async for event in aiter_events(source, parser=parser):
        collector.add(event)
    return collector.result(calls=parser.calls, api=parser.api)
