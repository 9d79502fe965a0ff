"""Test helpers: feed the same bytes in different ways and compare what comes out by meaning."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import fcstream
from fcstream import ArgumentsDelta, Event, PayloadError, StreamParser, ToolCall


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
