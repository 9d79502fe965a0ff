"""The benchmark's other framings of the corpus (``benchmarks/_shapes.py``) carry the same
events and calls as the recordings: what the shapes table compares is only the framing."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from benchmarks._shapes import SHAPES, reshape
from benchmarks._workloads import Api, corpus
from fcstream import ErrorEvent, StreamDone, StreamParser

from .feed import normalize


def meaning(data: bytes) -> tuple[list[Any], list[Any]]:
    """Events and calls; errors and the leftover bytes name framing-dependent byte offsets
    and excerpts, so an error counts by its kind and event, the leftover by being there."""
    parser = StreamParser(strict=False)
    events: list[Any] = []
    for event in normalize(parser.feed(data) + parser.finish()):
        if isinstance(event, ErrorEvent):
            events.append((event.event_index, type(event.error).__name__))
        elif isinstance(event, StreamDone):
            events.append(msgspec.structs.replace(event, leftover=bool(event.leftover)))
        else:
            events.append(event)
    return events, parser.calls


PAIRS = [(api, shape) for shape, (_, apis) in SHAPES.items() for api in apis]


@pytest.mark.parametrize(("api", "shape"), PAIRS)
def test_every_shape_keeps_the_events_and_calls(api: Api, shape: str) -> None:
    base = corpus(api)
    assert len(base.streams) >= 10
    for recorded, framed in zip(base.streams, reshape(base, shape).streams, strict=True):
        assert framed.events == recorded.events, recorded.name
        assert meaning(framed.data) == meaning(recorded.data), recorded.name
