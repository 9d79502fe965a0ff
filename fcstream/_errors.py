"""Everything fcstream raises on purpose, as one small tree::

    FcstreamError                  base of every error below
     +- StreamFormatError          bytes that cannot be framed as SSE (event over the size cap)
     +- PayloadError               a payload that is not valid for its API: bad JSON, wrong shape
     |   +- ProtocolError          valid JSON that breaks the stream's structure: a fragment for a
     |                             call already final, data after [DONE], a sequence gap, an API
     |                             mix-up
     +- ArgumentsError             ToolCall.json(): arguments that are not exactly one JSON value
     +- ProviderError              the provider reported an error in the stream or the body
     +- HTTPError                  a response that is not an event stream (issue 7 adapters)
     |   +- HTTPStatusError        non-2xx status, with a bounded body excerpt
     |   +- ContentTypeError       2xx whose content type is not text/event-stream
     +- IncompleteStreamError      input ended before the terminal marker; ``.calls`` keeps all
     +- DefinitionError(ValueError) a tool definition that cannot be read or built, or one in the
     |   |                         other API's shape (chat nested vs Responses flat)
     |   +- StrictSchemaError      a schema strict mode cannot accept; ``.problems`` lists each one
     +- TurnError(ValueError)      next-turn input whose calls and results do not pair up
     +- DispatchError              the event source raised while calls ran; ``.result`` keeps all
     +- UsageError(RuntimeError)   fcstream called wrongly, e.g. feed() after finish()

Errors carry fields and build ``str()`` from them, so tests and callers read ``exc.event_index``
instead of parsing messages. Errors raised from ``feed()`` carry ``.events``: whatever that call
completed before the error, so nothing is lost by raising. Two errors are equal when their fields
are, which lets a lenient stream's events be compared across re-chunkings.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Final

if TYPE_CHECKING:
    from ._call import ToolCall
    from ._dispatch import DispatchResult

EXCERPT_BYTES: Final = 120
"""Bytes of the offending input kept in an error: enough to recognise it, bounded for logs."""


def excerpt(data: bytes | bytearray | memoryview | str, limit: int = EXCERPT_BYTES) -> str:
    """A short printable view of ``data`` for error messages (never the whole payload)."""
    if isinstance(data, str):
        text = data
    else:
        text = bytes(data[: limit * 4]).decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "..."


class FcstreamError(Exception):
    """Base of every error fcstream raises on purpose."""

    _fields: ClassVar[tuple[str, ...]] = ()

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.events: list[Any] = []
        """Events completed by the raising call before the error (empty when none)."""

    def _key(self) -> tuple[Any, ...]:
        return (type(self), self.message, *(getattr(self, f) for f in self._fields))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FcstreamError):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        fields = ", ".join(f"{f}={getattr(self, f)!r}" for f in ("message", *self._fields))
        return f"{type(self).__name__}({fields})"

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[Any, ...]:
        # the default rebuilds from ``args`` alone, which fails for keyword-only fields: errors
        # could then not be copied, pickled or sent back from a worker process
        return (_rebuild, (type(self), self.args), dict(self.__dict__))


def _rebuild(cls: type[FcstreamError], args: tuple[Any, ...]) -> FcstreamError:
    return cls.__new__(cls, *args)


class UsageError(FcstreamError, RuntimeError):
    """fcstream was called wrongly (a caller bug, not bad input): e.g. ``feed()`` after
    ``finish()``."""


class StreamFormatError(FcstreamError):
    """Bytes that cannot be framed as SSE. Sticky: the parser refuses further input after it."""

    _fields = ("byte_offset", "excerpt")

    def __init__(self, message: str, *, byte_offset: int, excerpt: str = "") -> None:
        super().__init__(message)
        self.byte_offset = byte_offset
        self.excerpt = excerpt

    def __str__(self) -> str:
        return f"{self.message} (byte {self.byte_offset}: {self.excerpt!r})"


class PayloadError(FcstreamError):
    """A payload that is not valid for its API. Not sticky: the next event is still framed.

    ``api`` is ``"chat"``, ``"responses"`` or ``None`` when not yet known; ``event_index`` is the
    0-based ordinal of the dispatched SSE event; ``byte_offset`` where that event starts in the
    stream (``-1`` when fed already framed); ``event`` is the SSE event type.
    """

    _fields: ClassVar[tuple[str, ...]] = ("api", "event_index", "byte_offset", "event", "excerpt")

    def __init__(
        self,
        message: str,
        *,
        api: str | None,
        event_index: int,
        byte_offset: int,
        event: str = "message",
        excerpt: str = "",
    ) -> None:
        super().__init__(message)
        self.api = api
        self.event_index = event_index
        self.byte_offset = byte_offset
        self.event = event
        self.excerpt = excerpt

    def __str__(self) -> str:
        where = f"{self.api or 'unknown API'} event {self.event_index}"
        if self.byte_offset >= 0:
            where += f", byte {self.byte_offset}"
        return f"{where}: {self.message}: {self.excerpt!r}"


class ProtocolError(PayloadError):
    """Valid JSON that breaks the stream's structure (reported, never silently merged).

    ``call_id`` and ``index`` name the call concerned when there is one; ``data`` keeps the text
    that could not be placed (e.g. a late argument fragment), so lenient mode loses nothing.
    """

    _fields = (*PayloadError._fields, "call_id", "index", "data")

    def __init__(
        self,
        message: str,
        *,
        api: str | None,
        event_index: int,
        byte_offset: int,
        event: str = "message",
        excerpt: str = "",
        call_id: str | None = None,
        index: int | None = None,
        data: str = "",
    ) -> None:
        super().__init__(
            message,
            api=api,
            event_index=event_index,
            byte_offset=byte_offset,
            event=event,
            excerpt=excerpt,
        )
        self.call_id = call_id
        self.index = index
        self.data = data


class ArgumentsError(FcstreamError, ValueError):
    """A call's arguments are not exactly one JSON value (invalid, or several values: C24).

    ``values_found`` is how many complete JSON values were read before the text stopped parsing
    (``2`` for ``{"a":1}{"b":2}``); ``position`` the character offset where reading stopped.
    """

    _fields = ("call_id", "name", "index", "values_found", "position", "excerpt")

    def __init__(
        self,
        message: str,
        *,
        call_id: str | None,
        name: str | None,
        index: int,
        values_found: int,
        position: int,
        excerpt: str,
    ) -> None:
        super().__init__(message)
        self.call_id = call_id
        self.name = name
        self.index = index
        self.values_found = values_found
        self.position = position
        self.excerpt = excerpt

    def __str__(self) -> str:
        return (
            f"call {self.index} ({self.name!r}, id {self.call_id!r}): {self.message} "
            f"at character {self.position}: {self.excerpt!r}"
        )


class ProviderError(FcstreamError):
    """The provider reported an error: an error object in a chat stream, a Responses ``error``,
    ``response.failed`` or ``response.incomplete`` event, or a JSON error body instead of a stream.

    ``raw`` keeps the payload's bytes exactly as received; ``byte_offset`` is where its SSE
    event starts in the stream (0 for a JSON error body, -1 when not known: ``feed_event``, an
    HTTP response checked before any stream).
    """

    _fields = ("api", "code", "type", "event_index", "byte_offset", "raw")

    def __init__(
        self,
        message: str,
        *,
        api: str | None,
        code: str | None = None,
        type: str | None = None,
        event_index: int = -1,
        byte_offset: int = -1,
        raw: bytes = b"",
    ) -> None:
        super().__init__(message)
        self.api = api
        self.code = code
        self.type = type
        self.event_index = event_index
        self.byte_offset = byte_offset
        self.raw = raw

    def __str__(self) -> str:
        label = ", ".join(x for x in (self.type, self.code) if x)
        where = f" at event {self.event_index}" if self.event_index >= 0 else ""
        return f"provider error{where}" + (f" ({label})" if label else "") + f": {self.message}"


class HTTPError(FcstreamError):
    """The HTTP response is not an event stream fcstream can read."""

    _fields = ("status_code", "content_type", "body_excerpt")

    def __init__(
        self, message: str, *, status_code: int, content_type: str, body_excerpt: str
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.content_type = content_type
        self.body_excerpt = body_excerpt

    def __str__(self) -> str:
        return (
            f"{self.message} (HTTP {self.status_code}, content type {self.content_type!r}): "
            f"{self.body_excerpt!r}"
        )


class HTTPStatusError(HTTPError):
    """A non-2xx response (e.g. a proxy's HTML error page)."""


class ContentTypeError(HTTPError):
    """A 2xx response whose content type is not ``text/event-stream``."""


class IncompleteStreamError(FcstreamError):
    """Input ended before the stream's terminal marker. ``calls`` holds every call received."""

    _fields = ("calls", "reason")

    def __init__(self, message: str, *, calls: Sequence[ToolCall], reason: str) -> None:
        super().__init__(message)
        self.calls = list(calls)
        self.reason = reason

    def __hash__(self) -> int:
        # calls are a list (of calls that may hold dicts): hash what equal errors share
        return hash((type(self), self.message, self.reason))


class DefinitionError(FcstreamError, ValueError):
    """A tool definition that cannot be read or built, or one in the wrong API's shape.

    ``api`` is the API the definition was used with (``None`` when reading either shape);
    ``found`` the shape it has (``"chat"``, ``"responses"`` or ``None`` when neither);
    ``index`` its position in a tool list, when it came from one.
    """

    _fields: ClassVar[tuple[str, ...]] = ("api", "found", "index")

    def __init__(
        self,
        message: str,
        *,
        api: str | None = None,
        found: str | None = None,
        index: int | None = None,
    ) -> None:
        super().__init__(message)
        self.api = api
        self.found = found
        self.index = index

    def __str__(self) -> str:
        where = f"tools[{self.index}]: " if self.index is not None else ""
        return where + self.message


class StrictSchemaError(DefinitionError):
    """A JSON schema that strict mode cannot accept, with every reason at once.

    ``problems`` is a list of ``(json_path, reason)`` pairs, e.g.
    ``("$.properties.tags.additionalProperties", "an open map ...")``: fixing them one 400 at a
    time is what this error saves.
    """

    _fields = (*DefinitionError._fields, "problems")

    def __init__(self, message: str, *, problems: Sequence[tuple[str, str]]) -> None:
        super().__init__(message)
        self.problems = list(problems)

    def _key(self) -> tuple[Any, ...]:
        return _hashable(super()._key())

    def __str__(self) -> str:
        lines = "".join(f"\n  {path}: {reason}" for path, reason in self.problems)
        return f"{self.message}:{lines}"


class TurnError(FcstreamError, ValueError):
    """Calls and results that do not pair up one to one (providers answer such a turn with an
    opaque 400). Each field lists the call ids concerned, in call or result order.

    ``missing``: calls without a result; ``unknown``: results for no call; ``duplicate``: ids
    given two results (or carried by two calls); ``without_id``: positions of calls with no id.
    """

    _fields = ("missing", "unknown", "duplicate", "without_id")

    def __init__(
        self,
        message: str,
        *,
        missing: Sequence[str] = (),
        unknown: Sequence[str] = (),
        duplicate: Sequence[str] = (),
        without_id: Sequence[int] = (),
    ) -> None:
        super().__init__(message)
        self.missing = list(missing)
        self.unknown = list(unknown)
        self.duplicate = list(duplicate)
        self.without_id = list(without_id)

    def _key(self) -> tuple[Any, ...]:
        return _hashable(super()._key())

    def __str__(self) -> str:
        parts = [
            f"{label}: {', '.join(map(repr, ids))}"
            for label, ids in (
                ("no result for", self.missing),
                ("result for no call", self.unknown),
                ("twice", self.duplicate),
                ("calls without an id at positions", self.without_id),
            )
            if ids
        ]
        return f"{self.message} ({'; '.join(parts)})" if parts else self.message


class DispatchError(FcstreamError):
    """The event source raised while calls were being run (a dropped connection, a strict
    payload error). Raised after every handler already started has finished, so ``result``
    says exactly which calls ran; the source's exception is ``__cause__``.
    """

    _fields = ("result",)

    def __init__(self, message: str, *, result: DispatchResult) -> None:
        super().__init__(message)
        self.result = result

    def __hash__(self) -> int:
        # the result holds lists; equal errors have equal messages, so this stays consistent
        return hash((type(self), self.message))


def _hashable(key: tuple[Any, ...]) -> tuple[Any, ...]:
    """Lists as tuples, so errors that carry lists still hash (errors live in frozen events)."""
    return tuple(tuple(v) if isinstance(v, list) else v for v in key)
