"""Shared pieces of the client tests: recordings served by the real loopback ReplayServer, and
the ground truth each adapter must reproduce (the same bytes fed straight to the parser)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import fcstream
from fcstream import CallIncomplete, Event, StreamDone, ToolCall

from .feed import normalize

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
STREAMS = REPO / "fixtures" / "streams"

CHAT_PARALLEL = CORPUS / "openai-python" / "chat-parallel-tool-calls-01.sse"
CHAT_SINGLE = CORPUS / "openai-python" / "chat-tool-call-single-01.sse"
CHAT_TEXT = CORPUS / "openai-python" / "chat-text-01.sse"
RESPONSES_CORPUS = CORPUS / "mirascope" / "mirascope-responses-call-with-tools-gpt4o-async-03.sse"
RESPONSES_PARALLEL = STREAMS / "responses-parallel-3.sse"
RESPONSES_SINGLE = STREAMS / "responses-single.sse"
SMALL_CHAT = STREAMS / "chat-single.sse"

ALL_FILES = [
    CHAT_PARALLEL,
    CHAT_SINGLE,
    CHAT_TEXT,
    RESPONSES_CORPUS,
    RESPONSES_PARALLEL,
    RESPONSES_SINGLE,
    SMALL_CHAT,
]

TIMEOUT = 10.0
"""Client timeout in every test: a bug shows up as a failure, never as a hung suite."""


def truth(path: Path) -> list[Event]:
    """The events of ``path``'s bytes fed to the parser whole, normalized."""
    return normalize(fcstream.iter_events(path.read_bytes()))


def without_leftover(events: Iterable[Event]) -> list[Event]:
    """Events with ``StreamDone.leftover`` cleared: httpx-sse drops an unterminated tail."""
    out: list[Event] = []
    for event in events:
        if isinstance(event, StreamDone):
            event = StreamDone(
                event_index=event.event_index,
                complete=event.complete,
                status=event.status,
                finish_reasons=event.finish_reasons,
            )
        out.append(event)
    return out


def assert_dropped(events: list[Event], calls: list[ToolCall], path: Path) -> None:
    """What a connection dropped mid-event must leave: every call so far, each a prefix of the
    full recording's call, open ones incomplete (never done), and an incomplete StreamDone."""
    full = fcstream.collect(path.read_bytes()).calls
    assert calls, "the drop point should come after the first call started"
    for got, want in zip(calls, full, strict=False):
        assert (got.call_id, got.name) == (want.call_id, want.name)
        assert want.arguments.startswith(got.arguments)
    assert any(isinstance(e, CallIncomplete) and e.reason == "truncated" for e in events)
    done = events[-1]
    assert isinstance(done, StreamDone)
    assert not done.complete
    assert done.status == "truncated"
