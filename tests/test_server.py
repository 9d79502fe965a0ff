"""The replay server over real loopback sockets: exact bytes, chunking, file choice, faults,
shutdown, and ``serve_forever`` as a process (with the openai SDK pointed at it)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import msgspec
import pytest

from fcstream import UsageError
from fcstream._server import Fault, ReplayServer, parse_fault, serve_forever

from .servers import (
    CHAT_PARALLEL,
    CHAT_SINGLE,
    RESPONSES_CORPUS,
    RESPONSES_PARALLEL,
    SMALL_CHAT,
    TIMEOUT,
)

CHAT_BODY = {"model": "gpt-4o", "messages": [], "stream": True}


def raw_exchange(server: ReplayServer, body: dict, path: str = "/v1/chat/completions"):
    """POST over a bare socket; return (head, chunk sizes, body bytes, ended cleanly).

    Reading the chunked framing itself shows how the server cut the bytes, which any HTTP
    client would hide.
    """
    payload = msgspec.json.encode(body)
    request = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\nConnection: close\r\n\r\n"
    ).encode() + payload
    with socket.create_connection((server.host, server.port), timeout=TIMEOUT) as sock:
        sock.sendall(request)
        received = bytearray()
        while chunk := sock.recv(65536):
            received += chunk
    head, _, rest = bytes(received).partition(b"\r\n\r\n")
    sizes, parts, ended = [], [], False
    while rest:
        line, _, rest = rest.partition(b"\r\n")
        size = int(line, 16)
        if size == 0:
            ended = True
            break
        if len(rest) < size:  # the connection closed inside a chunk
            parts.append(rest)
            break
        sizes.append(size)
        parts.append(rest[:size])
        rest = rest[size + 2 :]
    return head.decode(), sizes, b"".join(parts), ended


@pytest.fixture
def server():
    with ReplayServer([CHAT_PARALLEL, CHAT_SINGLE, RESPONSES_PARALLEL]) as s:
        yield s


# -- the happy path -------------------------------------------------------------------------


def test_binds_loopback_and_names_its_base_url(server):
    assert server.host == "127.0.0.1"
    assert server.port > 0
    assert server.base_url == f"http://127.0.0.1:{server.port}/v1"


def test_serves_the_file_named_by_the_model_exactly(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        for path in (CHAT_PARALLEL, CHAT_SINGLE):
            body = {**CHAT_BODY, "model": path.stem}
            response = client.post("/chat/completions", json=body)
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
            assert response.content == path.read_bytes()


def test_chunks_cut_events_at_arbitrary_points(server):
    head, sizes, body, ended = raw_exchange(server, {**CHAT_BODY, "model": CHAT_PARALLEL.stem})
    assert "transfer-encoding: chunked" in head.lower()
    assert ended
    assert body == CHAT_PARALLEL.read_bytes()
    assert min(sizes) >= 1
    assert max(sizes) <= 97
    assert len(set(sizes)) > 10
    cuts = set()
    offset = 0
    for size in sizes[:-1]:
        offset += size
        cuts.add(offset)
    event_ends = {i + 2 for i in range(len(body)) if body[i : i + 2] == b"\n\n"}
    assert cuts - event_ends, "some cuts fall inside events"


def test_chunk_sizes_are_reproducible_from_the_seed():
    with (
        ReplayServer([CHAT_PARALLEL], seed=7) as a,
        ReplayServer([CHAT_PARALLEL], seed=7) as b,
        ReplayServer([CHAT_PARALLEL], seed=8) as c,
    ):
        sizes = [raw_exchange(server, CHAT_BODY)[1] for server in (a, b, c)]
    assert sizes[0] == sizes[1]
    assert sizes[0] != sizes[2]


def test_fixed_chunk_size():
    with ReplayServer([CHAT_SINGLE], chunking=10) as server:
        _, sizes, body, _ = raw_exchange(server, CHAT_BODY)
    assert body == CHAT_SINGLE.read_bytes()
    assert set(sizes[:-1]) == {10}


def test_pacing_puts_every_event_end_on_a_chunk_end():
    with ReplayServer([SMALL_CHAT], pace_ms=0.01) as server:
        _, sizes, body, _ = raw_exchange(server, CHAT_BODY)
    assert body == SMALL_CHAT.read_bytes()
    cuts, offset = set(), 0
    for size in sizes:
        offset += size
        cuts.add(offset)
    event_ends = {i + 2 for i in range(len(body)) if body[i : i + 2] == b"\n\n"}
    assert event_ends <= cuts


def test_unknown_models_take_the_files_of_their_api_in_turn(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        chat = [client.post("/chat/completions", json=CHAT_BODY).content for _ in range(3)]
        body = {"model": "gpt-4o", "input": "hi", "stream": True}
        responses = [client.post("/responses", json=body).content for _ in range(2)]
    assert chat == [
        CHAT_PARALLEL.read_bytes(),
        CHAT_SINGLE.read_bytes(),
        CHAT_PARALLEL.read_bytes(),
    ]
    assert responses == [RESPONSES_PARALLEL.read_bytes()] * 2
    assert [r.served for r in server.requests] == [
        CHAT_PARALLEL.stem,
        CHAT_SINGLE.stem,
        CHAT_PARALLEL.stem,
        RESPONSES_PARALLEL.stem,
        RESPONSES_PARALLEL.stem,
    ]


def test_an_endpoint_without_files_of_its_api_takes_any_file():
    with (
        ReplayServer([CHAT_SINGLE]) as server,
        httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client,
    ):
        body = {"model": "x", "input": "hi", "stream": True}
        assert client.post("/responses", json=body).content == CHAT_SINGLE.read_bytes()


def test_in_memory_recordings():
    with (
        ReplayServer({"tiny": b"data: [DONE]\n\n"}) as server,
        httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client,
    ):
        assert client.post("/chat/completions", json=CHAT_BODY).content == b"data: [DONE]\n\n"


def test_models_endpoint_lists_the_stems(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        listing = client.get("/models").json()
    assert [m["id"] for m in listing["data"]] == [
        CHAT_PARALLEL.stem,
        CHAT_SINGLE.stem,
        RESPONSES_PARALLEL.stem,
    ]


def test_requests_are_kept_with_their_headers(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        client.post("/chat/completions", json=CHAT_BODY, headers={"X-Test": "1"})
    (request,) = server.requests
    assert request.method == "POST"
    assert request.path == "/v1/chat/completions"
    assert request.model == "gpt-4o"
    assert request.headers["x-test"] == "1"
    assert msgspec.json.decode(request.body) == CHAT_BODY


def test_not_streaming_and_unknown_paths_get_json_errors(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        not_streaming = client.post("/chat/completions", json={**CHAT_BODY, "stream": False})
        unknown = client.post("/embeddings", json=CHAT_BODY)
        unknown_get = client.get("/files")
    assert not_streaming.status_code == 400
    assert "stream" in not_streaming.json()["error"]["message"]
    assert unknown.status_code == 404
    assert unknown_get.status_code == 404


def test_a_body_that_is_not_json_is_served_like_an_unknown_model(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        response = client.post("/chat/completions", content=b"")
    assert response.content == CHAT_PARALLEL.read_bytes()


def test_keep_alive_connection_serves_several_streams(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        for _ in range(3):
            body = {**CHAT_BODY, "model": CHAT_SINGLE.stem}
            assert client.post("/chat/completions", json=body).content == CHAT_SINGLE.read_bytes()


# -- faults ---------------------------------------------------------------------------------


def test_fault_names():
    assert parse_fault("gpt-4o") is None
    assert parse_fault("fault:nonsense") is None
    assert parse_fault("fault:drop") == Fault("drop")
    assert parse_fault("fault:drop:chat-x") == Fault("drop", file="chat-x")
    assert parse_fault("fault:json-error") == Fault("json_error")
    assert parse_fault("fault:status:429") == Fault("status", status=429)
    with pytest.raises(UsageError):
        Fault("explode")  # type: ignore[arg-type]


def test_drop_closes_the_connection_inside_an_event(server):
    model = f"fault:drop:{CHAT_PARALLEL.stem}"
    _, _, body, ended = raw_exchange(server, {**CHAT_BODY, "model": model})
    full = CHAT_PARALLEL.read_bytes()
    assert not ended
    assert body == full[: len(full) // 2]
    assert not body.endswith(b"\n\n")


def test_drop_at_a_chosen_byte():
    faults = {"cut": Fault("drop", at=100, file=CHAT_SINGLE.stem)}
    with ReplayServer([CHAT_PARALLEL, CHAT_SINGLE], faults=faults) as server:
        _, _, body, ended = raw_exchange(server, {**CHAT_BODY, "model": "cut"})
    assert not ended
    assert body == CHAT_SINGLE.read_bytes()[:100]


def test_drip_writes_one_byte_per_chunk():
    faults = {"slow": Fault("drip", delay_ms=0)}
    with ReplayServer([SMALL_CHAT], faults=faults) as server:
        _, sizes, body, ended = raw_exchange(server, {**CHAT_BODY, "model": "slow"})
    assert ended
    assert body == SMALL_CHAT.read_bytes()
    assert set(sizes) == {1}


def test_status_fault_sends_an_html_page(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        default = client.post("/chat/completions", json={**CHAT_BODY, "model": "fault:status"})
        chosen = client.post("/chat/completions", json={**CHAT_BODY, "model": "fault:status:503"})
    assert default.status_code == 502
    assert default.headers["content-type"] == "text/html"
    assert "<title>502 Bad Gateway</title>" in default.text
    assert chosen.status_code == 503
    assert server.requests[0].served is None


def test_json_error_fault(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        response = client.post("/responses", json={**CHAT_BODY, "model": "fault:json_error"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json()["error"]["type"] == "server_error"


def test_content_type_fault(server):
    with httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client:
        model = f"fault:content_type:{CHAT_SINGLE.stem}"
        response = client.post("/chat/completions", json={**CHAT_BODY, "model": model})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.content == CHAT_SINGLE.read_bytes()


def test_echo_headers_puts_the_headers_in_a_comment_ahead_of_the_stream():
    faults = {"echo": Fault(echo_headers=True, file=CHAT_SINGLE.stem)}
    with (
        ReplayServer([CHAT_SINGLE], faults=faults) as server,
        httpx.Client(base_url=server.base_url, timeout=TIMEOUT) as client,
    ):
        body = {**CHAT_BODY, "model": "echo"}
        response = client.post("/chat/completions", json=body, headers={"X-Secret": "s3"})
    assert response.content.startswith(b": ")
    assert b": X-Secret: s3\n" in response.content
    assert response.content.endswith(CHAT_SINGLE.read_bytes())


# -- life cycle -----------------------------------------------------------------------------


def test_close_cuts_a_paced_reply_short():
    server = ReplayServer([CHAT_PARALLEL], pace_ms=60_000).start()
    outcome: list[object] = []

    def read() -> None:
        try:
            with httpx.Client(timeout=TIMEOUT) as client:
                outcome.append(client.post(server.base_url + "/chat/completions", json=CHAT_BODY))
        except httpx.HTTPError as exc:
            outcome.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    while not server.requests:  # the reply has started and sleeps after its first event
        threading.Event().wait(0.01)
    server.close()
    reader.join(timeout=TIMEOUT)
    assert not reader.is_alive()
    assert isinstance(outcome[0], httpx.RemoteProtocolError)


def test_bad_arguments():
    with pytest.raises(UsageError):
        ReplayServer([])
    with pytest.raises(UsageError):
        ReplayServer({"a": b""}, chunking=(5, 2))
    with pytest.raises(UsageError, match="two recordings"):
        ReplayServer([CHAT_SINGLE, CHAT_SINGLE])


def test_serve_forever_reports_unreadable_files(tmp_path, capsys):
    assert serve_forever([tmp_path / "missing.sse"]) == 2
    assert "missing.sse" in capsys.readouterr().err


# -- serve_forever as a process -------------------------------------------------------------


def start_serve(*files: Path) -> tuple[subprocess.Popen[str], str]:
    code = (
        "import sys; from pathlib import Path; from fcstream._server import serve_forever; "
        "sys.exit(serve_forever([Path(a) for a in sys.argv[1:]]))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, *map(str, files)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("fcstream serve: http://127.0.0.1:"), first
    return process, first.split()[-1]


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT])
def test_serve_forever_prints_its_url_and_stops_cleanly(stop):
    process, base_url = start_serve(CHAT_SINGLE)
    try:
        assert base_url.endswith("/v1")
        with httpx.Client(timeout=TIMEOUT) as client:
            body = client.post(base_url + "/chat/completions", json=CHAT_BODY).content
        assert body == CHAT_SINGLE.read_bytes()
    finally:
        process.send_signal(stop)
        out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0
    assert out == ""  # the URL line was the only stdout line
    assert CHAT_SINGLE.stem in err


@pytest.fixture(scope="module")
def served():
    process, base_url = start_serve(CHAT_PARALLEL, RESPONSES_CORPUS)
    yield base_url
    process.terminate()
    process.communicate(timeout=TIMEOUT)


def test_openai_sdk_sync_against_fcstream_serve(served):
    openai = pytest.importorskip("openai")
    import fcstream

    client = openai.OpenAI(base_url=served, api_key="sk-test", max_retries=0, timeout=TIMEOUT)
    with client:
        chat = client.chat.completions.create(
            model=CHAT_PARALLEL.stem, messages=[{"role": "user", "content": "hi"}], stream=True
        )
        chunks = list(chat)  # the SDK alone, unchanged
        assert chunks[1].choices[0].delta.tool_calls[0].function.name == "GetWeatherArgs"
        responses = client.responses.create(model=RESPONSES_CORPUS.stem, input="hi", stream=True)
        result = fcstream.collect(responses)
    assert result.complete
    assert [c.name for c in result.calls] == ["secret_retrieval_tool"] * 2


async def test_openai_sdk_async_against_fcstream_serve(served):
    openai = pytest.importorskip("openai")
    import fcstream

    async with openai.AsyncOpenAI(
        base_url=served, api_key="sk-test", max_retries=0, timeout=TIMEOUT
    ) as client:
        chat = await client.chat.completions.create(
            model=CHAT_PARALLEL.stem, messages=[], stream=True
        )
        result = await fcstream.acollect(chat)
        assert [c.name for c in result.calls] == ["GetWeatherArgs", "get_stock_price"]
        responses = await client.responses.create(
            model=RESPONSES_CORPUS.stem, input="hi", stream=True
        )
        events = [event async for event in responses]  # the SDK alone, unchanged
    assert events[-1].type == "response.completed"
