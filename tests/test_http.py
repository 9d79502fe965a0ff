"""httpx adapters against the real replay server: ``fcstream.stream``/``astream``, and
``iter_events``/``aiter_events`` over an httpx response or an httpx-sse EventSource.

Every adapter meets the same cases: whole recordings, a slow drip, a connection dropped
mid-event, a non-2xx HTML page, HTTP 200 with a JSON error body, a wrong content type.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import httpx_sse
import pytest

import fcstream
from fcstream import (
    CallIncomplete,
    ContentTypeError,
    Event,
    FcstreamError,
    HTTPStatusError,
    IncompleteStreamError,
    ProviderError,
    StreamDone,
)
from fcstream._server import Fault, ReplayServer

from .feed import normalize
from .servers import (
    CHAT_PARALLEL,
    CHAT_SINGLE,
    CHAT_TEXT,
    RESPONSES_CORPUS,
    RESPONSES_PARALLEL,
    RESPONSES_SINGLE,
    SMALL_CHAT,
    TIMEOUT,
    assert_dropped,
    truth,
    without_leftover,
)

FILES = [CHAT_PARALLEL, CHAT_SINGLE, CHAT_TEXT, RESPONSES_CORPUS, RESPONSES_PARALLEL]
BIG_HTML = b"<html><head><title>502 Bad Gateway</title></head><body>" + b"x" * 100_000
FAULTS = {
    "drip-chat": Fault("drip", delay_ms=0, file=SMALL_CHAT.stem),
    "drip-responses": Fault("drip", delay_ms=0, file=RESPONSES_SINGLE.stem),
    "drop-chat": Fault("drop", file=CHAT_PARALLEL.stem),
    "drop-responses": Fault("drop", file=RESPONSES_PARALLEL.stem),
    "drop-after-end": Fault("drop", at=10**9, file=SMALL_CHAT.stem),
    "big-html": Fault("status", body=BIG_HTML),
    "json-not-error": Fault("json_error", body=b'{"id": "chatcmpl-1", "choices": []}'),
}

Outcome = tuple[list[Event], FcstreamError | None]


@pytest.fixture(scope="module")
def server():
    files = [*FILES, SMALL_CHAT, RESPONSES_SINGLE]
    with ReplayServer(files, faults=FAULTS) as s:
        yield s


def endpoint(server: ReplayServer, path: Path | None) -> str:
    responses = path is not None and "responses" in path.stem
    return server.base_url + ("/responses" if responses else "/chat/completions")


def body(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [], "stream": True}


# -- the adapters: each returns the events it yielded and the fcstream error it raised --------


def run_stream(url: str, model: str) -> Outcome:
    events: list[Event] = []
    with httpx.Client(timeout=TIMEOUT) as client:
        try:
            with fcstream.stream(client, "POST", url, json=body(model)) as stream:
                events.extend(stream)
        except FcstreamError as exc:
            return events, exc
    return events, None


def run_iter_response(url: str, model: str) -> Outcome:
    events: list[Event] = []
    with httpx.Client(timeout=TIMEOUT) as client, client.stream("POST", url, json=body(model)) as r:
        try:
            events.extend(fcstream.iter_events(r))
        except FcstreamError as exc:
            return events, exc
    return events, None


def run_iter_event_source(url: str, model: str) -> Outcome:
    events: list[Event] = []
    with (
        httpx.Client(timeout=TIMEOUT) as client,
        httpx_sse.connect_sse(client, "POST", url, json=body(model)) as source,
    ):
        try:
            events.extend(fcstream.iter_events(source))
        except FcstreamError as exc:
            return events, exc
    return events, None


async def run_astream(url: str, model: str) -> Outcome:
    events: list[Event] = []
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        try:
            async with fcstream.astream(client, "POST", url, json=body(model)) as stream:
                async for event in stream:
                    events.append(event)
        except FcstreamError as exc:
            return events, exc
    return events, None


async def run_aiter_response(url: str, model: str) -> Outcome:
    events: list[Event] = []
    async with (
        httpx.AsyncClient(timeout=TIMEOUT) as client,
        client.stream("POST", url, json=body(model)) as response,
    ):
        try:
            async for event in fcstream.aiter_events(response):
                events.append(event)
        except FcstreamError as exc:
            return events, exc
    return events, None


async def run_aiter_event_source(url: str, model: str) -> Outcome:
    events: list[Event] = []
    async with (
        httpx.AsyncClient(timeout=TIMEOUT) as client,
        httpx_sse.aconnect_sse(client, "POST", url, json=body(model)) as source,
    ):
        try:
            async for event in fcstream.aiter_events(source):
                events.append(event)
        except FcstreamError as exc:
            return events, exc
    return events, None


SYNC: dict[str, Callable[[str, str], Outcome]] = {
    "stream": run_stream,
    "iter_events(response)": run_iter_response,
    "iter_events(EventSource)": run_iter_event_source,
}
ASYNC: dict[str, Callable[[str, str], Any]] = {
    "astream": run_astream,
    "aiter_events(response)": run_aiter_response,
    "aiter_events(EventSource)": run_aiter_event_source,
}
FRAMED_BY_HTTPX_SSE = {"stream", "astream", "iter_events(EventSource)", "aiter_events(EventSource)"}


@pytest.fixture(params=[*SYNC, *ASYNC])
def adapter(request):
    """One adapter, called the same way whether it is sync or async."""
    name = request.param

    async def run(url: str, model: str) -> Outcome:
        if name in SYNC:
            return SYNC[name](url, model)
        return await ASYNC[name](url, model)

    run.framed_by_httpx_sse = name in FRAMED_BY_HTTPX_SSE  # type: ignore[attr-defined]
    return run


def comparable(run: Any, events: list[Event]) -> list[Event]:
    events = normalize(events)
    return without_leftover(events) if run.framed_by_httpx_sse else events


# -- the cases ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
async def test_whole_recordings_match_the_bytes(server, adapter, path):
    events, error = await adapter(endpoint(server, path), path.stem)
    assert error is None
    assert comparable(adapter, events) == comparable(adapter, truth(path))


@pytest.mark.parametrize(
    ("model", "path"), [("drip-chat", SMALL_CHAT), ("drip-responses", RESPONSES_SINGLE)]
)
async def test_slow_drip(server, adapter, model, path):
    events, error = await adapter(endpoint(server, path), model)
    assert error is None
    assert comparable(adapter, events) == comparable(adapter, truth(path))


@pytest.mark.parametrize(
    ("model", "path"), [("drop-chat", CHAT_PARALLEL), ("drop-responses", RESPONSES_PARALLEL)]
)
async def test_connection_dropped_mid_event(server, adapter, model, path):
    events, error = await adapter(endpoint(server, path), model)
    assert isinstance(error, IncompleteStreamError)
    assert error.reason == "read_failed"
    assert isinstance(error.__cause__, httpx.RemoteProtocolError)
    assert_dropped(events, error.calls, path)
    ended = [e.call for e in events if isinstance(e, (fcstream.CallDone, CallIncomplete))]
    assert sorted(ended, key=lambda c: c.index) == error.calls


async def test_connection_dropped_after_the_terminal_marker_is_no_error(server, adapter):
    events, error = await adapter(endpoint(server, None), "drop-after-end")
    assert error is None
    assert comparable(adapter, events) == comparable(adapter, truth(SMALL_CHAT))
    assert events[-1].complete


async def test_non_2xx_with_an_html_body(server, adapter):
    events, error = await adapter(endpoint(server, None), "big-html")
    assert events == []
    assert isinstance(error, HTTPStatusError)
    assert error.status_code == 502
    assert error.content_type == "text/html"
    assert error.body_excerpt.startswith("<html><head><title>502 Bad Gateway")
    assert len(error.body_excerpt) <= 2048
    assert len(str(error)) < 2300


@pytest.mark.parametrize(("path", "api"), [(None, "chat"), (RESPONSES_PARALLEL, "responses")])
async def test_200_with_a_json_error_body(server, adapter, path, api):
    events, error = await adapter(endpoint(server, path), "fault:json_error")
    assert events == []
    assert isinstance(error, ProviderError)
    assert error.type == "server_error"
    assert "overloaded" in error.message
    assert error.api == api
    assert error.raw.startswith(b'{"error":')


async def test_200_with_json_that_is_not_an_error(server, adapter):
    events, error = await adapter(endpoint(server, None), "json-not-error")
    assert events == []
    assert isinstance(error, ContentTypeError)
    assert error.content_type == "application/json"
    assert "JSON" in error.message


async def test_wrong_content_type(server, adapter):
    events, error = await adapter(endpoint(server, None), f"fault:content_type:{CHAT_SINGLE.stem}")
    assert events == []
    assert isinstance(error, ContentTypeError)
    assert error.status_code == 200
    assert error.content_type == "text/plain; charset=utf-8"
    assert "'text/plain'" in str(error)
    assert error.body_excerpt.startswith("data: {")


# -- fcstream.stream specifics --------------------------------------------------------------


def test_stream_exposes_the_response_and_the_calls(server):
    with (
        httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client,
        fcstream.stream(client, "POST", "/chat/completions", json=body(CHAT_PARALLEL.stem)) as s,
    ):
        assert s.api is None  # nothing read yet
        events = list(s)
        assert s.response.headers["x-request-id"].startswith("req_fcstream_")
        assert s.api == "chat"
        assert [c.name for c in s.calls] == ["GetWeatherArgs", "get_stock_price"]
    assert isinstance(events[-1], StreamDone)
    assert events[-1].complete


def test_stream_sends_accept_unless_given(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        with fcstream.stream(client, "POST", "/chat/completions", json=body("x")) as s:
            list(s)
        headers = {"Accept": "text/event-stream, */*"}
        with fcstream.stream(client, "POST", "/chat/completions", json=body("x"), headers=headers):
            pass
    assert server.requests[-2].headers["accept"] == "text/event-stream"
    assert server.requests[-1].headers["accept"] == "text/event-stream, */*"


def test_early_break_closes_the_response(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        with fcstream.stream(client, "POST", "/chat/completions", json=body("x")) as s:
            for _ in s:
                break
        assert s.response.is_closed
        # the connection went back to the pool in a usable state
        with fcstream.stream(client, "POST", "/chat/completions", json=body("x")) as again:
            assert isinstance(list(again)[-1], StreamDone)


async def test_astream_early_break_closes_the_response(server):
    async with httpx.AsyncClient(base_url=server.base_url, timeout=TIMEOUT) as client:
        async with fcstream.astream(client, "POST", "/chat/completions", json=body("x")) as s:
            async for _ in s:
                break
        assert s.response.is_closed


def test_clean_end_without_terminal_marker_raises_nothing():
    truncated = CHAT_PARALLEL.read_bytes()
    truncated = truncated[: truncated.index(b'"finish_reason":"tool_calls"')]
    truncated = truncated[: truncated.rindex(b"\n\n") + 2]
    with (
        ReplayServer({"cut": truncated}) as server,
        httpx.Client(timeout=TIMEOUT) as client,
        fcstream.stream(client, "POST", server.base_url + "/chat/completions", json=body("x")) as s,
    ):
        events = list(s)
    assert isinstance(events[-1], StreamDone)
    assert events[-1].status == "truncated"
    assert isinstance(events[-2], CallIncomplete)


def test_read_timeout_mid_stream_returns_the_calls_then_raises():
    with (
        ReplayServer([CHAT_PARALLEL], pace_ms=60_000, chunking=10_000) as server,
        httpx.Client(timeout=httpx.Timeout(TIMEOUT, read=0.3)) as client,
    ):
        events: list[Event] = []
        url = server.base_url + "/chat/completions"
        with (
            pytest.raises(IncompleteStreamError) as caught,
            fcstream.stream(client, "POST", url, json=body("x")) as s,
        ):
            events.extend(s)
    assert isinstance(caught.value.__cause__, httpx.ReadTimeout)
    assert isinstance(events[-1], StreamDone)
    assert not events[-1].complete


def test_ping_blocks_without_data_are_skipped_like_the_byte_framer_does():
    data = b": keep-alive\n\nevent: ping\n\n" + SMALL_CHAT.read_bytes().replace(
        b"\n\ndata:", b"\n\nevent: ping\n\ndata:", 2
    )
    with (
        ReplayServer({"pings": data}) as server,
        httpx.Client(timeout=TIMEOUT) as client,
        fcstream.stream(client, "POST", server.base_url + "/chat/completions", json=body("x")) as s,
    ):
        events = normalize(s)
    assert events == normalize(fcstream.iter_events(data))


def test_strict_false_reports_bad_payloads_as_events():
    data = b'data: {"choices": [}\n\n' + SMALL_CHAT.read_bytes()
    url_body = body("x")
    with ReplayServer({"bad": data}) as server, httpx.Client(timeout=TIMEOUT) as client:
        url = server.base_url + "/chat/completions"
        with fcstream.stream(client, "POST", url, json=url_body, strict=False) as s:
            events = list(s)
        assert isinstance(events[0], fcstream.ErrorEvent)
        assert isinstance(events[0].error, fcstream.PayloadError)
        assert [c.name for c in s.calls] == ["get_weather"]
        with (
            pytest.raises(fcstream.PayloadError),
            fcstream.stream(client, "POST", url, json=url_body) as s,
        ):
            list(s)
