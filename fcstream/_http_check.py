"""Is this HTTP response an event stream? One answer for every client fcstream reads from.

httpx (``fcstream.stream``, ``iter_events(response)``), httpx-sse, requests and aiohttp responses
all reach these functions with three things: the status code, the ``Content-Type`` header and,
only when the answer is "no", a bounded read of the body. No client library is imported here, so
the same error comes back whichever client made the request:

- a non-2xx status: ``HTTPStatusError`` with the status and at most ``EXCERPT_LIMIT`` bytes of
  the body (a proxy's HTML page can be megabytes; a log line should not be);
- 2xx with a JSON body holding ``{"error": ...}`` (quirk S08): ``ProviderError``, as the stream
  itself would have reported it;
- 2xx with any other content type (JSON without an error, ``text/plain``, none at all):
  ``ContentTypeError`` naming the type.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any, Final

import msgspec

from ._errors import ContentTypeError, FcstreamError, HTTPStatusError, ProviderError

__all__ = [
    "EXCERPT_LIMIT",
    "JSON_LIMIT",
    "api_from_url",
    "aread_bounded",
    "is_event_stream",
    "media_type",
    "read_bounded",
    "read_limit",
    "response_error",
]

EXCERPT_LIMIT: Final = 2048
"""Body bytes kept in an HTTP error: enough for an error page's title and message, bounded."""

JSON_LIMIT: Final = 64 * 1024
"""Body bytes read to decode a JSON error: error objects are small; a bigger body is not one."""

_EVENT_STREAM: Final = "text/event-stream"


def media_type(content_type: str | None) -> str:
    """``"text/event-stream; charset=utf-8"`` -> ``"text/event-stream"``."""
    return (content_type or "").partition(";")[0].strip().lower()


def is_event_stream(status: int, content_type: str | None) -> bool:
    """True for a 2xx response whose media type is ``text/event-stream``."""
    return 200 <= status < 300 and media_type(content_type) == _EVENT_STREAM


def read_limit(status: int, content_type: str | None) -> int:
    """How many body bytes ``response_error`` needs: more for a JSON body it must decode."""
    if 200 <= status < 300 and _is_json(media_type(content_type)):
        return JSON_LIMIT
    return EXCERPT_LIMIT


def api_from_url(url: object) -> str | None:
    """The API a request URL names (``.../chat/completions`` or ``.../responses``), if any."""
    path = str(url).partition("?")[0].rstrip("/")
    if path.endswith("/chat/completions"):
        return "chat"
    if path.endswith("/responses"):
        return "responses"
    return None


def _is_json(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _text(body: bytes) -> str:
    return body[:EXCERPT_LIMIT].decode("utf-8", "replace")


def response_error(
    status: int, content_type: str | None, body: bytes, *, api: str | None
) -> FcstreamError:
    """The typed error for a response that is not an event stream (``body`` already bounded)."""
    content_type = content_type or ""
    if not 200 <= status < 300:
        return HTTPStatusError(
            "the server answered with an error status",
            status_code=status,
            content_type=content_type,
            body_excerpt=_text(body),
        )
    media = media_type(content_type)
    if _is_json(media):
        provider = _provider_error(body, api)
        if provider is not None:
            return provider
        return ContentTypeError(
            'expected an event stream, got a JSON body (was "stream": true sent?)',
            status_code=status,
            content_type=content_type,
            body_excerpt=_text(body),
        )
    what = f"content type {media!r}" if media else "no content type"
    return ContentTypeError(
        f"expected text/event-stream, got {what}",
        status_code=status,
        content_type=content_type,
        body_excerpt=_text(body),
    )


def _provider_error(body: bytes, api: str | None) -> ProviderError | None:
    """``{"error": {...}}`` or ``{"error": "text"}`` -> ``ProviderError``; anything else None."""
    try:
        value: Any = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return None
    if not isinstance(value, dict) or not value.get("error"):
        return None
    error = value["error"]
    if isinstance(error, dict):
        message = error.get("message")
        code = error.get("code")
        kind = error.get("type")
        return ProviderError(
            message if isinstance(message, str) and message else "error body without a message",
            api=api,
            code=None if code is None else str(code),
            type=kind if isinstance(kind, str) else None,
            raw=body,
        )
    return ProviderError(str(error), api=api, raw=body)


def read_bounded(chunks: Iterator[bytes], limit: int) -> bytes:
    """At most ``limit`` bytes from ``chunks`` (stops reading there)."""
    parts: list[bytes] = []
    size = 0
    for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(parts)[:limit]


async def aread_bounded(chunks: AsyncIterator[bytes], limit: int) -> bytes:
    """The async twin of :func:`read_bounded`."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        parts.append(chunk)
        size += len(chunk)
        if size >= limit:
            break
    return b"".join(parts)[:limit]
