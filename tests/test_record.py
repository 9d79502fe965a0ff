"""``fcstream record`` against the real replay server: the bytes exactly as received, and the API
key nowhere -- not in the file, stdout, stderr, log records or leftovers -- even when a server
echoes the request headers back."""

from __future__ import annotations

import json
import logging
import socket
from pathlib import Path

import pytest

from fcstream._record import record
from fcstream._server import Fault, ReplayServer

from .servers import CHAT_PARALLEL, RESPONSES_PARALLEL

KEY = "sk-fcstream-test-0123456789abcdefSECRET"
ENV = "FCSTREAM_TEST_API_KEY"

FAULTS = {
    "echo-status": Fault("status", echo_headers=True),
    "echo-json": Fault("json_error", echo_headers=True),
    "echo-stream": Fault(echo_headers=True, file=CHAT_PARALLEL.stem),
    "drop": Fault("drop", file=CHAT_PARALLEL.stem),
}


@pytest.fixture
def server():
    lines: list[str] = []
    with ReplayServer([CHAT_PARALLEL, RESPONSES_PARALLEL], faults=FAULTS, log=lines.append) as s:
        s.log_lines = lines  # type: ignore[attr-defined]
        yield s


@pytest.fixture(autouse=True)
def key(monkeypatch, caplog):
    monkeypatch.setenv(ENV, KEY)
    caplog.set_level(logging.DEBUG)  # httpx and httpcore log requests at DEBUG
    return KEY


def body_file(tmp_path: Path, model: str, **extra) -> Path:
    path = tmp_path / "body.json"
    path.write_text(json.dumps({"model": model, "messages": [], **extra}))
    return path


def run(
    server, tmp_path: Path, model: str, *, api: str = "chat", url: str | None = None, **extra
) -> tuple[int, Path]:
    out = tmp_path / "out" / "stream.sse"
    status = record(
        api=api,
        url=url or server.base_url + "/chat/completions",
        body=body_file(tmp_path, model, stream=True, **extra),
        out=out,
        api_key_env=ENV,
    )
    return status, out


def assert_key_nowhere(tmp_path: Path, capsys, caplog, server=None) -> str:
    """The key is in no output, log record, server log line or file; returns stderr."""
    out, err = capsys.readouterr()
    for text in (out, err, caplog.text):
        assert KEY not in text
    assert all(KEY not in r.getMessage() for r in caplog.records)
    if server is not None:
        assert not any(KEY in line for line in server.log_lines)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    return err


def test_saves_the_bytes_exactly_and_sends_the_key(server, tmp_path, capsys, caplog):
    status, out = run(server, tmp_path, CHAT_PARALLEL.stem)
    assert status == 0
    assert out.read_bytes() == CHAT_PARALLEL.read_bytes()
    (request,) = server.requests
    assert request.headers["authorization"] == f"Bearer {KEY}"  # the key was used...
    assert request.headers["accept"] == "text/event-stream"
    assert_key_nowhere(tmp_path, capsys, caplog, server)  # ...and written nowhere
    assert sorted(p.name for p in out.parent.iterdir()) == ["stream.sse"]  # no temp file left


def test_reports_what_it_saved(server, tmp_path, capsys):
    run(server, tmp_path, CHAT_PARALLEL.stem)
    out = capsys.readouterr().out
    assert f"saved {len(CHAT_PARALLEL.read_bytes())} bytes" in out
    assert "2 calls, stream done" in out


def test_default_key_variable(server, tmp_path, monkeypatch, capsys, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    out = tmp_path / "x.sse"
    body = body_file(tmp_path, CHAT_PARALLEL.stem, stream=True)
    assert record(api="chat", url=server.base_url, body=body, out=out) == 0
    assert out.read_bytes() == CHAT_PARALLEL.read_bytes()
    assert_key_nowhere(tmp_path, capsys, caplog)


def test_base_url_gets_the_endpoint_of_the_api(server, tmp_path):
    status, out = run(
        server, tmp_path, RESPONSES_PARALLEL.stem, api="responses", url=server.base_url
    )
    assert status == 0
    assert server.requests[0].path == "/v1/responses"
    assert out.read_bytes() == RESPONSES_PARALLEL.read_bytes()


def test_stream_true_is_added_when_missing(server, tmp_path, capsys):
    out = tmp_path / "x.sse"
    body = body_file(tmp_path, CHAT_PARALLEL.stem)
    status = record(api="chat", url=server.base_url, body=body, out=out, api_key_env=ENV)
    assert status == 0
    assert json.loads(server.requests[0].body)["stream"] is True
    assert '"stream": true' in capsys.readouterr().err


def test_body_with_stream_is_sent_byte_for_byte(server, tmp_path):
    body = tmp_path / "body.json"
    body.write_bytes(b'{ "model" : "x",\n  "stream": true, "messages": [] }')
    record(api="chat", url=server.base_url, body=body, out=tmp_path / "o.sse", api_key_env=ENV)
    assert server.requests[0].body == body.read_bytes()


@pytest.mark.parametrize("model", ["echo-status", "echo-json"])
def test_error_bodies_that_echo_the_key_are_redacted(server, tmp_path, capsys, caplog, model):
    status, out = run(server, tmp_path, model)
    assert status == 1
    assert not out.exists()
    err = assert_key_nowhere(tmp_path, capsys, caplog, server)
    assert "nothing saved" in err
    assert "[redacted]" in err  # the echoed header was there, and was replaced


def test_a_stream_that_echoes_the_key_is_refused(server, tmp_path, capsys, caplog):
    status, out = run(server, tmp_path, "echo-stream")
    assert status == 1
    assert not out.exists()
    err = assert_key_nowhere(tmp_path, capsys, caplog, server)
    assert "contains the API key" in err
    assert list(out.parent.iterdir()) == []  # the partial temp file is gone too


def test_dropped_connection_keeps_the_bytes_received(server, tmp_path, capsys, caplog):
    status, out = run(server, tmp_path, "drop")
    assert status == 1
    full = CHAT_PARALLEL.read_bytes()
    assert out.read_bytes() == full[: len(full) // 2]
    err = assert_key_nowhere(tmp_path, capsys, caplog, server)
    assert "connection dropped" in err


def test_unreachable_server(tmp_path, capsys, caplog):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the request: nothing listens
    out = tmp_path / "o.sse"
    body = body_file(tmp_path, "x", stream=True)
    url = f"http://127.0.0.1:{port}/v1"
    assert record(api="chat", url=url, body=body, out=out, api_key_env=ENV) == 1
    assert not out.exists()
    assert "ConnectError" in assert_key_nowhere(tmp_path, capsys, caplog)


def test_usage_errors(server, tmp_path, monkeypatch, capsys, caplog):
    body = body_file(tmp_path, "x", stream=True)
    out = tmp_path / "o.sse"
    assert record(api="completions", url=server.base_url, body=body, out=out, api_key_env=ENV) == 2
    assert (
        record(
            api="chat", url=server.base_url, body=tmp_path / "nope.json", out=out, api_key_env=ENV
        )
        == 2
    )
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]")
    assert record(api="chat", url=server.base_url, body=bad, out=out, api_key_env=ENV) == 2
    assert (
        record(
            api="chat",
            url=server.base_url,
            body=body,
            out=out,
            api_key_env="FCSTREAM_UNSET_VARIABLE",
        )
        == 2
    )
    monkeypatch.setenv(ENV, KEY[:10] + "\n" + KEY[10:])  # would break the header line
    assert record(api="chat", url=server.base_url, body=body, out=out, api_key_env=ENV) == 2
    assert server.requests == []
    assert not out.exists()
    err = assert_key_nowhere(tmp_path, capsys, caplog)
    assert KEY[10:] not in err
    assert "FCSTREAM_UNSET_VARIABLE" in err


def test_unwritable_output(server, tmp_path, capsys, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    body = body_file(tmp_path, CHAT_PARALLEL.stem, stream=True)
    out = blocker / "out.sse"
    assert record(api="chat", url=server.base_url, body=body, out=out, api_key_env=ENV) == 1
    assert "cannot write" in assert_key_nowhere(tmp_path, capsys, caplog, server)
