"""Raw bytes from other HTTP clients, as the README shows them: requests (``iter_content``) and
aiohttp (``content.iter_any()``), against the real replay server. Their response objects can
also be passed whole, which adds the status and content-type checks."""

from __future__ import annotations

import pytest

import fcstream
from fcstream import (
    ContentTypeError,
    HTTPStatusError,
    IncompleteStreamError,
    ProviderError,
)
from fcstream._server import Fault, ReplayServer

from .feed import normalize
from .servers import (
    CHAT_PARALLEL,
    RESPONSES_CORPUS,
    RESPONSES_PARALLEL,
    SMALL_CHAT,
    TIMEOUT,
    assert_dropped,
    truth,
)

requests = pytest.importorskip("requests")
aiohttp = pytest.importorskip("aiohttp")

FILES = [CHAT_PARALLEL, RESPONSES_CORPUS, RESPONSES_PARALLEL, SMALL_CHAT]
FAULTS = {
    "drip": Fault("drip", delay_ms=0, file=SMALL_CHAT.stem),
    "drop": Fault("drop", file=CHAT_PARALLEL.stem),
}
RECORDINGS = [pytest.param(p, id=p.stem) for p in (CHAT_PARALLEL, RESPONSES_CORPUS)]


@pytest.fixture(scope="module")
def server():
    with ReplayServer(FILES, faults=FAULTS) as s:
        yield s


def url_for(server, path=None) -> str:
    api = "/responses" if path is not None and "responses" in path.stem else "/chat/completions"
    return server.base_url + api


def body(model: str) -> dict:
    return {"model": model, "messages": [], "stream": True}


# -- requests -------------------------------------------------------------------------------


@pytest.mark.parametrize("path", RECORDINGS)
def test_requests_iter_content(server, path):
    with requests.post(
        url_for(server, path), json=body(path.stem), stream=True, timeout=TIMEOUT
    ) as response:
        response.raise_for_status()
        events = fcstream.iter_events(response.iter_content(chunk_size=None))
        assert normalize(events) == truth(path)


@pytest.mark.parametrize("path", RECORDINGS)
def test_requests_response_object(server, path):
    with requests.post(
        url_for(server, path), json=body(path.stem), stream=True, timeout=TIMEOUT
    ) as response:
        assert normalize(fcstream.iter_events(response)) == truth(path)


def test_requests_slow_drip(server):
    with requests.post(url_for(server), json=body("drip"), stream=True, timeout=TIMEOUT) as r:
        assert normalize(fcstream.iter_events(r.iter_content(chunk_size=None))) == truth(SMALL_CHAT)


def test_requests_connection_dropped_mid_event(server):
    events = []
    with (
        requests.post(url_for(server), json=body("drop"), stream=True, timeout=TIMEOUT) as r,
        pytest.raises(IncompleteStreamError) as caught,
    ):
        events.extend(fcstream.iter_events(r.iter_content(chunk_size=None)))
    assert isinstance(caught.value.__cause__, requests.exceptions.ChunkedEncodingError)
    assert_dropped(events, caught.value.calls, CHAT_PARALLEL)


def test_requests_raw_bytes_leave_the_status_to_the_caller(server):
    with (
        requests.post(
            url_for(server), json=body("fault:status"), stream=True, timeout=TIMEOUT
        ) as r,
        pytest.raises(requests.HTTPError),
    ):
        r.raise_for_status()


@pytest.mark.parametrize(
    ("model", "error"),
    [
        ("fault:status", HTTPStatusError),
        ("fault:json_error", ProviderError),
        ("fault:content_type", ContentTypeError),
    ],
)
def test_requests_response_object_is_checked(server, model, error):
    with (
        requests.post(url_for(server), json=body(model), stream=True, timeout=TIMEOUT) as r,
        pytest.raises(error) as caught,
    ):
        list(fcstream.iter_events(r))
    if error is HTTPStatusError:
        assert caught.value.status_code == 502
        assert "<html>" in caught.value.body_excerpt


# -- aiohttp --------------------------------------------------------------------------------


def session():
    return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT))


@pytest.mark.parametrize("path", RECORDINGS)
async def test_aiohttp_iter_any(server, path):
    async with session() as http, http.post(url_for(server, path), json=body(path.stem)) as r:
        r.raise_for_status()
        events = [event async for event in fcstream.aiter_events(r.content.iter_any())]
    assert normalize(events) == truth(path)


@pytest.mark.parametrize("path", RECORDINGS)
async def test_aiohttp_response_object(server, path):
    async with session() as http, http.post(url_for(server, path), json=body(path.stem)) as r:
        events = [event async for event in fcstream.aiter_events(r)]
    assert normalize(events) == truth(path)


async def test_aiohttp_slow_drip(server):
    async with session() as http, http.post(url_for(server), json=body("drip")) as r:
        events = [event async for event in fcstream.aiter_events(r.content.iter_any())]
    assert normalize(events) == truth(SMALL_CHAT)


async def test_aiohttp_connection_dropped_mid_event(server):
    events = []

    async def read(response) -> None:
        async for event in fcstream.aiter_events(response.content.iter_any()):
            events.append(event)

    async with session() as http, http.post(url_for(server), json=body("drop")) as r:
        with pytest.raises(IncompleteStreamError) as caught:
            await read(r)
    assert isinstance(caught.value.__cause__, aiohttp.ClientPayloadError)
    assert_dropped(events, caught.value.calls, CHAT_PARALLEL)


@pytest.mark.parametrize(
    ("model", "error"),
    [
        ("fault:status", HTTPStatusError),
        ("fault:json_error", ProviderError),
        ("fault:content_type", ContentTypeError),
    ],
)
async def test_aiohttp_response_object_is_checked(server, model, error):
    async def read(response) -> None:
        async for _ in fcstream.aiter_events(response):
            pass

    async with session() as http, http.post(url_for(server), json=body(model)) as r:
        with pytest.raises(error) as caught:
            await read(r)
    if error is ProviderError:
        assert caught.value.api == "chat"
