"""Test helpers: feed the same bytes in different ways and compare what comes out by meaning."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import fcstream
from fcstream import (
    ArgumentsDelta,
    ErrorEvent,
    Event,
    PayloadError,
    ProviderError,
    SSEFramer,
    StreamParser,
    ToolCall,
)

BOM = b"\xef\xbb\xbf"


def normalize(events: Iterable[Event]) -> list[Event]:
    """Merge adjacent ArgumentsDelta events of the same call and SSE event, so tests compare
    meaning rather than how the parser happened to slice its output."""
    out: list[Event] = []
    for event in events:
        prev = out[-1] if out else None
        if (
            isinstance(event, ArgumentsDelta)
            and isinstance(prev, ArgumentsDelta)
            and (prev.event_index, prev.choice, prev.index)
            == (event.event_index, event.choice, event.index)
        ):
            out[-1] = ArgumentsDelta(
                event_index=prev.event_index,
                choice=prev.choice,
                index=prev.index,
                delta=prev.delta + event.delta,
            )
        else:
            out.append(event)
    return out


def feed_all(
    chunks: Sequence[bytes], *, api: fcstream._parser.ApiChoice = "auto", strict: bool = False
) -> tuple[list[Event], list[ToolCall]]:
    """Feed ``chunks`` one by one, then finish; return (normalized events, calls)."""
    parser = StreamParser(api, strict=strict)
    events: list[Event] = []
    for chunk in chunks:
        events.extend(parser.feed(chunk))
    events.extend(parser.finish())
    return normalize(events), parser.calls


def split_at(data: bytes, cuts: Iterable[int]) -> list[bytes]:
    """``data`` cut at the given offsets (sorted, clipped, duplicates allowed)."""
    points = sorted({min(max(c, 0), len(data)) for c in cuts})
    pieces: list[bytes] = []
    start = 0
    for point in points:
        pieces.append(data[start:point])
        start = point
    pieces.append(data[start:])
    return pieces


def byte_by_byte(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def load_fixture(path: Path) -> tuple[bytes, dict[str, Any]]:
    """A fixture stream and its ``.expected.json`` sidecar."""
    sidecar = path.with_name(path.name.removesuffix(".sse") + ".expected.json")
    return path.read_bytes(), json.loads(sidecar.read_text(encoding="utf-8"))


def lenient(data: bytes, api: Any = "chat") -> tuple[list[Event], list[ToolCall]]:
    """The whole stream in lenient mode: (events, calls)."""
    parser = StreamParser(api, strict=False)
    events = parser.feed(data)
    events += parser.finish()
    return events, parser.calls


def strict(data: bytes, api: Any = "chat") -> tuple[list[Event], list[PayloadError], StreamParser]:
    """Strict mode: every raised error, and the events each one carries, collected."""
    parser = StreamParser(api, strict=True)
    events: list[Event] = []
    raised: list[PayloadError] = []
    chunks = [data]
    while True:
        try:
            events += parser.feed(chunks.pop() if chunks else b"")
        except PayloadError as exc:
            raised.append(exc)
            events += exc.events
            continue
        if not chunks:
            break
    try:
        events += parser.finish()
    except PayloadError as exc:
        raised.append(exc)
        events += exc.events
    return events, raised, parser


def message_offsets(data: bytes) -> dict[int, int]:
    """SSE event index -> byte offset; the event count maps to the unterminated tail's."""
    framer = SSEFramer()
    messages = framer.feed(data)
    rest = framer.finish()
    offsets = {m.index: m.offset for m in messages}
    offsets[len(messages)] = rest.offset
    return offsets


def strict_loses_nothing(
    data: bytes, api: str, expected_errors: list[dict[str, Any]]
) -> tuple[list[Event], list[ToolCall]]:
    """Strict mode raises exactly the expected payload errors (provider errors stay events),
    each naming ``api``, the byte offset of its SSE event (or of the unterminated tail) and an
    excerpt; and raising loses nothing: the same events as lenient mode minus the raised
    errors, the same calls. Returns lenient mode's events and the calls."""
    lenient_events, lenient_calls = lenient(data, api)
    events, raised, parser = strict(data, api)
    wanted = [e for e in expected_errors if e["kind"] != "ProviderError"]
    assert [(type(e).__name__, e.event_index) for e in raised] == [
        (e["kind"], e["event_index"]) for e in wanted
    ]
    offsets = message_offsets(data)
    for error in raised:
        assert isinstance(error, PayloadError)
        assert error.api == api
        assert error.byte_offset == offsets[error.event_index], error
        assert error.excerpt
    kept = [
        e
        for e in lenient_events
        if not (isinstance(e, ErrorEvent) and isinstance(e.error, PayloadError))
    ]
    assert events == kept
    assert parser.calls == lenient_calls
    return lenient_events, parser.calls


def without_offsets(events: list[Event]) -> list[Event]:
    """Errors from feed_event carry byte_offset -1: the only allowed difference."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, ErrorEvent) and isinstance(event.error, PayloadError | ProviderError):
            error = copy.copy(event.error)
            error.byte_offset = -1
            event = ErrorEvent(event_index=event.event_index, error=error)
        out.append(event)
    return out


def whatwg(data: bytes) -> list[tuple[str, bytes, str, int | None]]:
    """The WHATWG event stream interpretation, as plainly as it reads (dispatched events only)."""
    if data.startswith(BOM):
        data = data[3:]
    lines = re.split(rb"\r\n|\r|\n", data)[:-1]  # the piece after the last line end is dropped
    out: list[tuple[str, bytes, str, int | None]] = []
    event, buffer, last_id, retry = b"", b"", "", None
    for line in lines:
        if not line:
            if buffer:
                kind = event.decode("utf-8", "replace") or "message"
                out.append((kind, buffer[:-1], last_id, retry))
            event, buffer = b"", b""
            continue
        if line.startswith(b":"):
            continue
        name, colon, value = line.partition(b":")
        if colon and value.startswith(b" "):
            value = value[1:]
        if name == b"event":
            event = value
        elif name == b"data":
            buffer += value + b"\n"
        elif name == b"id" and b"\0" not in value:
            last_id = value.decode("utf-8", "replace")
        elif name == b"retry" and value and all(48 <= b <= 57 for b in value):
            retry = int(value)
    return out
