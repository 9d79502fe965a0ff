"""Properties of the framer and the chat parser that must hold for any input.

1. Re-chunking: the same bytes give the same messages, events and calls whatever the chunking
   (whole, byte by byte, split in two at every offset, random cut lists).
2. The framer agrees with a plain WHATWG reference written here on generated streams.
3. Fuzz: any bytes, generated chunks and mutated recordings give events or raise only
   ``FcstreamError`` subclasses, in lenient and strict mode.
4. Prefixes: a stream cut at any offset then finished raises nothing outside the tree, returns
   calls whose arguments are prefixes of the full stream's, and never a ``CallDone`` whose
   structural signal was not inside the prefix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from fcstream import (
    ArgumentsDelta,
    CallDone,
    CallIncomplete,
    CallStarted,
    ErrorEvent,
    Event,
    FcstreamError,
    SSEFramer,
    SSEMessage,
    StreamDone,
    StreamParser,
    ToolCall,
)
from fcstream._runs import messages_of
from fcstream._sse import PayloadRun, Unterminated

from .conftest import CORPUS, FIXTURES
from .feed import BOM, byte_by_byte, feed_all, normalize, split_at, whatwg, without_offsets

QUIRK_FILES = sorted(
    p for p in (FIXTURES / "quirks").glob("*.sse") if p.name.startswith(("chat-", "sse-"))
)
CHAT_FILES = sorted(p for p in CORPUS.glob("*/*.sse") if "chat" in p.name)
# small recordings with calls, comments, n > 1, no index, a cut: all split at every offset
SMALL_CORPUS = [
    p
    for p in CHAT_FILES
    if p.name
    in {
        "openinference-chat-synchronous-stream-chat-completions-with-tool-ca-01.sse",
        "llm-chat-tools-stream-variant-b-01.sse",
        "chat-tool-call-finish-stop-01.sse",
        "chat-tool-call-strict-01.sse",
        "chat-length-truncated-02.sse",
        "pydantic-ai-chat-openrouter-stream-reasoning-01.sse",
    }
]
FUZZ_SEEDS = [p.read_bytes() for p in QUIRK_FILES] + [p.read_bytes() for p in SMALL_CORPUS]


def test_the_small_corpus_is_there() -> None:
    assert len(SMALL_CORPUS) == 6
    assert len(QUIRK_FILES) >= 40


# -- helpers ---------------------------------------------------------------------------------


def frame(chunks: list[bytes]) -> tuple[list[SSEMessage], Unterminated]:
    framer = SSEFramer()
    out: list[SSEMessage] = []
    for chunk in chunks:
        out.extend(framer.feed(chunk))
    return out, framer.finish()


def chunkings(data: bytes, cuts: list[int]) -> list[list[bytes]]:
    return [[data], byte_by_byte(data), split_at(data, cuts)]


def every_split(data: bytes) -> list[list[bytes]]:
    return [split_at(data, [i]) for i in range(len(data) + 1)]


def run_lenient(chunks: list[bytes], api: Any = "auto") -> tuple[list[Event], list[ToolCall]]:
    return feed_all(chunks, api=api, strict=False)


def run_strict(chunks: list[bytes], api: Any = "auto", **kwargs: Any) -> list[Event]:
    """Strict mode, going on after every error as a caller that logs and continues would."""
    parser = StreamParser(api, strict=True, **kwargs)
    events: list[Event] = []
    for chunk in [*chunks, b""]:
        while True:
            try:
                events += parser.feed(chunk)
                break
            except FcstreamError as exc:
                events += exc.events
                chunk = b""  # the rest of this chunk's messages wait in the parser
                if parser.sse._broken:
                    break
            except Exception as exc:  # pragma: no cover - the property
                pytest.fail(f"{type(exc).__name__} escaped from feed(): {exc!r}")
    try:
        events += parser.finish()
    except FcstreamError as exc:
        events += exc.events
    except Exception as exc:  # pragma: no cover - the property
        pytest.fail(f"{type(exc).__name__} escaped from finish(): {exc!r}")
    return events


def paired(text: str) -> str:
    """``text`` with UTF-16 surrogate halves joined: a character split across two deltas comes
    as one half in each, and whole in the call."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")


def replaced(events: list[Event], call: ToolCall) -> bool:
    """Whether a Responses ``.done`` or finished item reported that its text differs from
    the call's deltas: the call then carries that text, which deltas already sent cannot
    match (a lost delta, say)."""
    return call.api == "responses" and any(
        isinstance(e, ErrorEvent) and "differs" in e.error.message
        and getattr(e.error, "index", None) in (None, call.index) for e in events)


def check_invariants(events: list[Event], calls: list[ToolCall]) -> None:
    """What any finished stream's events must satisfy, whatever the input."""
    assert len([e for e in events if isinstance(e, StreamDone)]) == 1
    for call in calls:
        key = (call.choice, call.index)
        ends = [
            e
            for e in events
            if isinstance(e, (CallDone, CallIncomplete)) and (e.call.choice, e.call.index) == key
        ]
        assert len(ends) == 1, (call, ends)
        assert ends[0].call == call
        assert isinstance(ends[0], CallDone) is call.complete
        if call.complete:
            assert call.name is not None  # a nameless call is never handed over as finished
        started = [e for e in events if isinstance(e, CallStarted) and (e.choice, e.index) == key]
        assert len(started) == (0 if call.name is None else 1)
        deltas = [e for e in events if isinstance(e, ArgumentsDelta) and (e.choice, e.index) == key]
        if started:
            if not replaced(events, call):
                assert paired("".join(d.delta for d in deltas)) == call.arguments
            assert started[0].event_index <= ends[0].event_index
            position = events.index(ends[0])
            assert all(events.index(d) < position for d in deltas)
        else:
            assert deltas == []


# -- 1. re-chunking: deterministic, every offset ---------------------------------------------


@pytest.mark.parametrize("path", QUIRK_FILES + SMALL_CORPUS, ids=lambda p: p.name)
def test_every_split_gives_the_same_events_and_calls(path: Path) -> None:
    data = path.read_bytes()
    expected = run_lenient([data])
    check_invariants(*expected)
    assert run_lenient(byte_by_byte(data)) == expected
    for chunks in every_split(data):
        assert run_lenient(chunks) == expected, chunks
    assert frame(byte_by_byte(data)) == frame([data])


# -- 1. re-chunking: random cut lists ----------------------------------------------------------


cut_lists = st.lists(st.integers(min_value=0, max_value=200_000), max_size=40)


@given(
    path=st.sampled_from(CHAT_FILES + QUIRK_FILES),
    cuts=cut_lists,
    strict=st.booleans(),
)
def test_random_cuts_give_the_same_events_and_calls(
    path: Path, cuts: list[int], strict: bool
) -> None:
    data = path.read_bytes()
    cuts = [c % (len(data) + 1) for c in cuts]
    if strict:
        assert run_strict(split_at(data, cuts)) == run_strict([data])
    else:
        assert run_lenient(split_at(data, cuts)) == run_lenient([data])
    assert frame(split_at(data, cuts)) == frame([data])


# -- 1. re-chunking inside one read: big reads go through windows --------------------------------

ALL_STREAMS = sorted([*CORPUS.glob("*/*.sse"), *FIXTURES.rglob("*.sse")])


def one_read(data: bytes, window: int | None, api: Any, strict: bool
             ) -> tuple[list[Any], list[ToolCall]]:
    """``data`` in one ``feed`` (``window``: the parser's window size, ``None``: the default),
    going on after errors as ``run_strict`` does; every event and error, in order."""
    parser = StreamParser(api, strict=strict)
    if window is not None:
        parser._window = window
    seen: list[Any] = []
    chunk = data
    while True:
        try:
            seen += parser.feed(chunk)
        except FcstreamError as exc:
            seen += [*exc.events, (type(exc).__name__, str(exc))]
            chunk = b""  # the rest of the read waits in the parser
            if parser.sse._broken:
                break
        else:
            if not chunk:
                break
            chunk = b""  # once more, empty: nothing may be left waiting
    try:
        seen += parser.finish()
    except FcstreamError as exc:
        seen += [*exc.events, (type(exc).__name__, str(exc))]
    return seen, parser.calls


@settings(max_examples=300, deadline=None)
@given(
    path=st.sampled_from(ALL_STREAMS),
    window=st.integers(min_value=1, max_value=2_000),
    api=st.sampled_from(["auto", "chat", "responses"]),
    strict=st.booleans(),
)
def test_a_read_in_windows_gives_what_one_read_gives(
    path: Path, window: int, api: str, strict: bool
) -> None:
    """``feed`` frames and applies a big read a window at a time: the same events, errors
    (each carrying every event of the read before it) and calls as the read framed whole."""
    data = path.read_bytes()
    assume(len(data) > window)  # else one window: nothing to compare
    assert one_read(data, window, api, strict) == one_read(data, 1 << 40, api, strict)


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_big_reads_are_windowed_by_default_with_the_same_events(api: str) -> None:
    from fixtures.generate import chat_stream, responses_stream, synthetic_calls

    calls = synthetic_calls(3, 40_000)
    data = chat_stream(calls, fragment=8) if api == "chat" else responses_stream(calls, fragment=8)
    assert len(data) > 4 * StreamParser()._window  # windowed even for Responses
    windowed = one_read(data, None, "auto", True)
    assert windowed == one_read(data, 1 << 40, "auto", True)
    assert [c.arguments for c in windowed[1]] == [c.arguments for c in calls]


# -- generated streams -------------------------------------------------------------------------

plain = st.binary(max_size=12).map(lambda b: b.replace(b"\r", b"").replace(b"\n", b""))
field_line = st.one_of(
    plain.map(lambda v: b"data:" + v),
    plain.map(lambda v: b"data: " + v),
    st.just(b"data"),
    st.sampled_from([b"event: ping", b"event:", b"event: message", b"event"]),
    plain.map(lambda v: b"event: " + v),
    plain.map(lambda v: b"id: " + v),
    st.sampled_from([b"id", b"id:", b"id: \x001", b"id: 42"]),
    st.sampled_from([b"retry: 100", b"retry: 1a", b"retry:", b"retry: 007", b"retry:  5"]),
    plain.map(lambda v: b":" + v),
    plain.map(lambda v: b"x-unknown: " + v),
    st.just(b""),
    st.just(BOM + b"data: second bom"),
)
eols = st.sampled_from([b"\n", b"\r\n", b"\r"])
sse_streams = st.builds(
    lambda bom, lines, tail: (BOM if bom else b"") + b"".join(a + b for a, b in lines) + tail,
    st.booleans(),
    st.lists(st.tuples(field_line, eols), max_size=25),
    st.one_of(st.just(b""), plain),
)


@given(data=sse_streams, cuts=cut_lists)
@example(data=b"data: a\r\n\r\n", cuts=[8])
@example(data=b"data: a\r\rdata: b\r\n\r\n", cuts=[8, 9])
@example(data=BOM + b"data: a\n\n", cuts=[1, 2])
def test_framer_matches_the_whatwg_reference(data: bytes, cuts: list[int]) -> None:
    expected = [(m.event, m.data, m.id, m.retry) for m in frame([data])[0]]
    assert expected == whatwg(data)
    whole = frame([data])
    for chunks in chunkings(data, [c % (len(data) + 1) for c in cuts]):
        assert frame(chunks) == whole
    if len(data) <= 200:
        for chunks in every_split(data):
            assert frame(chunks) == whole
    messages, rest = whole
    assert [m.index for m in messages] == list(range(len(messages)))
    assert all(0 <= m.offset < len(data) for m in messages)
    assert data.endswith(rest.data)


ALL_RECORDED = sorted(FIXTURES.rglob("*.sse")) + sorted(CORPUS.glob("*/*.sse"))


def event_reads(data: bytes) -> list[bytes]:
    """``data`` cut after every blank line (any line end): one event per read, as a live
    stream arrives."""
    cuts = [m.end() for m in re.finditer(rb"(\r\n|\r|\n)(\r\n|\r|\n)", data)]
    return split_at(data, cuts)


@pytest.mark.parametrize("path", ALL_RECORDED, ids=lambda p: p.name)
def test_one_event_per_read_gives_what_the_whole_stream_gives(path: Path) -> None:
    """The framer takes a read of exactly one block in one step; every recording read that
    way frames, and parses, as when fed whole."""
    data = path.read_bytes()
    reads = event_reads(data)
    assert frame(reads) == frame([data])
    assert feed_all(reads) == feed_all([data])


block_shapes = st.sampled_from([
    b"data: {}\n\n",
    b"event: response.x\ndata: {}\n\n",
    b": keep-alive\n\n",
    b"id: 7\ndata: {}\n\n",
    b"data: a\ndata: b\n\n",
    b"event: e\ndata: {}\nid: 8\n\n",
    b"\n",
    b"data:{}\n\n",  # S04: no space after the colon
    b"event: response.x\ndata:{}\n\n",
    b"data:  {}\n\n",  # two spaces: the value keeps one
    b"id: 9\ndata: {}\n\n",  # S03: gateways that number their events
    b"id: \ndata: {}\n\n",  # an empty id resets the last id
    b"id: \xc3\xa9\xff\ndata: {}\n\n",  # not ASCII, not UTF-8: offsets count bytes
    b"id: 1\x002\ndata: {}\n\n",  # NUL: the id is ignored
    b"id: 5\ndata:{}\n\n",
    b"data: {}\nevent: response.x\n\n",  # the field line after the data (some recorders)
    b"data:{}\nevent: response.x\n\n",
    b"data: {}\nid: 6\n\n",
    b"data: {}\nid: 1\x002\n\n",
    b"data: {}\nevent: e\ndata: x\n\n",  # not one data line: the line loop's
])


@given(blocks=st.lists(block_shapes, min_size=1, max_size=60), cuts=cut_lists)
def test_reads_mixing_block_shapes_match_the_reference(blocks: list[bytes], cuts: list[int]
                                                       ) -> None:
    """Reads where plain runs, named runs and blocks the fast split cannot take alternate,
    more often than the framer goes back to the split in one read."""
    data = b"".join(blocks)
    whole = frame([data])
    assert [(m.event, m.data, m.id, m.retry) for m in whole[0]] == whatwg(data)
    assert frame(split_at(data, [c % (len(data) + 1) for c in cuts])) == whole
    assert frame(byte_by_byte(data)) == whole


@settings(max_examples=40, deadline=None)
@given(
    before=st.lists(block_shapes, max_size=4),
    head=st.sampled_from([b"", b"event: big\n", b"id: 7\n", b": c\n", b"retry: 5\n",
                          b"event: " + b"n" * 70_000 + b"\n"]),
    space=st.sampled_from([b"", b" "]),
    size=st.sampled_from([0, 1, 66_000, 70_000]),
    after=st.lists(block_shapes, max_size=4),
    read=st.sampled_from([997, 4096, 30_000]),
    cuts=st.lists(st.integers(0, 150_000), max_size=10),
)
def test_the_parsers_framer_lends_big_payloads_by_the_rules(
    before: list[bytes], head: bytes, space: bytes, size: int, after: list[bytes], read: int,
    cuts: list[int]
) -> None:
    """``feed_items`` (the parser's way in) on reads that leave a block of more than 64 KB
    open: its payload, handed over as the framer's own buffer, and every event around it are
    what the rules say, and what ``feed`` gives."""
    big = head + b"data:" + space + b"x" * size + b"\n\n"
    data = b"".join(before) + big + b"".join(after)
    reads = split_at(data, [*range(0, len(data), read), *(c % (len(data) + 1) for c in cuts)])
    framer = SSEFramer()
    messages = [m for chunk in reads for item in framer.feed_items(chunk)
                for m in (messages_of(item) if isinstance(item, PayloadRun) else [item])]
    assert (messages, framer.finish()) == frame(reads)
    assert [(m.event, bytes(m.data), m.id, m.retry) for m in messages] == whatwg(data)


def capped(chunks: list[bytes], cap: int) -> tuple[list[SSEMessage], bool]:
    """The messages a framer with ``max_event_bytes=cap`` delivers for ``chunks``, and whether
    it raised (then what it had completed in that read counts as delivered too)."""
    framer = SSEFramer(max_event_bytes=cap)
    out: list[SSEMessage] = []
    try:
        for chunk in chunks:
            out.extend(framer.feed(chunk))
    except FcstreamError as exc:
        return out + list(exc.events), True
    return out, False


capped_blocks = st.sampled_from([
    b"data: " + b"x" * 30 + b"\n\n",
    b"data:" + b"y" * 31 + b"\n\n",
    b"event: e\ndata: " + b"z" * 29 + b"\n\n",
    b"data: " + b"a" * 14 + b"\ndata: " + b"b" * 15 + b"\n\n",  # 30 bytes of data, joined
    b": " + b"c" * 34 + b"\n\n",  # a long comment
    b"event: " + b"n" * 30 + b"\ndata: {}\n\n",  # a long event line
    b"id: " + b"i" * 33 + b"\ndata: {}\n\n",
    b"data: {}\n\n",
])


@given(blocks=st.lists(capped_blocks, min_size=1, max_size=6), cap=st.integers(26, 40),
       eol=st.sampled_from([b"\n", b"\r\n"]), cuts=cut_lists)
def test_the_event_cap_does_not_depend_on_the_chunking(blocks: list[bytes], cap: int,
                                                       eol: bytes, cuts: list[int]) -> None:
    """An event's data over ``max_event_bytes``, or a line over the cap plus a ``data: ``
    prefix, raises however the bytes arrive; anything under it passes however they arrive."""
    data = b"".join(blocks).replace(b"\n", eol)
    whole = capped([data], cap)
    assert capped(byte_by_byte(data), cap) == whole
    assert capped(split_at(data, [c % (len(data) + 1) for c in cuts]), cap) == whole
    assert capped(event_reads(data), cap) == whole


odd_line_ends = st.sampled_from([
    b"data: x\n\n",  # an LF-only block in a CRLF stream
    b"data: a\rb\r\n\r\n",  # a lone CR inside a line: a line end
    b"event: a\rb\r\ndata: {}\r\n\r\n",
    b"event: a\rb\ndata: {}\r\n\r\n",  # as many CRs as LFs, but not in pairs
    b"data: {}\r\n\r",  # a block ended by a lone CR
    b"\r",
])


@given(
    blocks=st.lists(st.one_of(block_shapes.map(lambda b: (b, True)),
                              odd_line_ends.map(lambda b: (b, False))), min_size=1, max_size=40),
    eol=st.sampled_from([b"\n", b"\r\n"]),
    cuts=cut_lists,
)
@example(blocks=[(b"data: {}\n\n", True)] * 3, eol=b"\r\n", cuts=[11, 12, 13])
@example(blocks=[(b"event: response.x\ndata: {}\n\n", True)] * 3, eol=b"\r\n", cuts=[31])
@example(blocks=[(b"event: a\rb\ndata: {}\r\n\r\n", False)], eol=b"\r\n", cuts=[])
def test_streams_in_one_line_end_match_the_reference(
    blocks: list[tuple[bytes, bool]], eol: bytes, cuts: list[int]
) -> None:
    """Whole CRLF streams (some proxies, .NET, sse-starlette) go through the fast split too:
    with CRLFs cut across reads, and with lone CRs and LFs that it must leave to the line
    loop. Offsets are compared too: the split counts two bytes per line end."""
    data = b"".join(b.replace(b"\n", eol) if same else b for b, same in blocks)
    whole = frame([data])
    assert [(m.event, m.data, m.id, m.retry) for m in whole[0]] == whatwg(data)
    assert frame(split_at(data, [c % (len(data) + 1) for c in cuts])) == whole
    assert frame(byte_by_byte(data)) == whole


# chat chunks: a small vocabulary so fragments collide, calls interleave, choices finish
arguments = st.sampled_from(['{"a":', "1}", "", "{}", '"\u00e9"', "0"])
first_fragments = st.builds(
    lambda index, call_id, name, args: {
        "index": index,
        "id": call_id,
        "type": "function",
        "function": {"name": name, "arguments": args},
    },
    st.integers(0, 2),
    st.sampled_from(["a", "b", "c"]),
    st.sampled_from(["f", "g"]),
    arguments,
)
continuations = st.builds(
    lambda index, args: {"index": index, "function": {"arguments": args}},
    st.integers(0, 2),
    arguments,
)
odd_fragments = st.fixed_dictionaries(
    {},
    optional={
        "index": st.integers(0, 2),
        "id": st.sampled_from(["a", "b", "", "c"]),
        "type": st.sampled_from(["function", "custom"]),
        "function": st.fixed_dictionaries(
            {},
            optional={
                "name": st.sampled_from(["f", "g", ""]),
                "arguments": arguments,
            },
        ),
    },
)


def weighted(*options: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """Draw from one of ``options`` with the given weights (``one_of`` draws them evenly)."""
    pool = [strategy for weight, strategy in options for _ in range(weight)]
    return st.sampled_from(range(len(pool))).flatmap(lambda i: pool[i])


fragments = weighted((2, first_fragments), (4, continuations), (1, odd_fragments))
deltas = weighted(
    (3, st.lists(fragments, min_size=1, max_size=3).map(lambda f: {"tool_calls": f})),
    (
        1,
        st.fixed_dictionaries(
            {},
            optional={
                "role": st.sampled_from(["assistant", ""]),
                "content": st.one_of(st.none(), st.text(max_size=4)),
                "reasoning_content": st.text(max_size=3),
                "refusal": st.text(max_size=3),
                "tool_calls": st.one_of(st.none(), st.lists(fragments, max_size=2)),
            },
        ),
    ),
)
choices = st.fixed_dictionaries(
    {"index": st.sampled_from([0, 0, 0, 1]), "delta": weighted((9, deltas), (1, st.none()))},
    optional={
        "finish_reason": st.sampled_from(
            [None, None, None, "stop", "tool_calls", "length", "content_filter"]
        ),
    },
)
chunks_json = st.fixed_dictionaries(
    {
        "id": st.sampled_from(["chatcmpl-1", ""]),
        "choices": st.lists(choices, min_size=1, max_size=2),
    },
    optional={"usage": st.just({"total_tokens": 3})},
)
chunk_payloads = chunks_json.map(lambda c: json.dumps(c).encode())
rare_payloads = st.sampled_from(
    [
        b"[DONE]",
        b'{"error":{"message":"overloaded","type":"server_error"}}',
        b"not json",
        b'{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":'
        b'{"arguments":{"x":1}}}]}}]}',
    ]
)
payload = weighted((12, chunk_payloads), (1, rare_payloads))
block = st.tuples(
    st.sampled_from([b"", b": ping\n", b"event: message\n", b"id: 7\n"]),
    payload,
    eols,
    st.sampled_from([b"", b": keep-alive\n\n", b"event: ping\n\n"]),
)
endings = st.sampled_from(
    [
        b"",
        b"data: [DONE]\n\n",
        b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}\n\n'
        b"data: [DONE]\n\n",
    ]
)
chat_streams = st.builds(
    lambda bom, blocks, end, cut: (
        (BOM if bom else b"")
        + b"".join(pre + b"data: " + p + eol + eol + post for pre, p, eol, post in blocks)
        + end
    )[: None if cut is None else -cut],
    st.booleans(),
    st.lists(block, max_size=12),
    endings,
    weighted((2, st.none()), (1, st.integers(1, 30))),
)


@settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=chat_streams, cuts=cut_lists)
def test_generated_chat_streams_rechunk_and_keep_the_invariants(
    data: bytes, cuts: list[int]
) -> None:
    expected = run_lenient([data], api="chat")
    check_invariants(*expected)
    cuts = [c % (len(data) + 1) for c in cuts]
    for chunks in chunkings(data, cuts):
        assert run_lenient(chunks, api="chat") == expected
    if len(data) <= 600:
        for chunks in every_split(data):
            assert run_lenient(chunks, api="chat") == expected
    strict_events = run_strict(split_at(data, cuts), api="chat")
    assert strict_events == run_strict([data], api="chat")


# -- 3. fuzz -----------------------------------------------------------------------------------


@given(data=st.binary(max_size=3000), cuts=cut_lists, api=st.sampled_from(["auto", "chat"]))
def test_any_bytes_give_events_or_typed_errors(data: bytes, cuts: list[int], api: str) -> None:
    events, calls = run_lenient(split_at(data, cuts), api=api)
    check_invariants(events, calls)
    run_strict(split_at(data, cuts), api=api)
    run_strict([data], api=api, max_event_bytes=64)


mutations = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=1 << 20),
        st.sampled_from(["set", "delete", "insert", "repeat", "cut"]),
        st.binary(min_size=1, max_size=6),
    ),
    min_size=1,
    max_size=8,
)


def mutate(data: bytes, edits: list[tuple[int, str, bytes]]) -> bytes:
    buf = bytearray(data)
    for position, kind, value in edits:
        at = position % (len(buf) + 1)
        if kind == "set" and at < len(buf):
            buf[at] = value[0]
        elif kind == "delete":
            del buf[at : at + len(value)]
        elif kind == "insert":
            buf[at:at] = value
        elif kind == "repeat":
            buf[at:at] = buf[at : at + 40 * len(value)]
        elif kind == "cut":
            del buf[at:]
    return bytes(buf)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(FUZZ_SEEDS),
    edits=mutations,
    cuts=cut_lists,
    strict=st.booleans(),
)
def test_mutated_recordings_give_events_or_typed_errors(
    seed: bytes, edits: list[tuple[int, str, bytes]], cuts: list[int], strict: bool
) -> None:
    data = mutate(seed, edits)
    assume(data != seed)
    if strict:
        run_strict(split_at(data, cuts), api="chat")
    else:
        try:
            events, calls = run_lenient(split_at(data, cuts), api="chat")
        except FcstreamError:  # lenient mode may still refuse unframeable input
            return
        check_invariants(events, calls)


RESPONSES_SEEDS = [p.read_bytes() for p in sorted((FIXTURES / "quirks").glob("responses-*.sse"))]
PROVIDER_SEEDS = [p.read_bytes() for p in sorted((FIXTURES / "providers").glob("*.sse"))]
READ_KEYS = ("index", "id", "name", "arguments", "content", "finish_reason", "tool_calls",
             "object", "model", "output_index", "item_id", "call_id", "sequence_number", "type",
             "delta", "status", "item", "usage", "error")
ODD_VALUES = st.sampled_from([None, 0, 1, -1, 2.5, "", "x", [], {}, {"a": 1}, [1], True])
json_edits = st.lists(
    st.tuples(st.integers(0, 1 << 16), st.sampled_from(READ_KEYS), st.booleans(), ODD_VALUES),
    min_size=1, max_size=4,
)


def edit_payloads(data: bytes, edits: list[tuple[int, str, bool, Any]]) -> bytes:
    """Each edit picks a JSON payload and a key fcstream reads anywhere in it, then drops
    the key or gives it an odd value; the blocks are written back LF-framed."""
    blocks = [b for b in data.replace(b"\r\n", b"\n").split(b"\n\n") if b.strip()]
    for pick, key, drop, value in edits:
        at = pick % len(blocks)
        head, sep, payload = blocks[at].rpartition(b"data:")
        try:
            obj = json.loads(payload)
        except ValueError:
            continue
        spots: list[dict[str, Any]] = []
        todo = [obj]
        while todo:
            node = todo.pop()
            if isinstance(node, dict):
                if key in node:
                    spots.append(node)
                todo.extend(node.values())
            elif isinstance(node, list):
                todo.extend(node)
        if not spots:
            continue
        spot = spots[pick % len(spots)]
        if drop:
            del spot[key]
        else:
            spot[key] = value
        blocks[at] = head + sep + b" " + json.dumps(obj).encode()
    return b"".join(block + b"\n\n" for block in blocks)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(FUZZ_SEEDS) | st.sampled_from(RESPONSES_SEEDS)
       | st.sampled_from(PROVIDER_SEEDS), edits=json_edits, cuts=cut_lists)
@example(  # two calls in one chunk, no index, the second without its id: deltas sliced apart
    seed=next(s for s in PROVIDER_SEEDS if b"magistral" in s), edits=[(130, "id", False, None)],
    cuts=[])
def test_payloads_with_odd_fields_read_the_same_however_they_arrive(
    seed: bytes, edits: list[tuple[int, str, bool, Any]], cuts: list[int]
) -> None:
    """A field fcstream reads, dropped or given an odd type, means the same whether its
    payload comes in a run (the hot loops), one event per read, cut anywhere, or as a framed
    message through ``feed_event`` (the full path). Two bugs this found: a first chunk's
    metadata and a Responses delta's odd ``item_id`` each read differently on two paths."""
    data = edit_payloads(seed, edits)
    whole = run_lenient([data])
    check_invariants(*whole)
    assert run_lenient(split_at(data, cuts)) == whole
    assert run_lenient([b + b"\n\n" for b in data.split(b"\n\n")[:-1]]) == whole
    parser = StreamParser(strict=False)
    framed = [e for m in SSEFramer().feed(data) for e in parser.feed_event(m.event, m.data)]
    assert without_offsets(normalize(framed + parser.finish())) == without_offsets(whole[0])
    assert parser.calls == whole[1]
    given = StreamParser(parser.api or "auto", strict=False)  # auto decided as given would
    assert by_kind(normalize(given.feed(data) + given.finish())) == by_kind(whole[0])
    assert given.calls == whole[1]


def by_kind(events: list[Event]) -> list[Any]:
    """Events with each error as its kind and place: before ``auto`` decides, a bad payload
    is described by the probe's decode, not the API's."""
    return [(type(e.error), e.event_index) if isinstance(e, ErrorEvent) else e for e in events]


framings = st.sampled_from([
    lambda d: d,
    lambda d: d.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
    lambda d: d.replace(b"data: ", b"data:"),
    lambda d: d.replace(b"\n\ndata", b"\n\nid: 4\ndata"),
    lambda d: d.replace(b"\n\ndata", b"\n\nevent: message\ndata"),
])
line_end_edits = st.lists(
    st.tuples(st.integers(min_value=0, max_value=1 << 20),
              st.sampled_from(["insert"]), st.sampled_from([b"\r", b"\n", b"\r\n", b" "])),
    max_size=4,
)


@pytest.mark.parametrize("size", [1000, 300_000])  # below and above the split's join check
@pytest.mark.parametrize("eol", [b"\n", b"\r\n"])
@pytest.mark.parametrize("stray", [b"\n", b"\r", b"\r\n", b"\ndata: more", b""])
@pytest.mark.parametrize("field", [b"", b"event: e"])
def test_a_read_with_a_stray_line_end_inside_a_payload_frames_as_the_reference(
    size: int, eol: bytes, stray: bytes, field: bytes
) -> None:
    """The split assumes one line per payload; a line end inside one (a second field line, a
    lone CR) must send the read to the line loop, in small reads and in big ones."""
    head = field + eol if field else b""
    block = head + b"data: " + b"x" * 90 + eol + eol
    blocks = [block] * (size // len(block))
    blocks[len(blocks) // 2] = head + b"data: a" + stray + b"b" + eol + eol
    data = b"".join(blocks)
    for read in (data, bytearray(data)):  # a bytearray is read by the line loop's own split
        events, rest = frame([read])  # type: ignore[list-item]
        assert [(m.event, m.data, m.id, m.retry) for m in events] == whatwg(data)
        assert not rest.truncated


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(FUZZ_SEEDS), framing=framings, edits=line_end_edits, cuts=cut_lists)
def test_reframed_and_mutated_recordings_frame_as_the_reference(
    seed: bytes, framing: Any, edits: list[tuple[int, str, bytes]], cuts: list[int]
) -> None:
    """Real payloads in every framing the fast split takes, with stray line ends and spaces
    dropped in: the same frames as the WHATWG reference, for any chunking."""
    data = mutate(framing(seed), edits) if edits else framing(seed)
    whole = frame([data])
    assert [(m.event, m.data, m.id, m.retry) for m in whole[0]] == whatwg(data)
    assert frame(split_at(data, [c % (len(data) + 1) for c in cuts])) == whole


# -- 4. prefixes ---------------------------------------------------------------------------------


def check_prefixes(data: bytes, offsets: list[int]) -> None:
    """Cut at each offset, finish: calls are prefixes; CallDone only after its signal."""
    full_events, full_calls = run_lenient([data], api="chat")
    by_key = {(c.choice, c.index): c for c in full_calls}
    signal = {
        (e.call.choice, e.call.index): e.event_index for e in full_events if isinstance(e, CallDone)
    }
    for cut in offsets:
        parser = StreamParser("chat", strict=False)
        try:
            events = parser.feed(data[:cut])
            seen = parser.events_seen
            events += parser.finish()
        except FcstreamError:
            continue
        check_invariants(events, parser.calls)
        for call in parser.calls:
            key = (call.choice, call.index)
            full = by_key[key]
            assert full.arguments.startswith(call.arguments), (cut, call, full)
            finished_here = key in signal and signal[key] < seen
            assert call.complete is finished_here, (cut, call)
            if finished_here:
                assert call == full


@pytest.mark.parametrize("path", QUIRK_FILES + SMALL_CORPUS[:3], ids=lambda p: p.name)
def test_every_prefix_then_finish(path: Path) -> None:
    data = path.read_bytes()
    check_prefixes(data, list(range(len(data) + 1)))


@given(data=chat_streams)
def test_every_prefix_of_generated_streams(data: bytes) -> None:
    step = max(1, len(data) // 150)
    check_prefixes(data, list(range(0, len(data) + 1, step)))

