"""openai SDK stream objects as sources, sync and async, chat and Responses, against the real
replay server: raw bytes when unread, parsed objects when partly consumed, never a second
request, and no ``import openai`` anywhere in fcstream."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import fcstream
from fcstream import (
    CallIncomplete,
    ContentTypeError,
    ErrorEvent,
    IncompleteStreamError,
    ProviderError,
    StreamDone,
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

openai = pytest.importorskip("openai")


def _error_stream() -> bytes:
    """A tool call cut by an error object mid-stream (quirk C20)."""
    events = SMALL_CHAT.read_bytes().split(b"\n\n")
    error = b'data: {"error":{"message":"overloaded","type":"server_error","code":"busy"}}'
    return b"\n\n".join([*events[:4], error]) + b"\n\n"


FAULTS = {
    "drop-chat": Fault("drop", file=CHAT_PARALLEL.stem),
    "drop-responses": Fault("drop", file=RESPONSES_PARALLEL.stem),
}
CASES = [
    pytest.param("chat", CHAT_PARALLEL, id="chat"),
    pytest.param("responses", RESPONSES_CORPUS, id="responses"),
    pytest.param("responses", RESPONSES_PARALLEL, id="responses-parallel"),
]


@pytest.fixture(scope="module")
def server():
    files = {p.stem: p.read_bytes() for p in (CHAT_PARALLEL, RESPONSES_CORPUS, RESPONSES_PARALLEL)}
    files["chat-error"] = _error_stream()
    with ReplayServer(files, faults=FAULTS) as s:
        yield s


@pytest.fixture(scope="module")
def client(server):
    with openai.OpenAI(
        base_url=server.base_url, api_key="sk-test", max_retries=0, timeout=TIMEOUT
    ) as c:
        yield c


@pytest.fixture
async def aclient(server):
    async with openai.AsyncOpenAI(
        base_url=server.base_url, api_key="sk-test", max_retries=0, timeout=TIMEOUT
    ) as c:
        yield c


def create(client, api: str, model: str):
    if api == "chat":
        return client.chat.completions.create(model=model, messages=[], stream=True)
    return client.responses.create(model=model, input="hi", stream=True)


# -- unread: the raw bytes under the SDK ----------------------------------------------------


@pytest.mark.parametrize(("api", "path"), CASES)
def test_unread_sync_stream_reads_the_raw_bytes(server, client, api, path):
    before = len(server.requests)
    stream = create(client, api, path.stem)
    events = normalize(fcstream.iter_events(stream))
    assert events == truth(path)  # the very bytes: [DONE] and all
    assert len(server.requests) == before + 1  # never a second request
    assert stream.response.is_closed


@pytest.mark.parametrize(("api", "path"), CASES)
async def test_unread_async_stream_reads_the_raw_bytes(server, aclient, api, path):
    before = len(server.requests)
    stream = await create(aclient, api, path.stem)
    events = normalize([event async for event in fcstream.aiter_events(stream)])
    assert events == truth(path)
    assert len(server.requests) == before + 1
    assert stream.response.is_closed


def test_early_exit_closes_the_sdk_response(client):
    stream = create(client, "chat", CHAT_PARALLEL.stem)
    events = fcstream.iter_events(stream)
    next(events)
    events.close()
    assert stream.response.is_closed


def test_sdk_helper_streams_are_unwrapped(client):
    with client.chat.completions.stream(model=CHAT_PARALLEL.stem, messages=[]) as stream:
        chat = fcstream.collect(stream)
    with client.responses.stream(model=RESPONSES_PARALLEL.stem, input="hi") as stream:
        responses = fcstream.collect(stream)
    assert chat.calls == fcstream.collect(CHAT_PARALLEL.read_bytes()).calls
    assert chat.status == "done"
    assert responses.calls == fcstream.collect(RESPONSES_PARALLEL.read_bytes()).calls


async def test_async_sdk_helper_streams_are_unwrapped(aclient):
    async with aclient.responses.stream(model=RESPONSES_CORPUS.stem, input="hi") as stream:
        result = await fcstream.acollect(stream)
    assert result.calls == fcstream.collect(RESPONSES_CORPUS.read_bytes()).calls


# -- partly consumed: the SDK's parsed objects ----------------------------------------------


@pytest.mark.parametrize(("api", "path"), CASES)
def test_partly_consumed_sync_stream_converts_the_rest(server, client, api, path):
    before = len(server.requests)
    stream = create(client, api, path.stem)
    next(stream)  # the caller took the first object (chat role chunk / response.created)
    result = fcstream.collect(stream)
    full = fcstream.collect(path.read_bytes())
    assert result.calls == full.calls
    assert result.complete
    # the SDK swallows chat's [DONE]: every choice finished, which is all that can be shown
    assert result.status == ("finished" if api == "chat" else full.status)
    assert len(server.requests) == before + 1


@pytest.mark.parametrize(("api", "path"), CASES)
async def test_partly_consumed_async_stream_converts_the_rest(aclient, api, path):
    stream = await create(aclient, api, path.stem)
    await stream.__anext__()
    result = await fcstream.acollect(stream)
    assert result.calls == fcstream.collect(path.read_bytes()).calls
    assert result.complete


def test_consumed_objects_are_gone(client):
    stream = create(client, "chat", CHAT_PARALLEL.stem)
    for _ in range(3):  # role chunk, the first call's start (its id and name), one fragment
        next(stream)
    result = fcstream.collect(stream, strict=False)
    first, second = result.calls
    assert first.name is None  # started before fcstream saw the stream
    assert not first.complete
    assert second.name == "get_stock_price"
    assert second.complete


def test_fully_consumed_stream_has_nothing_left(client):
    stream = create(client, "chat", CHAT_PARALLEL.stem)
    list(stream)
    result = fcstream.collect(stream)
    assert result.calls == []
    assert result.status == "truncated"


def test_sdk_objects_and_dicts_are_items_too(client):
    chunks = list(create(client, "chat", CHAT_PARALLEL.stem))
    from_objects = fcstream.collect(chunks)
    from_dicts = fcstream.collect([c.to_dict() for c in chunks])
    assert (
        from_objects.calls == from_dicts.calls == fcstream.collect(CHAT_PARALLEL.read_bytes()).calls
    )


# -- errors ---------------------------------------------------------------------------------


def _provider_error(events) -> ProviderError:
    (error,) = [e.error for e in events if isinstance(e, ErrorEvent)]
    assert isinstance(error, ProviderError)
    return error


@pytest.mark.parametrize("consumed", [0, 1], ids=["raw", "parsed"])
def test_error_object_mid_stream(client, consumed):
    stream = create(client, "chat", "chat-error")
    for _ in range(consumed):
        next(stream)
    events = list(fcstream.iter_events(stream))  # the SDK raises APIError on its own path
    error = _provider_error(events)
    assert (error.message, error.type, error.code) == ("overloaded", "server_error", "busy")
    (cut,) = [e for e in events if isinstance(e, CallIncomplete)]
    assert cut.call.name == "get_weather"
    assert not events[-1].complete


@pytest.mark.parametrize("consumed", [0, 1], ids=["raw", "parsed"])
@pytest.mark.parametrize(
    ("api", "model", "path"),
    [("chat", "drop-chat", CHAT_PARALLEL), ("responses", "drop-responses", RESPONSES_PARALLEL)],
)
def test_connection_dropped_mid_event(client, consumed, api, model, path):
    stream = create(client, api, model)
    for _ in range(consumed):
        next(stream)
    events = []
    with pytest.raises(IncompleteStreamError) as caught:
        events.extend(fcstream.iter_events(stream))
    cause = type(caught.value.__cause__).__name__
    # raw: the HTTP library's own error; parsed: the SDK's wrapper of it
    assert cause == ("RemoteProtocolError" if consumed == 0 else "APIConnectionError")
    assert_dropped(events, caught.value.calls, path)


@pytest.mark.parametrize("consumed", [0, 1], ids=["raw", "parsed"])
async def test_connection_dropped_mid_event_async(aclient, consumed):
    stream = await create(aclient, "responses", "drop-responses")
    for _ in range(consumed):
        await stream.__anext__()
    events = []

    async def read() -> None:
        async for event in fcstream.aiter_events(stream):
            events.append(event)

    with pytest.raises(IncompleteStreamError) as caught:
        await read()
    assert_dropped(events, caught.value.calls, RESPONSES_PARALLEL)


def test_200_json_error_body_raises_where_the_sdk_yields_nothing(client):
    assert list(create(client, "chat", "fault:json_error")) == []  # the SDK alone
    with pytest.raises(ProviderError) as caught:
        fcstream.collect(create(client, "responses", "fault:json_error"))
    assert caught.value.type == "server_error"
    assert caught.value.api == "responses"


async def test_200_json_error_body_async(aclient):
    stream = await create(aclient, "chat", "fault:json_error")
    with pytest.raises(ProviderError):
        await fcstream.acollect(stream)


def test_wrong_content_type(client):
    stream = create(client, "chat", f"fault:content_type:{CHAT_PARALLEL.stem}")
    with pytest.raises(ContentTypeError) as caught:
        fcstream.collect(stream)
    assert caught.value.content_type == "text/plain; charset=utf-8"


def test_non_2xx_is_the_sdks_own_error(client):
    with pytest.raises(openai.InternalServerError):
        create(client, "chat", "fault:status")


# -- openai stays a test extra --------------------------------------------------------------


def test_fcstream_never_imports_openai():
    package = Path(fcstream.__file__).parent
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            assert not any(n.split(".")[0] == "openai" for n in names), module.name
    code = (
        "import sys, fcstream; "
        f"fcstream.collect(open({str(CHAT_PARALLEL)!r}, 'rb').read()); "
        "print('openai' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_done_event_is_last(client):
    events = list(fcstream.iter_events(create(client, "chat", CHAT_PARALLEL.stem)))
    assert isinstance(events[-1], StreamDone)
    assert events[-1].status == "done"
