"""``fcstream.stream`` / ``fcstream.astream``: one request, its events, over an httpx client.

::

    with fcstream.stream(client, "POST", url, json=body) as events:
        for event in events:
            ...

The response head is checked when the ``with`` block is entered, before any event: a non-2xx
status raises ``HTTPStatusError`` (status, content type, at most 2 KB of the body), a 2xx JSON
body holding ``{"error": ...}`` raises ``ProviderError``, any other content type than
``text/event-stream`` raises ``ContentTypeError`` naming it (``_http_check``). The events are then
framed by httpx-sse and fed to the parser with ``feed_event``; fcstream's own framer serves the
byte sources, and both reach the same accumulator. One difference follows from httpx-sse: an
unterminated last event is dropped by its decoder, so ``StreamDone.leftover`` stays empty (the
stream is still reported truncated).

A connection dropped mid-stream (any ``httpx.TransportError``, a read timeout included): the
iterator yields every event so far and what ``finish()`` returns -- open calls as
``CallIncomplete(reason="truncated")``, ``StreamDone(complete=False)`` -- then raises
``IncompleteStreamError(reason="read_failed")`` whose ``calls`` holds every call and whose
``__cause__`` is the httpx error. A server that closes the stream cleanly without its terminal
marker raises nothing: ``StreamDone(complete=False, status="truncated")`` says it. Neither does
a connection that breaks after the terminal marker (``[DONE]``, ``response.completed``): the
response is whole.

The response is closed when the ``with`` block exits, also after an early ``break``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import httpx
from httpx_sse import EventSource

from ._call import Api, ToolCall
from ._events import Event
from ._http_check import (
    api_from_url,
    aread_bounded,
    is_event_stream,
    read_bounded,
    read_limit,
    response_error,
)
from ._iterate import aiter_events, iter_events
from ._parser import ApiChoice, StreamParser

__all__ = ["AsyncEventStream", "EventStream", "astream", "stream"]


class EventStream:
    """The events of one streamed response, in order; iterate it once.

    ``response`` is the httpx response (headers such as ``x-request-id``); ``calls`` every call
    so far, also after an exception; ``api`` the API once detected.
    """

    yields_events = True
    """Marks a source that already yields fcstream events (iter_calls/collect pass it through)."""

    def __init__(self, response: httpx.Response, parser: StreamParser, api: ApiChoice) -> None:
        self.response = response
        self.parser = parser
        self._events = iter_events(EventSource(response), api=api, parser=parser)

    def __iter__(self) -> Iterator[Event]:
        return self

    def __next__(self) -> Event:
        return next(self._events)

    @property
    def calls(self) -> list[ToolCall]:
        return self.parser.calls

    @property
    def api(self) -> Api | None:
        return self.parser.api

    def close(self) -> None:
        """Stop reading (the response itself is closed by the ``with`` block)."""
        self._events.close()  # type: ignore[attr-defined]


class AsyncEventStream:
    """The async twin of :class:`EventStream`."""

    yields_events = True
    """Marks a source that already yields fcstream events (iter_calls/collect pass it through)."""

    def __init__(self, response: httpx.Response, parser: StreamParser, api: ApiChoice) -> None:
        self.response = response
        self.parser = parser
        self._events = aiter_events(EventSource(response), api=api, parser=parser)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        return await anext(self._events)

    @property
    def calls(self) -> list[ToolCall]:
        return self.parser.calls

    @property
    def api(self) -> Api | None:
        return self.parser.api

    async def aclose(self) -> None:
        await self._events.aclose()  # type: ignore[attr-defined]


def _headers(kwargs: dict[str, Any]) -> httpx.Headers:
    headers = httpx.Headers(kwargs.pop("headers", None))
    headers.setdefault("Accept", "text/event-stream")
    return headers


def _error_api(api: ApiChoice, url: httpx.URL | str) -> str | None:
    return api if api != "auto" else api_from_url(url)


@contextmanager
def stream(
    client: httpx.Client,
    method: str,
    url: httpx.URL | str,
    *,
    api: ApiChoice = "auto",
    strict: bool = True,
    **kwargs: Any,
) -> Iterator[EventStream]:
    """Send the request with ``client.stream(method, url, **kwargs)``; yield its events.

    ``kwargs`` go to httpx (``json=``, ``headers=``, ``timeout=``...); ``Accept:
    text/event-stream`` is added unless given. Raises on entry ``HTTPStatusError``,
    ``ProviderError`` or ``ContentTypeError`` (module docstring); while iterating,
    ``IncompleteStreamError`` after a dropped connection and, in strict mode, ``PayloadError``.
    """
    parser = StreamParser(api, strict=strict)
    headers = _headers(kwargs)
    with client.stream(method, url, headers=headers, **kwargs) as response:
        content_type = response.headers.get("content-type")
        if not is_event_stream(response.status_code, content_type):
            limit = read_limit(response.status_code, content_type)
            chunks = response.iter_bytes()
            try:
                body = read_bounded(chunks, limit)
            finally:
                chunks.close()  # type: ignore[attr-defined]
            raise response_error(response.status_code, content_type, body, api=_error_api(api, url))
        events = EventStream(response, parser, api)
        try:
            yield events
        finally:
            events.close()


@asynccontextmanager
async def astream(
    client: httpx.AsyncClient,
    method: str,
    url: httpx.URL | str,
    *,
    api: ApiChoice = "auto",
    strict: bool = True,
    **kwargs: Any,
) -> AsyncIterator[AsyncEventStream]:
    """The async twin of :func:`stream`, over an ``httpx.AsyncClient``."""
    parser = StreamParser(api, strict=strict)
    headers = _headers(kwargs)
    async with client.stream(method, url, headers=headers, **kwargs) as response:
        content_type = response.headers.get("content-type")
        if not is_event_stream(response.status_code, content_type):
            limit = read_limit(response.status_code, content_type)
            chunks = response.aiter_bytes()
            try:
                body = await aread_bounded(chunks, limit)
            finally:
                await chunks.aclose()  # type: ignore[attr-defined]
            raise response_error(response.status_code, content_type, body, api=_error_api(api, url))
        events = AsyncEventStream(response, parser, api)
        try:
            yield events
        finally:
            await events.aclose()
