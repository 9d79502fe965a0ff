"""Thin loops that feed a StreamParser from whatever the caller holds: hand-written sync and
async twins over the same core.

Sources, found by duck typing (fcstream imports no client library here):

- ``bytes`` (a whole recorded stream) or any iterable of byte chunks (``requests``'
  ``iter_content()``, aiohttp's ``content.iter_any()``, a binary file);
- a response object: httpx (``iter_bytes()``/``aiter_bytes()``), requests (``iter_content``),
  aiohttp (``content.iter_any()``). Its status and content type are checked first (``_http_check``:
  ``HTTPStatusError``, ``ProviderError`` for a JSON error body, ``ContentTypeError``);
- an httpx-sse ``EventSource`` (its response checked the same way) or any iterable of objects
  with ``.event`` and ``.data`` (httpx-sse ``ServerSentEvent``), fed without re-framing;
- an openai SDK stream (see ``_openai``), read from its raw bytes when still unread, and SDK
  model objects or plain dicts (chat chunks, Responses events) as items.

When reading the source fails (a connection dropped mid-event, a read timeout), the iterator
first yields what ``finish()`` returns -- every call so far, open ones as ``CallIncomplete``
(``truncated``), ``StreamDone(complete=False)`` -- and then raises ``IncompleteStreamError``
(``reason="read_failed"``, ``.calls`` = every call) chained from the client's exception. Nothing
received is lost, and the caller still learns that the connection, not the server, ended the
stream. A failure after the stream's own terminal marker (``[DONE]``, ``response.completed``...)
raises nothing: every byte that belongs to the response arrived. ``RuntimeError``s (caller
mistakes such as reading a closed response) and fcstream's own errors propagate unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from typing import Any

from ._call import ToolCall
from ._errors import FcstreamError, IncompleteStreamError, UsageError
from ._events import CallDone, Event, StreamDone
from ._http_check import (
    api_from_url,
    aread_bounded,
    is_event_stream,
    read_bounded,
    read_limit,
    response_error,
)
from ._openai import async_items, payload, sync_items
from ._parser import ApiChoice, StreamParser
from ._result import Collector, StreamResult

__all__ = ["acollect", "aiter_calls", "aiter_events", "collect", "iter_calls", "iter_events"]

_CHUNK = 64 * 1024


def _feed(parser: StreamParser, item: Any) -> list[Event]:
    if isinstance(item, (bytes, bytearray, memoryview)):
        return parser.feed(item)
    if isinstance(item, str):
        return parser.feed(item.encode())
    if not hasattr(item, "model_dump_json"):
        data = getattr(item, "data", None)
        if isinstance(data, (str, bytes)):
            event = getattr(item, "event", None)
            if not data and event not in (None, "", "message"):
                # httpx-sse also dispatches blocks without any data line (S03's ``event: ping``),
                # which the SSE rules and fcstream's framer do not: skipped the same way. A
                # ``data:`` line alone is dispatched by both, as ``message``: fed, so it becomes
                # the same OtherEvent at the same index as from bytes. (httpx-sse cannot tell
                # ``event: ping`` + ``data:`` from the former, nor a block of only ``id:`` from
                # the latter; both are rare.)
                return []
            return parser.feed_event(event, data)
    converted = payload(item)
    if converted is not None:
        return parser.feed_event(*converted)
    raise UsageError(
        f"cannot read {type(item).__name__} items: expected bytes chunks, SSE events "
        "(objects with .event and .data), or openai SDK objects"
    )


def _api_of(response: Any, api: ApiChoice) -> str | None:
    return api if api != "auto" else api_from_url(getattr(response, "url", ""))


def _close(iterator: Any) -> None:
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


async def _aclose(iterator: Any) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


def _check(response: Any, status: int, read: Callable[[], Iterator[bytes]], api: ApiChoice
           ) -> None:
    """Raise the typed HTTP error unless ``response`` is a 2xx event stream."""
    content_type = response.headers.get("content-type")
    if is_event_stream(status, content_type):
        return
    chunks = read()
    try:
        body = read_bounded(chunks, read_limit(status, content_type))
    finally:
        _close(chunks)
    raise response_error(status, content_type, body, api=_api_of(response, api))


async def _acheck(response: Any, status: int, read: Callable[[], AsyncIterator[bytes]],
                  api: ApiChoice) -> None:
    """The async twin of :func:`_check`."""
    content_type = response.headers.get("content-type")
    if is_event_stream(status, content_type):
        return
    chunks = read()
    try:
        body = await aread_bounded(chunks, read_limit(status, content_type))
    finally:
        await _aclose(chunks)
    raise response_error(status, content_type, body, api=_api_of(response, api))


def _sync_items(source: Any, api: ApiChoice = "auto") -> Iterable[Any]:
    items = sync_items(source)
    if items is not None:
        return items
    if isinstance(source, (bytes, bytearray, memoryview)):
        return (source,)
    if hasattr(source, "iter_sse"):  # httpx-sse EventSource
        response = getattr(source, "response", None)
        if response is not None and hasattr(response, "status_code"):
            _check(response, response.status_code, response.iter_bytes, api)
        return source.iter_sse()  # type: ignore[no-any-return]
    if hasattr(source, "status_code") and hasattr(source, "headers"):
        if hasattr(source, "iter_bytes"):  # httpx.Response (and the openai SDK's APIResponse)
            _check(source, source.status_code, source.iter_bytes, api)
            return source.iter_bytes()  # type: ignore[no-any-return]
        if hasattr(source, "iter_content"):  # requests.Response
            def read() -> Iterator[bytes]:
                return source.iter_content(chunk_size=None)  # type: ignore[no-any-return]

            _check(source, source.status_code, read, api)
            return read()
    if hasattr(source, "iter_bytes"):
        return source.iter_bytes()  # type: ignore[no-any-return]
    if hasattr(source, "read") and not hasattr(source, "__next__"):
        return iter(lambda: source.read(_CHUNK), b"")
    if isinstance(source, Iterable):
        return source
    raise UsageError(f"cannot read events from {type(source).__name__}")


async def _async_items(source: Any, api: ApiChoice = "auto"
                       ) -> AsyncIterable[Any] | Iterable[Any]:
    items = async_items(source)
    if items is not None:
        return items
    if hasattr(source, "aiter_sse"):  # httpx-sse EventSource
        response = getattr(source, "response", None)
        if response is not None and hasattr(response, "status_code"):
            await _acheck(response, response.status_code, response.aiter_bytes, api)
        return source.aiter_sse()  # type: ignore[no-any-return]
    if hasattr(source, "status_code") and hasattr(source, "aiter_bytes"):  # httpx.Response
        await _acheck(source, source.status_code, source.aiter_bytes, api)
        return source.aiter_bytes()  # type: ignore[no-any-return]
    content = getattr(source, "content", None)
    if hasattr(source, "status") and hasattr(content, "iter_any"):  # aiohttp.ClientResponse
        await _acheck(source, source.status, content.iter_any, api)  # type: ignore[union-attr]
        return content.iter_any()  # type: ignore[no-any-return, union-attr]
    if hasattr(source, "aiter_bytes"):
        return source.aiter_bytes()  # type: ignore[no-any-return]
    if isinstance(source, AsyncIterable):
        return source
    return _sync_items(source, api)


def _read_failed(parser: StreamParser, exc: Exception) -> IncompleteStreamError:
    return IncompleteStreamError(
        f"reading the stream failed after {parser.events_seen} events "
        f"({type(exc).__name__}: {exc})",
        calls=parser.calls,
        reason="read_failed",
    )


def _passes_through(exc: Exception) -> bool:
    """Errors that are not a failed read: fcstream's own, and caller mistakes."""
    return isinstance(exc, (FcstreamError, RuntimeError))


def _ended(events: list[Event]) -> bool:
    return any(isinstance(event, StreamDone) for event in events)


def _run(parser: StreamParser, source: Any, items: Iterable[Any]) -> Iterator[Event]:
    iterator = iter(items)
    ended = False
    try:
        while True:
            try:
                item = next(iterator)
            except StopIteration:
                break
            except Exception as exc:
                if _passes_through(exc):
                    raise
                yield from parser.finish()
                if ended:
                    return  # the stream's own end arrived: only the transport broke after it
                raise _read_failed(parser, exc) from exc
            events = _feed(parser, item)
            ended = ended or _ended(events)
            yield from events
    finally:
        if iterator is not source:  # ours (e.g. over a response): release it, also on early exit
            _close(iterator)
    yield from parser.finish()


def iter_events(
    source: Any, *, api: ApiChoice = "auto", strict: bool = True,
    parser: StreamParser | None = None,
) -> Iterator[Event]:
    """Yield events from ``source`` as they complete, then the end-of-input events.

    Pass ``parser`` to keep access to ``parser.calls`` afterwards (e.g. after an exception).
    Raises ``HTTPError``/``ProviderError`` for a response that is not an event stream (before
    any event), ``IncompleteStreamError`` after the last event when reading fails (module
    docstring), and in strict mode ``PayloadError``.
    """
    if getattr(source, "yields_events", False):  # already fcstream events (fcstream.stream)
        yield from source
        return
    parser = parser or StreamParser(api, strict=strict)
    yield from _run(parser, source, _sync_items(source, api))


async def aiter_events(
    source: Any, *, api: ApiChoice = "auto", strict: bool = True,
    parser: StreamParser | None = None,
) -> AsyncIterator[Event]:
    """The async twin of :func:`iter_events`; closes the source's iterator on early exit."""
    if getattr(source, "yields_events", False):  # already fcstream events (fcstream.astream)
        async for event in source:
            yield event
        return
    parser = parser or StreamParser(api, strict=strict)
    items = await _async_items(source, api)
    if not isinstance(items, AsyncIterable):
        for event in _run(parser, source, items):
            yield event
        return
    iterator = aiter(items)
    ended = False
    try:
        while True:
            try:
                item = await anext(iterator)
            except StopAsyncIteration:
                break
            except Exception as exc:
                if _passes_through(exc):
                    raise
                for event in parser.finish():
                    yield event
                if ended:
                    return
                raise _read_failed(parser, exc) from exc
            events = _feed(parser, item)
            ended = ended or _ended(events)
            for event in events:
                yield event
    finally:
        if iterator is not source:
            await _aclose(iterator)
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


def _parser_for(source: Any, api: ApiChoice, strict: bool) -> StreamParser:
    """The parser whose ``calls`` the result reports: the source's own when it already
    yields events, else a new one."""
    own = getattr(source, "parser", None) if getattr(source, "yields_events", False) else None
    return own if isinstance(own, StreamParser) else StreamParser(api, strict=strict)


def collect(source: Any, *, api: ApiChoice = "auto", strict: bool = True) -> StreamResult:
    """Read the whole stream; return calls, text, finish reasons, usage and completeness."""
    parser = _parser_for(source, api, strict)
    collector = Collector()
    for event in iter_events(source, api=api, parser=parser):
        collector.add(event)
    return collector.result(calls=parser.calls, api=parser.api, events=parser.events_seen)


async def acollect(source: Any, *, api: ApiChoice = "auto", strict: bool = True
                   ) -> StreamResult:
    """The async twin of :func:`collect`."""
    parser = _parser_for(source, api, strict)
    collector = Collector()
    async for event in aiter_events(source, api=api, parser=parser):
        collector.add(event)
    return collector.result(calls=parser.calls, api=parser.api, events=parser.events_seen)
