"""Every recorded chat stream in ../shared/corpus against a deliberately plain reference.

The reference below shares no code with fcstream: it splits the body on blank lines, runs
``json.loads`` on each ``data:`` payload and accumulates calls the simple OpenAI way (one open
call per choice; a fragment with another ``index``, or without ``index`` but with a new ``id``
as Mistral sends them, starts the next call). It also says at which SSE event each call became
final by structure, so ``CallDone.event_index`` is checked against an independent count. Where
a recording's MANIFEST.md lists the assembled calls, they are checked too.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from fcstream import (
    CallDone,
    CallIncomplete,
    ErrorEvent,
    Event,
    StreamDone,
    StreamParser,
    collect,
)
from fcstream._result import Collector

from .conftest import CORPUS

FILES = sorted(p for p in CORPUS.glob("*/*.sse") if "chat" in p.name)
CUTS = {"length", "content_filter"}


@dataclass
class RefCall:
    call_id: str | None
    name: str | None
    arguments: str
    index: int
    choice: int
    key: Any
    final_event: int | None = None
    complete: bool = False


@dataclass
class Reference:
    events: int = 0
    calls: list[RefCall] = field(default_factory=list)
    texts: dict[int, str] = field(default_factory=dict)
    refusals: dict[int, str] = field(default_factory=dict)
    reasoning: dict[int, str] = field(default_factory=dict)
    finish_reasons: dict[int, str] = field(default_factory=dict)
    usage: dict[str, Any] | None = None
    done: bool = False


def payloads(body: bytes) -> list[str]:
    """The data of each dispatched SSE event (blocks with no data line are not events)."""
    assert b"\r" not in body  # true of every recording here
    assert body.endswith(b"\n\n")
    out = []
    for block in body.decode("utf-8").split("\n\n"):
        lines = [line for line in block.split("\n") if line.startswith("data:")]
        if lines:
            out.append("\n".join(line[5:].removeprefix(" ") for line in lines))
    return out


def reference(body: bytes) -> Reference:
    ref = Reference()
    open_call: dict[int, RefCall] = {}

    def end(c: int, at: int, complete: bool) -> None:
        call = open_call.pop(c, None)
        if call is not None:
            call.final_event, call.complete = at, complete

    for i, text in enumerate(payloads(body)):
        ref.events = i + 1
        if text == "[DONE]":
            for c in list(open_call):
                end(c, i, True)
            ref.done = True
            break
        chunk = json.loads(text)
        usage = chunk.get("usage")
        if not isinstance(usage, dict):
            usage = (chunk.get("x_groq") or {}).get("usage")
        if isinstance(usage, dict):
            ref.usage = usage
        for choice in chunk.get("choices") or []:
            c = choice["index"]
            delta = choice.get("delta") or {}
            for name, target in (("content", ref.texts), ("refusal", ref.refusals)):
                if delta.get(name):
                    target[c] = target.get(c, "") + delta[name]
            for name in ("reasoning_content", "reasoning"):
                if delta.get(name):
                    ref.reasoning[c] = ref.reasoning.get(c, "") + delta[name]
            for frag in delta.get("tool_calls") or []:
                current = open_call.get(c)
                key = frag["index"] if "index" in frag else frag.get("id") or None
                if current is None or (key is not None and key != current.key):
                    end(c, i, True)  # the next call's first fragment finishes this one
                    count = sum(1 for x in ref.calls if x.choice == c)
                    current = RefCall(None, None, "", count, c, key)
                    ref.calls.append(current)
                    open_call[c] = current
                function = frag.get("function") or {}
                current.call_id = current.call_id or frag.get("id") or None
                current.name = current.name or function.get("name") or None
                current.arguments += function.get("arguments") or ""
            reason = choice.get("finish_reason")
            if reason:
                ref.finish_reasons[c] = reason
                end(c, i, reason not in CUTS)
    for c in list(open_call):  # input ended: truncated
        end(c, ref.events, False)
    return ref


def manifest_calls(path: Path) -> list[tuple[str, str, str]]:
    """(id, name, arguments) of the calls a MANIFEST.md lists for ``path``, when it lists them
    in full (lines cut with an ellipsis are skipped)."""
    text = (path.parent / "MANIFEST.md").read_text(encoding="utf-8")
    start = text.find(f"### {path.name}")
    if start < 0:
        return []
    end = text.find("\n### ", start + 1)
    section = text[start : end if end > 0 else len(text)]
    found = []
    for m in re.finditer(
        r"^\s+- tool call index \d+: id `([^`]*)`, name `([^`]*)`, arguments `([^`]*)`",
        section,
        re.M,
    ):
        found.append((m[1], m[2], m[3]))
    for m in re.finditer(r"^\s+- `([^`]*)` (\S+): `([^`]*)`$", section, re.M):
        found.append((m[1], m[2], m[3]))
    return [f for f in found if not f[2].endswith("\u2026")]


def run(body: bytes) -> tuple[list[Event], StreamParser]:
    parser = StreamParser(strict=True)
    events = parser.feed(body)
    events += parser.finish()
    return events, parser


def test_the_corpus_has_chat_recordings() -> None:
    assert len(FILES) >= 60
    assert {p.parent.name for p in FILES} >= {"openai-python", "pydantic-ai", "openllmetry"}


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_recording(path: Path) -> None:
    body = path.read_bytes()
    ref = reference(body)
    events, parser = run(body)

    assert parser.api == "chat"
    assert [e for e in events if isinstance(e, ErrorEvent)] == []

    calls = parser.calls
    assert [(c.call_id, c.name, c.arguments, c.index, c.choice, c.complete) for c in calls] == [
        (r.call_id, r.name, r.arguments, r.index, r.choice, r.complete) for r in ref.calls
    ]
    for call, want in zip(calls, ref.calls, strict=True):
        assert call.api == "chat"
        ends = [
            e
            for e in events
            if isinstance(e, (CallDone, CallIncomplete))
            and (e.call.choice, e.call.index) == (call.choice, call.index)
        ]
        assert len(ends) == 1
        assert isinstance(ends[0], CallDone) is want.complete
        assert ends[0].event_index == want.final_event  # the structural signal's SSE event
        assert ends[0].call == call

    collector = Collector()
    for event in events:
        collector.add(event)
    result = collector.result(calls=calls)
    assert result.texts == ref.texts
    assert result.refusals == ref.refusals
    assert result.reasoning == ref.reasoning
    assert result.finish_reasons == ref.finish_reasons
    assert result.usage == ref.usage
    if ref.done:
        # without [DONE] the end-of-input events carry the event count, and StreamResult.events
        # (max event_index + 1) then counts one more than were dispatched: see the report
        assert result.events == ref.events

    done = [e for e in events if isinstance(e, StreamDone)]
    assert len(done) == 1
    if ref.done:
        assert (done[0].status, done[0].event_index) == ("done", ref.events - 1)
    else:  # e.g. Writer: every choice finished, no [DONE]
        assert done[0].status == "finished"
        assert done[0].event_index == ref.events
    cut = any(not c.complete for c in ref.calls)
    assert done[0].complete is not cut
    assert parser.finish_reasons == ref.finish_reasons

    listed = manifest_calls(path)
    if listed:
        assert listed == [(c.call_id, c.name, c.arguments) for c in calls]


@pytest.mark.parametrize(
    "name",
    [
        "chat-n3-content-and-refusal-01.sse",
        "openinference-chat-synchronous-stream-chat-completions-with-tool-ca-01.sse",
        "openllmetry-chat-writer-async-stream-chat-multiple-tool-call-requ-01.sse",
        "pydantic-ai-chat-groq-model-web-search-tool-stream-01.sse",
    ],
)
def test_collect_agrees_with_the_events(name: str) -> None:
    (path,) = [p for p in FILES if p.name == name]
    body = path.read_bytes()
    ref = reference(body)
    result = collect(body)
    assert result.api == "chat"
    assert [(c.call_id, c.arguments) for c in result.calls] == [
        (r.call_id, r.arguments) for r in ref.calls
    ]
    assert result.texts == ref.texts
    assert result.refusals == ref.refusals
    assert result.usage == ref.usage
    assert result.complete is True


def test_known_facts() -> None:
    """A few facts read off the recordings by eye, so the reference itself is checked."""
    by_name = {p.name: p for p in FILES}
    mistral = reference(
        by_name[
            "openinference-chat-synchronous-stream-chat-completions-with-tool-ca-01.sse"
        ].read_bytes()
    )
    assert [(c.call_id, c.name, c.arguments, c.final_event) for c in mistral.calls] == [
        ("EscTeQY62", "get_weather", '{"city": "San Francisco"}', 1)
    ]
    parallel = reference(by_name["chat-parallel-tool-calls-01.sse"].read_bytes())
    # call 0 is final where index 1 first appears (chunk 13), call 1 at finish_reason (23)
    assert [c.final_event for c in parallel.calls] == [13, 23]
    writer = reference(
        by_name[
            "openllmetry-chat-writer-async-stream-chat-multiple-tool-call-requ-01.sse"
        ].read_bytes()
    )
    assert len(writer.calls) == 7
    assert not writer.done
    n3 = reference(by_name["chat-n3-content-and-refusal-01.sse"].read_bytes())
    assert set(n3.texts) == {0, 1}
    assert set(n3.refusals) == {2}
    assert n3.refusals[2].startswith("I'm sorry")
