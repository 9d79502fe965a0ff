"""Earliness: at which SSE event (and, paced, at what time) does each library hand a call over?

fcstream hands a call over as ``CallDone`` at the event whose structure closes it. The openai
SDK's stream helpers have their own "finished" signal: chat's ``ChatCompletionStreamState``
emits ``tool_calls.function.arguments.done`` (next call index in the choice, or a finish
reason); Responses' ``ResponseStreamState`` passes ``response.function_call_arguments.done``
and ``response.output_item.done`` through. LangChain and naive accumulation only know a call is
finished when the stream ends (LangChain's ``aggregate.tool_calls`` mid-stream is a partial
parse of text that may still grow: a preview, not a finished call).

Per recording: the 0-based SSE event index of each call's hand-over, and the stream's event
count. Calls are matched to fcstream's by (name, arguments), in order. The paced part replays
``fixtures/streams/*-parallel-3.sse`` through ``fcstream.ReplayServer`` at ``pace_ms`` per
event and records, for each call, the wall time from the request to its hand-over.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from fcstream import CallDone, ReplayServer, SSEFramer, StreamParser

from ._measure import Progress
from ._workloads import ROOT, Workload

__all__ = ["event_earliness", "paced_earliness"]


def _sdk_chat_done(data: bytes) -> list[tuple[str | None, str, int]]:
    from openai._models import construct_type
    from openai.lib.streaming.chat import ChatCompletionStreamState
    from openai.types.chat import ChatCompletionChunk

    state: Any = ChatCompletionStreamState()
    framer = SSEFramer()
    messages = framer.feed(data)
    framer.finish()
    out: list[tuple[str | None, str, int]] = []
    for msg in messages:
        if msg.data.strip() == b"[DONE]" or not msg.data.strip():
            continue
        chunk = construct_type(type_=ChatCompletionChunk, value=json.loads(msg.data))
        for ev in state.handle_chunk(chunk):
            if ev.type == "tool_calls.function.arguments.done":
                out.append((ev.name, ev.arguments, msg.index))
    return out


def _sdk_responses_done(data: bytes) -> list[tuple[str | None, str, int]]:
    from openai._models import construct_type
    from openai.lib.streaming.responses import ResponseStreamState
    from openai.types.responses import ResponseStreamEvent

    from ._candidates import _sdk_omit

    omit = _sdk_omit()
    state: Any = ResponseStreamState(input_tools=omit, text_format=omit)
    framer = SSEFramer()
    messages = framer.feed(data)
    framer.finish()
    out: list[tuple[str | None, str, int]] = []
    seen: set[Any] = set()
    for msg in messages:
        if not msg.data.strip():
            continue
        raw = construct_type(type_=ResponseStreamEvent, value=json.loads(msg.data))
        for ev in state.handle_event(raw):
            if ev.type == "response.function_call_arguments.done":
                key = ev.item_id
                if key not in seen:
                    seen.add(key)
                    out.append((getattr(ev, "name", None), ev.arguments, msg.index))
            elif ev.type == "response.output_item.done" and ev.item.type == "function_call":
                key = ev.item.id
                if key not in seen:
                    seen.add(key)
                    out.append((ev.item.name, ev.item.arguments, msg.index))
    return out


def _match(
    calls: list[tuple[str | None, str]], done: list[tuple[str | None, str, int]]
) -> list[int | None]:
    """For each fcstream call, the event index of the same call in ``done`` (None: never)."""
    used = [False] * len(done)
    out: list[int | None] = []
    for name, arguments in calls:
        hit = None
        for i, (n, a, idx) in enumerate(done):
            if not used[i] and a == arguments and (n is None or n == name):
                used[i] = True
                hit = idx
                break
        out.append(hit)
    return out


def _lc_previews(api: str, data: bytes, calls: list[tuple[str | None, str]]) -> list[int | None]:
    """The first SSE event after which LangChain's aggregate ``tool_calls`` (its partial parse)
    already holds each call's final value: when its preview *looks* done, which is not when the
    call is final (more text may follow; only the stream's end says so)."""
    from langchain_core.messages import AIMessageChunk
    from langchain_core.messages.tool import tool_call_chunk

    wanted: list[Any] = []
    for _, arguments in calls:
        try:
            wanted.append(json.loads(arguments))
        except ValueError:
            wanted.append(_NEVER)
    found: list[int | None] = [None] * len(calls)
    aggregate: Any = None
    framer = SSEFramer()
    messages = framer.feed(data)
    framer.finish()
    for msg in messages:
        text = msg.data.strip()
        if not text or text == b"[DONE]":
            continue
        try:
            payload = json.loads(text)
        except ValueError:
            continue
        pieces = []
        if api == "chat":
            for choice in (payload.get("choices") or [])[:1]:  # LangChain reads choice 0
                for frag in (choice.get("delta") or {}).get("tool_calls") or []:
                    fn = frag.get("function") or {}
                    args = fn.get("arguments")
                    pieces.append(
                        tool_call_chunk(
                            name=fn.get("name"),
                            args=args if isinstance(args, str) else None,
                            id=frag.get("id"),
                            index=frag.get("index"),
                        )
                    )
        else:
            kind = payload.get("type")
            item = payload.get("item") or {}
            if kind == "response.output_item.added" and item.get("type") == "function_call":
                pieces.append(
                    tool_call_chunk(
                        name=item.get("name"),
                        args=item.get("arguments") or "",
                        id=item.get("call_id"),
                        index=payload.get("output_index"),
                    )
                )
            elif kind == "response.function_call_arguments.delta":
                pieces.append(
                    tool_call_chunk(
                        name=None,
                        args=payload.get("delta"),
                        id=None,
                        index=payload.get("output_index"),
                    )
                )
        if not pieces:
            continue
        message = AIMessageChunk(content="", tool_call_chunks=pieces)
        aggregate = message if aggregate is None else aggregate + message
        previews = aggregate.tool_calls
        for i, ((name, _), value) in enumerate(zip(calls, wanted, strict=True)):
            if found[i] is None and any(t["name"] == name and t["args"] == value for t in previews):
                found[i] = msg.index
    return found


_NEVER = object()


def event_earliness(workloads: list[Workload], progress: Progress) -> dict[str, Any]:
    """Per recording with calls: each call's hand-over event per library."""
    records: list[dict[str, Any]] = []
    for workload in workloads:
        for stream in workload.streams:
            parser = StreamParser(strict=False)
            events = parser.feed(stream.data) + parser.finish()
            done = [e for e in events if isinstance(e, CallDone)]
            if not done:
                continue
            total = parser.events_seen
            calls = [(e.call.name, e.call.arguments) for e in done]
            sdk_error = ""
            try:
                if workload.api == "chat":
                    sdk = _match(calls, _sdk_chat_done(stream.data))
                else:
                    sdk = _match(calls, _sdk_responses_done(stream.data))
            except Exception as exc:  # the SDK's crash on a recording is a finding
                sdk = [None] * len(calls)
                sdk_error = f"{type(exc).__name__}: {exc}"[:120]
            try:
                previews = _lc_previews(workload.api, stream.data, calls)
            except Exception:  # langchain missing or failing: no preview column
                previews = [None] * len(calls)
            records.append(
                {
                    "stream": stream.name,
                    "api": workload.api,
                    "events": total,
                    "calls": [
                        {
                            "name": name,
                            "fcstream": e.event_index,
                            "openai_sdk": s,
                            "langchain": total - 1,
                            "langchain_preview": pv,
                            "naive": total - 1,
                        }
                        for (name, _), e, s, pv in zip(calls, done, sdk, previews, strict=True)
                    ],
                    **({"sdk_error": sdk_error} if sdk_error else {}),
                }
            )
    handed: list[dict[str, Any]] = [c for r in records for c in r["calls"]]
    n = len(handed)
    earlier = sum(
        1 for c in handed if c["openai_sdk"] is not None and c["fcstream"] < c["openai_sdk"]
    )
    same = sum(1 for c in handed if c["openai_sdk"] == c["fcstream"])
    later = sum(
        1 for c in handed if c["openai_sdk"] is not None and c["fcstream"] > c["openai_sdk"]
    )
    never = sum(1 for c in handed if c["openai_sdk"] is None)
    before_end = [r["events"] - 1 - c["fcstream"] for r in records for c in r["calls"]]
    frac = [(c["fcstream"] + 1) / r["events"] for r in records for c in r["calls"]]
    with_preview = [c for c in handed if c["langchain_preview"] is not None]
    summary = {
        "langchain_preview_complete": len(with_preview),
        "langchain_preview_before_fcstream": sum(
            1 for c in with_preview if c["langchain_preview"] < c["fcstream"]
        ),
        "recordings": len(records),
        "calls": n,
        "fcstream_before_sdk": earlier,
        "fcstream_same_as_sdk": same,
        "fcstream_after_sdk": later,
        "sdk_never": never,
        "sdk_crashed_recordings": sum(1 for r in records if "sdk_error" in r),
        "fcstream_before_stream_end": sum(1 for b in before_end if b > 0),
        "mean_events_before_end": sum(before_end) / n if n else None,
        "mean_fraction_of_stream": sum(frac) / n if n else None,
    }
    progress(
        f"  earliness: {n} calls in {len(records)} recordings; fcstream before/same/after SDK: "
        f"{earlier}/{same}/{later}, SDK never {never}"
    )
    return {"summary": summary, "recordings": records}


def _fc_paced(server: ReplayServer, path: str, model: str) -> tuple[list[float], float]:
    import httpx

    import fcstream

    ready: list[float] = []
    with httpx.Client(timeout=60) as client:
        start = time.perf_counter()
        body = {"model": model, "stream": True, "messages": [], "input": "x"}
        with fcstream.stream(client, "POST", server.base_url + path, json=body) as events:
            for event in events:
                if isinstance(event, CallDone):
                    ready.append(time.perf_counter() - start)
        return ready, time.perf_counter() - start


def _sdk_paced(server: ReplayServer, api: str, model: str) -> tuple[list[float], float]:
    from openai import OpenAI
    from openai.lib.streaming.chat import ChatCompletionStreamState

    client = OpenAI(base_url=server.base_url, api_key="x", max_retries=0)
    ready: list[float] = []
    start = time.perf_counter()
    if api == "chat":
        state: Any = ChatCompletionStreamState()
        for chunk in client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "x"}], stream=True
        ):
            for ev in state.handle_chunk(chunk):
                if ev.type == "tool_calls.function.arguments.done":
                    ready.append(time.perf_counter() - start)
    else:
        seen: set[str] = set()
        for ev in client.responses.create(model=model, input="x", stream=True):
            if ev.type == "response.function_call_arguments.done" and ev.item_id not in seen:
                seen.add(ev.item_id)
                ready.append(time.perf_counter() - start)
    client.close()
    return ready, time.perf_counter() - start


def paced_earliness(pace_ms: float, progress: Progress) -> dict[str, Any]:
    """Wall time of each call's hand-over under a paced replay, per library."""
    files = [
        ROOT / "fixtures" / "streams" / f"{api}-parallel-3.sse" for api in ("chat", "responses")
    ]
    out: dict[str, Any] = {"pace_ms": pace_ms, "streams": {}}
    with ReplayServer([Path(f) for f in files], pace_ms=pace_ms, chunking=(4096, 16384)) as server:
        for api, path in (("chat", "/chat/completions"), ("responses", "/responses")):
            model = f"{api}-parallel-3"
            fc_ready, fc_end = _fc_paced(server, path, model)
            try:
                sdk_ready, sdk_end = _sdk_paced(server, api, model)
                sdk: dict[str, Any] = {"ready_s": sdk_ready, "end_s": sdk_end}
            except Exception as exc:
                sdk = {"error": f"{type(exc).__name__}: {exc}"[:160]}
            out["streams"][api] = {
                "model": model,
                "fcstream": {"ready_s": fc_ready, "end_s": fc_end},
                "openai_sdk": sdk,
                # LangChain and naive accumulation: finished calls only at the end of the stream
                "langchain": {"ready_s": [fc_end] * len(fc_ready), "end_s": fc_end},
                "naive": {"ready_s": [fc_end] * len(fc_ready), "end_s": fc_end},
            }
            progress(
                f"  paced {api} ({pace_ms:g} ms/event): fcstream calls at "
                + ", ".join(f"{t:.2f}" for t in fc_ready)
                + f" s of {fc_end:.2f} s"
            )
    return out
