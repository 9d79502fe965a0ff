"""Every Chat (C01..C24, F1, F3) and SSE (S01..S09) quirk fixture against its hand-written
sidecar, in lenient and strict mode.

S08 (HTTP 200 with a JSON error body, an HTML error page from a proxy) is an HTTP-level quirk:
it is tested with the adapters, not here. Fixtures are written by fixtures/make_quirks.py; the
first test checks the committed files still match it.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest

from fcstream import (
    ArgumentsDelta,
    ArgumentsError,
    CallDone,
    CallIncomplete,
    CallStarted,
    ErrorEvent,
    Event,
    OtherEvent,
    StreamDone,
    StreamStarted,
    ToolCall,
    Usage,
)
from fcstream._result import Collector

from .conftest import FIXTURES
from .feed import lenient, load_fixture, strict_loses_nothing

QUIRKS = FIXTURES / "quirks"
PATHS = sorted(QUIRKS.glob("chat-*.sse")) + sorted(QUIRKS.glob("sse-*.sse"))


def ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_fixtures_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("make_quirks", FIXTURES / "make_quirks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build()
    on_disk = {p.name.removesuffix(".sse") for p in PATHS}
    assert on_disk == set(built)
    for name, (data, sidecar) in built.items():
        assert (QUIRKS / f"{name}.sse").read_bytes() == data, name
        assert (QUIRKS / f"{name}.expected.json").read_text(encoding="utf-8") == sidecar, name


def test_every_quirk_has_a_fixture() -> None:
    quirks = {load_fixture(p)[1]["quirk"] for p in PATHS}
    wanted = {f"C{n:02d}" for n in range(1, 25)} | {f"S{n:02d}" for n in range(1, 10)}
    wanted |= {"F1", "F3"}
    assert wanted - {"S08"} <= quirks  # S08 is HTTP-level: the adapters' tests


@pytest.mark.parametrize("path", PATHS, ids=ids(PATHS))
def test_lenient(path: Path) -> None:
    data, expected = load_fixture(path)
    events, calls = lenient(data, expected["api"])
    check(events, calls, expected)
    assert lenient(data, "auto") == (events, calls)  # detection picks chat for all of these


@pytest.mark.parametrize("path", PATHS, ids=ids(PATHS))
def test_strict(path: Path) -> None:
    data, expected = load_fixture(path)
    assert expected["api"] == "chat"
    events, calls = strict_loses_nothing(data, "chat", expected["errors"])
    check(events, calls, expected)


def check(events: list[Event], calls: list[ToolCall], expected: dict[str, Any]) -> None:
    check_calls(events, calls, expected["calls"])
    check_stream(events, expected)
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert [(type(e.error).__name__, e.event_index) for e in errors] == [
        (e["kind"], e["event_index"]) for e in expected["errors"]
    ]
    for event in errors:
        assert getattr(event.error, "event_index", event.event_index) == event.event_index


def check_calls(events: list[Event], calls: list[ToolCall], wanted: list[dict[str, Any]]) -> None:
    got = [
        {
            "call_id": c.call_id,
            "name": c.name,
            "arguments": c.arguments,
            "index": c.index,
            "choice": c.choice,
            "type": c.type,
            "complete": c.complete,
            "extra": c.extra,
        }
        for c in calls
    ]
    fields = ("call_id", "name", "arguments", "index", "choice", "type", "complete", "extra")
    assert got == [{k: w[k] for k in fields} for w in wanted]
    for call, want in zip(calls, wanted, strict=True):
        key = (call.choice, call.index)
        ends = [
            e
            for e in events
            if isinstance(e, (CallDone, CallIncomplete)) and (e.call.choice, e.call.index) == key
        ]
        assert len(ends) == 1, ends  # exactly one end per call, never both
        end = ends[0]
        assert end.call == call
        if want["complete"]:
            assert isinstance(end, CallDone)
            assert end.event_index == want["final_event"]
        else:
            assert isinstance(end, CallIncomplete)
            assert want["final_event"] is None
            assert (end.event_index, end.reason) == (
                want["incomplete"]["event_index"],
                want["incomplete"]["reason"],
            )
        started = [e for e in events if isinstance(e, CallStarted) and (e.choice, e.index) == key]
        deltas = "".join(
            e.delta for e in events if isinstance(e, ArgumentsDelta) and (e.choice, e.index) == key
        )
        if call.name is None:
            assert started == []
            assert deltas == ""
        else:
            assert len(started) == 1
            assert (started[0].call_id, started[0].name) == (call.call_id, call.name)
            assert started[0].event_index <= end.event_index
            assert deltas == call.arguments
        check_decoding(call, want)


def check_decoding(call: ToolCall, want: dict[str, Any]) -> None:
    values = want.get("values")
    if values is not None:
        assert call.values() == values
        if len(values) > 1:
            with pytest.raises(ArgumentsError) as info:
                call.json()
            assert info.value.values_found == len(values)
            assert info.value.call_id == call.call_id
    elif call.complete and not call.arguments.strip():
        assert call.json() == {}  # C11: no arguments means no parameters


def check_stream(events: list[Event], expected: dict[str, Any]) -> None:
    done = [e for e in events if isinstance(e, StreamDone)]
    assert len(done) == 1
    want = expected["stream"]
    assert done[0].event_index == want["event_index"]
    assert done[0].status == want["status"]
    assert done[0].complete is want["complete"]
    assert done[0].finish_reasons == {int(k): v for k, v in want["finish_reasons"].items()}
    assert done[0].leftover == want["leftover"].encode()

    collector = Collector()
    for event in events:
        collector.add(event)
    result = collector.result()
    for key in ("texts", "reasoning", "refusals"):
        assert getattr(result, key) == {int(k): v for k, v in expected.get(key, {}).items()}
    if "usage" in expected:
        assert result.usage == expected["usage"]
    usage_events = [e for e in events if isinstance(e, Usage)]
    assert len(usage_events) == expected.get("usage_events", 0)
    if "other_events" in expected:
        assert len([e for e in events if isinstance(e, OtherEvent)]) == expected["other_events"]
    if "started" in expected:
        started = [e for e in events if isinstance(e, StreamStarted)]
        assert len(started) == 1
        want_started = expected["started"]
        assert (started[0].event_index, started[0].response_id, started[0].model) == (
            want_started["event_index"],
            want_started["response_id"],
            want_started["model"],
        )
