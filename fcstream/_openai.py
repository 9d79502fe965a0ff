"""openai SDK stream objects as fcstream sources, found by duck typing: ``openai`` is never
imported, so it stays a test extra and fcstream works with whatever SDK version is installed.

What ``client.chat.completions.create(stream=True)`` and ``client.responses.create(stream=True)``
return (``openai.Stream`` / ``openai.AsyncStream``) keeps the HTTP response in ``.response`` and
its parsing generator in ``._iterator``. The helper streams of ``client.chat.completions.stream()``
and ``client.responses.stream()`` wrap one of those in ``._raw_stream``; they are unwrapped.

Two ways in, never a second HTTP request:

1. **Unread stream** (nothing iterated yet): fcstream reads the raw bytes under the SDK
   (``response.iter_bytes()``) and frames them itself. Everything the server sent is seen:
   ``[DONE]``, comments, unterminated tails. The response is checked first like any other
   (``_http_check``): the SDK raises for a non-2xx status itself, but would hand over a 2xx
   JSON error body or a wrong content type as a stream of nothing; fcstream raises
   ``ProviderError`` / ``ContentTypeError`` instead. The SDK object is spent afterwards
   (iterating it raises the HTTP library's "stream consumed" error), and the response is closed
   at the end or on an early exit, as the SDK itself does.
2. **Partly or fully consumed stream**: the bytes are gone into the SDK's parser, so fcstream
   converts the SDK's remaining parsed objects back into payloads (:func:`payload`). The objects
   the caller already took are gone too: their calls are missing or start mid-way (a call
   whose name was consumed comes back nameless). The SDK swallows chat's ``[DONE]``, so a chat
   stream read this way ends with status ``finished`` (every choice sent its finish reason) at
   best, never ``done``; an error object in a chat stream, which the SDK raises as
   ``openai.APIError``, is turned back into the error payload it came from.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any

import msgspec

from ._errors import FcstreamError
from ._http_check import (
    api_from_url,
    aread_bounded,
    is_event_stream,
    read_bounded,
    read_limit,
    response_error,
)

__all__ = ["async_items", "payload", "sync_items"]


def _sdk_stream(source: Any, *, sync: bool) -> Any | None:
    """``source`` (or the raw stream it wraps) if it looks like an openai SDK stream."""
    raw = getattr(source, "_raw_stream", None)
    if raw is not None and _is_stream(raw, sync=sync):
        return raw
    return source if _is_stream(source, sync=sync) else None


def _is_stream(obj: Any, *, sync: bool) -> bool:
    response = getattr(obj, "response", None)
    if response is None or not hasattr(obj, "_iterator"):
        return False
    if not hasattr(response, "is_stream_consumed"):
        return False
    if sync:
        return hasattr(obj, "__next__") and hasattr(response, "iter_bytes")
    return hasattr(obj, "__anext__") and hasattr(response, "aiter_bytes")


def _unread(stream: Any) -> bool:
    """True while neither the SDK nor anyone else has started reading the response body."""
    response = stream.response
    if response.is_stream_consumed or getattr(response, "is_closed", False):
        return False
    iterator = stream._iterator
    if inspect.isgenerator(iterator):
        return inspect.getgeneratorstate(iterator) == inspect.GEN_CREATED
    return True


def sync_items(source: Any) -> Iterable[Any] | None:
    """Items to feed for an openai SDK sync stream, or ``None`` if ``source`` is not one."""
    stream = _sdk_stream(source, sync=True)
    if stream is None:
        return None
    if _unread(stream):
        return _raw_bytes(stream.response)
    return _parsed(stream)


def async_items(source: Any) -> AsyncIterable[Any] | None:
    """Items to feed for an openai SDK async stream, or ``None`` if ``source`` is not one."""
    stream = _sdk_stream(source, sync=False)
    if stream is None:
        return None
    if _unread(stream):
        return _araw_bytes(stream.response)
    return _aparsed(stream)


def _not_a_stream(response: Any) -> bool:
    """The SDK raises for non-2xx itself, but hands over a 2xx JSON error body or a wrong
    content type as a stream that yields nothing: check it as fcstream checks any response."""
    return not is_event_stream(response.status_code, response.headers.get("content-type"))


def _error(response: Any, body: bytes) -> FcstreamError:
    content_type = response.headers.get("content-type")
    api = api_from_url(getattr(response, "url", ""))
    return response_error(response.status_code, content_type, body, api=api)


def _raw_bytes(response: Any) -> Iterator[bytes]:
    try:
        if _not_a_stream(response):
            limit = read_limit(response.status_code, response.headers.get("content-type"))
            raise _error(response, read_bounded(response.iter_bytes(), limit))
        yield from response.iter_bytes()
    finally:
        response.close()  # as the SDK does after its last event or an early exit


async def _araw_bytes(response: Any) -> AsyncIterator[bytes]:
    chunks = response.aiter_bytes()
    try:
        if _not_a_stream(response):
            limit = read_limit(response.status_code, response.headers.get("content-type"))
            raise _error(response, await aread_bounded(chunks, limit))
        async for chunk in chunks:
            yield chunk
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
        await response.aclose()


def _error_body(exc: Exception) -> Mapping[str, Any] | None:
    """The error object the SDK raised ``APIError`` for (its ``body``), if that is what it is.

    Connection errors carry no body: they propagate, and the iterator reports the drop.
    """
    body = getattr(exc, "body", None)
    return body if isinstance(body, Mapping) else None


def _parsed(stream: Any) -> Iterator[Any]:
    try:
        yield from stream
    except Exception as exc:
        body = _error_body(exc)
        if body is None:
            raise
        yield {"error": dict(body)}


async def _aparsed(stream: Any) -> AsyncIterator[Any]:
    try:
        async for item in stream:
            yield item
    except Exception as exc:
        body = _error_body(exc)
        if body is None:
            raise
        yield {"error": dict(body)}


def payload(item: Any) -> tuple[str, bytes] | None:
    """An SDK model object (or a plain mapping) as the SSE event type and JSON payload it came
    from, or ``None`` if ``item`` is neither.

    The SDK keeps which fields the server sent (``exclude_unset``) and their wire names
    (``by_alias``), so the payload holds what was on the wire, minus key order and spacing. It
    goes through JSON text because that is what the parser takes; pydantic writes it in Rust.
    Responses events name their type in ``type``; chat chunks have none and travel as
    ``message``, as on the wire.
    """
    if hasattr(item, "model_dump_json"):
        data = item.model_dump_json(by_alias=True, exclude_unset=True, warnings=False)
        kind = getattr(item, "type", None)
    elif isinstance(item, Mapping):
        data = msgspec.json.encode(item)
        kind = item.get("type")
    else:
        return None
    event = kind if isinstance(kind, str) and kind else "message"
    return event, data.encode() if isinstance(data, str) else data
