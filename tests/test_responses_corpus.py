"""Every recorded Responses stream rebuilds to the right calls, each final at the right event.

The expected values come from a deliberately plain reference written here, not from fcstream:
split the body into SSE blocks, ``json.loads`` every data payload, take the function and custom
tool call items from ``response.output_item.done`` (and from ``response.completed``'s output for
items never streamed), and find the event that ends each one (its ``.done``, else its
``output_item.done``, else the terminal event). The MANIFEST.md of each corpus directory is
checked too, for the calls it lists.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from fcstream import (
    ArgumentsDelta,
    CallDone,
    CallIncomplete,
    CallStarted,
    ErrorEvent,
    ProviderError,
    StreamDone,
    StreamParser,
)
from tests.feed import byte_by_byte, feed_all

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
RECORDINGS = sorted(CORPUS.glob("*/*responses*.sse")) if CORPUS.is_dir() else []
BUNDLED = sorted((REPO / "fixtures" / "streams").glob("responses-*.sse"))
CASES = RECORDINGS + BUNDLED

CALL_TYPES = ("function_call", "custom_tool_call")
DONE_TYPES = {
    "response.function_call_arguments.done": "function_call",
    "response.custom_tool_call_input.done": "custom_tool_call",
}
DELTA_TYPES = {
    "response.function_call_arguments.delta": "function_call",
    "response.custom_tool_call_input.delta": "custom_tool_call",
}
TERMINAL = ("response.completed", "response.incomplete", "response.failed")


# -- the plain reference --------------------------------------------------------------------


def payloads(body: bytes) -> list[Any]:
    """The JSON of every dispatched SSE event, in order (``None`` for ``[DONE]``)."""
    text = body.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    out: list[Any] = []
    for block in text.split("\n\n"):
        data = [
            line[5:].removeprefix(" ") for line in block.split("\n") if line.startswith("data:")
        ]
        if not data:
            continue
        joined = "\n".join(data)
        out.append(None if joined == "[DONE]" else json.loads(joined))
    return out


def reference(body: bytes) -> tuple[list[dict[str, Any]], str]:
    """The calls of a Responses stream in order of first appearance, each with the index of the
    event that ends it and whether it ended complete; and how the stream ended."""
    events = payloads(body)
    calls: dict[Any, dict[str, Any]] = {}  # by output_index, else item id
    order: list[Any] = []
    status = "truncated"

    def slot(event: dict[str, Any], item: dict[str, Any] | None = None) -> dict[str, Any]:
        key = event.get("output_index")
        if key is None:
            key = ("id", event.get("item_id") or (item or {}).get("id"))
        if key not in calls:
            calls[key] = {"end": None, "complete": False, "arguments": ""}
            order.append(key)
        return calls[key]

    def end_open(i: int, complete: bool) -> None:
        for entry in calls.values():
            if entry["end"] is None:
                entry["end"], entry["complete"] = i, complete

    for i, event in enumerate(events):
        if not isinstance(event, dict):
            continue
        kind = event.get("type")
        if kind in ("response.output_item.added", "response.output_item.done"):
            item = event["item"]
            if item.get("type") not in CALL_TYPES:
                continue
            entry = slot(event, item)
            entry["type"] = item["type"]
            for field in ("call_id", "name"):
                if item.get(field):
                    entry.setdefault(field, item[field])
            text = item.get("arguments", item.get("input"))
            if kind == "response.output_item.done":
                entry["arguments"] = text
                if entry["end"] is None:
                    entry["end"], entry["complete"] = i, True
            elif text:
                entry["arguments"] = text
        elif kind in DELTA_TYPES:
            entry = slot(event)
            entry.setdefault("type", DELTA_TYPES[kind])
            entry["arguments"] = entry.get("arguments", "") + event["delta"]
        elif kind in DONE_TYPES:
            entry = slot(event)
            entry.setdefault("type", DONE_TYPES[kind])
            entry["arguments"] = event.get("arguments", event.get("input"))
            if event.get("name"):
                entry.setdefault("name", event["name"])
            # final here, handed over once it has a name (else at its output_item.done)
            if entry["end"] is None and entry.get("name"):
                entry["end"], entry["complete"] = i, True
        elif kind == "error":
            end_open(i, False)
            status = "error"
        elif kind in TERMINAL:
            known = {c.get("call_id") for c in calls.values()}
            for item in event["response"].get("output") or []:
                if item.get("type") in CALL_TYPES and item.get("call_id") not in known:
                    key = ("unstreamed", item.get("call_id"))
                    calls[key] = {
                        "end": None,
                        "complete": False,
                        "call_id": item.get("call_id"),
                        "name": item.get("name"),
                        "type": item["type"],
                        "arguments": item.get("arguments", item.get("input")),
                    }
                    order.append(key)
            status = kind.removeprefix("response.")
            end_open(i, status == "completed")
            break
    end_open(len(events), False)  # input ended: what is open is truncated
    return [calls[k] for k in order], status


def manifest_calls(path: Path) -> list[tuple[str, str, str]]:
    """(call_id, name, arguments prefix) for the calls MANIFEST.md lists under this file."""
    manifest = path.parent / "MANIFEST.md"
    if not manifest.is_file():
        return []
    text = manifest.read_text(encoding="utf-8")
    start = text.find(f"### {path.name}")
    if start < 0:
        return []
    end = text.find("\n### ", start + 1)
    section = text[start : end if end > 0 else len(text)]
    found = []
    for m in re.finditer(r"^\s+- output_index \d+, `([^`]+)` (\S+): `(.*)`$", section, re.M):
        found.append((m.group(1), m.group(2), m.group(3).removesuffix("…")))
    return found


# -- the tests ------------------------------------------------------------------------------


def test_corpus_has_responses_recordings() -> None:
    assert RECORDINGS, f"no Responses recordings under {CORPUS}"


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_recording_rebuilds(path: Path) -> None:
    body = path.read_bytes()
    expected, status = reference(body)

    parser = StreamParser("auto", strict=True)  # a real recording raises nothing
    events = parser.feed(body)
    events += parser.finish()
    assert parser.api == "responses"
    assert not [
        e for e in events if isinstance(e, ErrorEvent) and not isinstance(e.error, ProviderError)
    ]

    calls = parser.calls
    got = [
        (
            c.call_id,
            c.name,
            c.arguments,
            "custom_tool_call" if c.type == "custom" else "function_call",
            c.complete,
        )
        for c in calls
    ]
    assert got == [
        (e.get("call_id"), e.get("name"), e.get("arguments"), e.get("type"), e["complete"])
        for e in expected
    ]
    assert all(c.api == "responses" and c.choice == 0 for c in calls)
    assert [c.index for c in calls] == list(range(len(calls)))

    ends = [e for e in events if isinstance(e, CallDone | CallIncomplete)]
    assert [(e.call.call_id, e.event_index, isinstance(e, CallDone)) for e in ends] == [
        (e.get("call_id"), e["end"], e["complete"]) for e in expected
    ]
    started = [e for e in events if isinstance(e, CallStarted)]
    assert [s.call_id for s in started] == [e.get("call_id") for e in expected]
    for call in calls:  # the deltas streamed exactly the final text
        text = "".join(
            e.delta for e in events if isinstance(e, ArgumentsDelta) and e.index == call.index
        )
        assert text == call.arguments

    done = events[-1]
    assert isinstance(done, StreamDone)
    assert done.status == status
    assert done.complete == (status == "completed" and all(c.complete for c in calls))

    for call_id, name, prefix in manifest_calls(path):
        match = [c for c in calls if c.call_id == call_id]
        assert match, f"MANIFEST lists {call_id} {name}"
        assert match[0].name == name
        assert match[0].arguments.startswith(prefix)


@pytest.mark.parametrize("path", CASES, ids=[p.name for p in CASES])
def test_recording_byte_by_byte(path: Path) -> None:
    body = path.read_bytes()
    assert feed_all(byte_by_byte(body)) == feed_all([body])


def _reference_applies(path: Path) -> bool:
    """R13 sends chat chunks on purpose: the plain Responses reference has nothing to say."""
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    return bool(expected["api"] == "auto")


QUIRK_FILES = [
    p
    for p in sorted((REPO / "fixtures" / "quirks").glob("responses-*.sse"))
    if _reference_applies(p)
]


@pytest.mark.parametrize("path", QUIRK_FILES, ids=[p.stem for p in QUIRK_FILES])
def test_quirk_expectations_agree_with_the_reference(path: Path) -> None:
    """The hand-stated expectations of the quirk fixtures, checked by the plain reference too."""
    expected = json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))
    calls, status = reference(path.read_bytes())
    assert status == expected["status"]
    assert [
        (c.get("call_id"), c.get("name"), c["arguments"], c["end"], c["complete"]) for c in calls
    ] == [
        (c["call_id"], c["name"], c["arguments"], c["final_event"], c["complete"])
        for c in expected["calls"]
    ]
