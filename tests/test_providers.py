"""Realistic streams from OpenAI-compatible servers that are not in the shared corpus
(fixtures/providers, written by fixtures/make_providers.py), each against its hand-written
sidecar: lenient and strict, whole, byte by byte and at random cuts, through ``collect()``, and
with a conservation check that every argument fragment and text delta the stream sent ends up
somewhere.

Known bugs and gaps are listed in ``KNOWN``: their sidecar tests are ``xfail(strict=True)`` so
the suite stays green until fcstream is fixed, and turns red (XPASS) the moment it is, so the
mark gets removed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import random
from collections.abc import AsyncIterator, Callable
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
    PayloadError,
    ProtocolError,
    SSEFramer,
    StreamDone,
    StreamParser,
    StreamStarted,
    ToolCall,
    Usage,
    acollect,
    collect,
    iter_calls,
)
from fcstream._result import Collector

from .conftest import FIXTURES
from .feed import (
    byte_by_byte,
    feed_all,
    lenient,
    load_fixture,
    split_at,
    strict_loses_nothing,
)

PROVIDERS = FIXTURES / "providers"
PATHS = sorted(PROVIDERS.glob("*.sse"))

KNOWN: dict[str, str] = {}
"""Fixture name -> why its sidecar checks fail today."""


def _params(paths: list[Path], known: dict[str, str]) -> list[Any]:
    out = []
    for path in paths:
        name = path.name.removesuffix(".sse")
        marks = [pytest.mark.xfail(strict=True, reason=known[name])] if name in known else []
        out.append(pytest.param(path, id=name, marks=marks))
    return out


AUTO_ONLY: set[str] = set()
"""Known bugs of API detection only: with the API given explicitly (the strict test) they pass."""

CASES = _params(PATHS, KNOWN)
EXPLICIT_API = _params(PATHS, {k: v for k, v in KNOWN.items() if k not in AUTO_ONLY})
PLAIN = _params(PATHS, {})


def test_fixtures_match_their_generator() -> None:
    spec = importlib.util.spec_from_file_location("make_providers", FIXTURES / "make_providers.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    built = module.build()
    assert {p.name.removesuffix(".sse") for p in PATHS} == set(built)
    for name, (data, sidecar) in built.items():
        assert (PROVIDERS / f"{name}.sse").read_bytes() == data, name
        assert (PROVIDERS / f"{name}.expected.json").read_text(encoding="utf-8") == sidecar, name
    assert set(KNOWN) <= set(built)


# -- the sidecar checks -------------------------------------------------------------------------


@pytest.mark.parametrize("path", CASES)
def test_lenient(path: Path) -> None:
    data, expected = load_fixture(path)
    events, calls = lenient(data, expected["api"])
    check(events, calls, expected)
    assert lenient(data, "auto") == (events, calls)  # detection picks the right API


@pytest.mark.parametrize("path", EXPLICIT_API)
def test_strict(path: Path) -> None:
    data, expected = load_fixture(path)
    events, calls = strict_loses_nothing(data, expected["api"], expected["errors"])
    check(events, calls, expected)


@pytest.mark.parametrize("path", CASES)
def test_collect(path: Path) -> None:
    data, expected = load_fixture(path)
    result = collect(data, strict=False)
    assert result.api == expected["api"]
    assert [summary(c) for c in result.calls] == [want_summary(w) for w in expected["calls"]]
    done = expected["stream"]
    assert (result.status, result.complete) == (done["status"], done["complete"])
    assert result.finish_reasons == {int(k): v for k, v in done["finish_reasons"].items()}
    for key in ("texts", "reasoning", "refusals"):
        assert getattr(result, key) == {int(k): v for k, v in expected[key].items()}
    assert result.usage == expected.get("usage")
    assert [type(e).__name__ for e in result.errors] == [e["kind"] for e in expected["errors"]]
    finished = sorted((c.choice, c.index) for c in iter_calls(data, strict=False))
    assert finished == sorted((c["choice"], c["index"]) for c in expected["calls"] if c["complete"])
    if any(e["kind"] != "ProviderError" for e in expected["errors"]):
        with pytest.raises(PayloadError):
            collect(data)
    else:
        assert collect(data) == result


# -- invariants that hold for every stream, bugs or not -----------------------------------------


@pytest.mark.parametrize("path", PLAIN)
def test_rechunking_is_invisible(path: Path) -> None:
    data, expected = load_fixture(path)
    whole = feed_all([data], api=expected["api"])
    assert feed_all(byte_by_byte(data), api=expected["api"]) == whole
    rng = random.Random(path.name)
    for _ in range(12):
        cuts = [rng.randrange(len(data) + 1) for _ in range(rng.randrange(1, 24))]
        assert feed_all(split_at(data, cuts), api=expected["api"]) == whole, cuts


@pytest.mark.parametrize("path", PLAIN)
def test_acollect_over_chunks_matches_collect(path: Path) -> None:
    """The async route over an async byte iterator (random chunk sizes) agrees with collect()."""
    data, _ = load_fixture(path)
    rng = random.Random(path.name + "async")
    pieces = split_at(data, [rng.randrange(len(data) + 1) for _ in range(8)])

    async def chunks() -> AsyncIterator[bytes]:
        for piece in pieces:
            yield piece

    assert asyncio.run(acollect(chunks(), strict=False)) == collect(data, strict=False)


@pytest.mark.parametrize("path", PLAIN)
def test_framed_events_give_the_same_calls(path: Path) -> None:
    """The httpx-sse / SDK route (``feed_event``) reaches the same calls and end."""
    data, expected = load_fixture(path)
    events, calls = lenient(data, expected["api"])
    framer = SSEFramer()
    parser = StreamParser(expected["api"], strict=False)
    framed: list[Event] = []
    for message in framer.feed(data):
        framed += parser.feed_event(message.event, message.data)
    framed += parser.finish()
    assert parser.calls == calls
    ends = [
        (type(e).__name__, e.event_index)
        for e in events
        if isinstance(e, (CallDone, CallIncomplete))
    ]
    assert [
        (type(e).__name__, e.event_index)
        for e in framed
        if isinstance(e, (CallDone, CallIncomplete))
    ] == ends
    [done] = [e for e in events if isinstance(e, StreamDone)]
    [framed_done] = [e for e in framed if isinstance(e, StreamDone)]
    if not done.leftover:  # feed_event never sees unterminated bytes
        assert (framed_done.status, framed_done.complete) == (done.status, done.complete)


CONSERVATION_GAPS: dict[str, str] = {}
"""Fixture name -> why some of what it sent is dropped today."""


@pytest.mark.parametrize("path", _params(PATHS, CONSERVATION_GAPS))
def test_nothing_is_silently_dropped(path: Path) -> None:
    """Every argument fragment and text delta sent (outside rejected payloads) ends up in a
    call, the text, the reasoning, or an error's data, in order."""
    data, expected = load_fixture(path)
    events, calls = lenient(data, expected["api"])
    rejected = {e["event_index"] for e in expected["errors"] if e["kind"] == "PayloadError"}
    sent = (sent_chat if expected["api"] == "chat" else sent_responses)(data, rejected)
    result = fold(events)
    dropped = "".join(
        e.error.data
        for e in events
        if isinstance(e, ErrorEvent)
        and isinstance(e.error, ProtocolError)
        and e.error.index is not None
        and "fragment" in str(e.error)
    )
    for choice in sent["args"].keys() | {c.choice for c in calls}:
        got = "".join(
            c.arguments for c in sorted(calls, key=lambda c: c.index) if c.choice == choice
        )
        assert got + dropped == paired(sent["args"].get(choice, "")), choice
    for key in ("texts", "reasoning"):
        want = {k: paired(v) for k, v in sent[key].items() if v}
        assert getattr(result, key) == want, key


# -- helpers ------------------------------------------------------------------------------------


def fold(events: list[Event]) -> Any:
    collector = Collector()
    for event in events:
        collector.add(event)
    return collector.result()


def summary(call: ToolCall) -> dict[str, Any]:
    return {
        "call_id": call.call_id,
        "name": call.name,
        "arguments": call.arguments,
        "index": call.index,
        "choice": call.choice,
        "type": call.type,
        "complete": call.complete,
        "extra": call.extra,
        "item_id": call.item_id,
    }


def want_summary(want: dict[str, Any]) -> dict[str, Any]:
    return {
        k: want[k]
        for k in (
            "call_id",
            "name",
            "arguments",
            "index",
            "choice",
            "type",
            "complete",
            "extra",
            "item_id",
        )
    }


def check(events: list[Event], calls: list[ToolCall], expected: dict[str, Any]) -> None:
    assert [summary(c) for c in calls] == [want_summary(w) for w in expected["calls"]]
    for call, want in zip(calls, expected["calls"], strict=True):
        check_call_events(events, call, want)
    check_stream(events, expected)
    errors = [e for e in events if isinstance(e, ErrorEvent)]
    assert [(type(e.error).__name__, e.event_index) for e in errors] == [
        (e["kind"], e["event_index"]) for e in expected["errors"]
    ]
    for event in errors:
        assert getattr(event.error, "event_index", event.event_index) == event.event_index


def check_call_events(events: list[Event], call: ToolCall, want: dict[str, Any]) -> None:
    key = (call.choice, call.index)
    ends = [
        e
        for e in events
        if isinstance(e, (CallDone, CallIncomplete)) and (e.call.choice, e.call.index) == key
    ]
    assert len(ends) == 1, ends  # exactly one end per call
    [end] = ends
    assert end.call == call
    if want["complete"]:
        assert isinstance(end, CallDone)
        assert end.event_index == want["final_event"]
    else:
        assert isinstance(end, CallIncomplete)
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
    else:
        assert len(started) == 1
        assert started[0].name == call.name
        assert started[0].call_id in (None, call.call_id)  # an id may arrive after the name
        assert started[0].event_index <= end.event_index
        assert paired(deltas) == call.arguments  # surrogate halves may arrive apart
    values = want.get("values")
    if values is not None:
        assert call.values() == values
        if len(values) > 1:
            with pytest.raises(ArgumentsError) as info:
                call.json()
            assert info.value.values_found == len(values)
        else:
            assert call.json() == values[0]


def check_stream(events: list[Event], expected: dict[str, Any]) -> None:
    done = [e for e in events if isinstance(e, StreamDone)]
    assert len(done) == 1
    want = expected["stream"]
    assert (done[0].event_index, done[0].status, done[0].complete) == (
        want["event_index"],
        want["status"],
        want["complete"],
    )
    assert done[0].finish_reasons == {int(k): v for k, v in want["finish_reasons"].items()}
    assert done[0].leftover == want["leftover"].encode()
    assert events[-1] is done[0] or not any(
        isinstance(e, (CallDone, CallStarted, ArgumentsDelta))
        for e in events[events.index(done[0]) + 1 :]
    )
    result = fold(events)
    for key in ("texts", "reasoning", "refusals"):
        assert getattr(result, key) == {int(k): v for k, v in expected[key].items()}, key
    assert result.usage == expected.get("usage")
    assert len([e for e in events if isinstance(e, Usage)]) == expected["usage_events"]
    if "started" in expected:
        started = [e for e in events if isinstance(e, StreamStarted)]
        assert len(started) == 1
        want_started = expected["started"]
        assert (started[0].event_index, started[0].response_id, started[0].model) == (
            want_started["event_index"],
            want_started["response_id"],
            want_started["model"],
        )


# -- what the fixture itself sent, read independently of the accumulators ------------------------


def paired(text: str) -> str:
    """Surrogate halves that arrived in separate pieces, joined into the character they make."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16")


def _payloads(data: bytes, rejected: set[int]) -> list[tuple[str, Any]]:
    framer = SSEFramer()
    out = []
    for message in framer.feed(data):
        if message.index in rejected:
            continue
        text = message.data.decode()
        if text.strip() == "[DONE]":
            break
        try:
            out.append((message.event, json.loads(text)))
        except ValueError:
            continue  # keep-alives: empty or non-JSON data
    return out


def sent_chat(data: bytes, rejected: set[int]) -> dict[str, dict[int, str]]:
    sent: dict[str, dict[int, str]] = {"args": {}, "texts": {}, "reasoning": {}}

    def add(key: str, choice: int, piece: Any) -> None:
        if isinstance(piece, str) and piece:
            sent[key][choice] = sent[key].get(choice, "") + piece

    for _, chunk in _payloads(data, rejected):
        for choice in chunk.get("choices") or []:
            c = choice.get("index", 0)
            delta = choice.get("delta") or {}
            add("reasoning", c, delta.get("reasoning_content"))
            add("reasoning", c, delta.get("reasoning"))
            content = delta.get("content")
            if isinstance(content, list):
                for part in content:
                    if part.get("type") == "thinking":
                        for inner in part.get("thinking") or []:
                            add("reasoning", c, inner.get("text"))
                    elif part.get("type") == "reasoning":
                        for inner in part.get("summary") or []:
                            add("reasoning", c, inner.get("text"))
                    else:
                        add("texts", c, part.get("text"))
            else:
                add("texts", c, content)
            fragments = delta.get("tool_calls") or []
            if isinstance(fragments, dict):
                fragments = [fragments]
            legacy = delta.get("function_call")
            if legacy and not fragments:  # an echo of tool_calls is not a second call
                fragments = [*fragments, {"function": legacy}]
            for fragment in fragments:
                arguments = (fragment.get("function") or {}).get("arguments")
                if isinstance(arguments, dict):
                    arguments = json.dumps(arguments, separators=(", ", ": "))
                add("args", c, arguments)
    return sent


def sent_responses(data: bytes, rejected: set[int]) -> dict[str, dict[int, str]]:
    sent: dict[str, dict[int, str]] = {"args": {}, "texts": {}, "reasoning": {}}
    deltas: dict[int, str] = {}
    done: dict[int, str] = {}
    kinds: dict[str, Callable[[dict[str, Any]], None]] = {
        "response.function_call_arguments.delta": lambda e: deltas.__setitem__(
            e["output_index"], deltas.get(e["output_index"], "") + e["delta"]
        ),
        "response.function_call_arguments.done": lambda e: done.__setitem__(
            e["output_index"], e["arguments"]
        ),
        "response.output_text.delta": lambda e: sent["texts"].__setitem__(
            0, sent["texts"].get(0, "") + e["delta"]
        ),
        "response.reasoning_text.delta": lambda e: sent["reasoning"].__setitem__(
            0, sent["reasoning"].get(0, "") + e["delta"]
        ),
        "response.reasoning_summary_text.delta": lambda e: sent["reasoning"].__setitem__(
            0, sent["reasoning"].get(0, "") + e["delta"]
        ),
    }
    for _, event in _payloads(data, rejected):
        handler = kinds.get(event.get("type", ""))
        if handler is not None:
            handler(event)
    for output_index in sorted(deltas.keys() | done.keys()):
        text = deltas.get(output_index) or done.get(output_index, "")
        sent["args"][0] = sent["args"].get(0, "") + text
    return sent


# -- gaps outside the sidecar format ------------------------------------------------------------


def test_tgi_object_tool_calls_are_rebuilt() -> None:
    data, _ = load_fixture(PROVIDERS / "tgi-legacy-tool-calls-object.sse")
    _, calls = lenient(data, "chat")
    assert [(c.name, c.arguments) for c in calls] == [
        ("get_current_weather", '{"location":"Paris"}')
    ]
