"""Replay server: recorded SSE streams served over real HTTP, for tests, benchmarks, the demo and
anyone else's tests. Standard library only (``http.server``), one thread per connection.

What it answers (any path prefix works; ``base_url`` ends in ``/v1``):

- ``POST .../chat/completions`` and ``POST .../responses``: one recording as
  ``text/event-stream; charset=utf-8``, HTTP/1.1 chunked, the file's bytes exactly, written in
  chunks that cut events at arbitrary points (``chunking``). The recording is the file whose
  stem equals the request's ``"model"``; otherwise the next file in turn among the recordings of
  the endpoint's API (chat or Responses, sniffed from the first payload), or among all files if
  none is. A JSON body whose ``"stream"`` is not ``true`` gets a 400 JSON error: the server only
  streams. A body that is not JSON is served like an unknown model.
- ``GET .../models``: the recordings' stems as an OpenAI model list.

``pace_ms`` sleeps that long after each SSE event (a realistic pace for demos); without it the
chunks go out back to back. An openai SDK client with ``base_url=server.base_url`` works
unchanged.

Faults, for tests of error handling (ours and other people's), are chosen per request by model
name -- ``fault:KIND`` or ``fault:KIND:ARG`` -- or mapped from any model name with the
``faults`` option (a :class:`Fault` each):

======================  ===================================================================
``drop[:STEM]``         send the first half of the recording (cut inside an event), then close
                        the connection without ending the chunked body
``drip[:STEM]``         the recording one byte per write, ``delay_ms`` apart
``status[:CODE]``       ``CODE`` (default 502) with a proxy's HTML error page
``json_error``          200 ``application/json`` ``{"error": {...}}`` instead of a stream
``content_type[:STEM]`` 200 with the recording as ``text/plain``
======================  ===================================================================

``Fault(echo_headers=True)`` makes the body repeat the request's headers (an SSE comment ahead
of a stream, or inside an error body), as some debugging proxies do: it lets a test prove that
a secret sent in a header is not written anywhere by the client. Received requests are kept in
memory (``requests``, headers included) and never printed; the ``log`` callback gets one line
per request without headers.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final, Literal

import msgspec

from ._errors import UsageError
from ._http_check import api_from_url

__all__ = ["Fault", "RecordedRequest", "ReplayServer", "serve_forever"]

FaultKind = Literal["none", "drop", "drip", "status", "json_error", "content_type"]
_KINDS: Final = ("none", "drop", "drip", "status", "json_error", "content_type")

FAULT_PREFIX: Final = "fault:"
DEFAULT_CHUNKING: Final = (1, 97)
"""Chunk sizes drawn in this inclusive range: small enough to split most lines, events and
UTF-8 characters, and prime-ish so cuts drift across event boundaries."""

_EVENT_END: Final = re.compile(rb"(?:\r\n|\r|\n)(?:\r\n|\r|\n)")
_FIRST_DATA: Final = re.compile(rb"^data:[ ]?(.*)$", re.MULTILINE)
_READ_TIMEOUT: Final = 30.0  # an idle keep-alive connection is closed after this many seconds

_HTML_ERROR: Final = """<html>
<head><title>{code} {phrase}</title></head>
<body>
<center><h1>{code} {phrase}</h1></center>
<hr><center>fcstream replay server (fault: status)</center>
{echo}</body>
</html>
"""


@dataclass(frozen=True)
class Fault:
    """What to do instead of (or besides) a plain replay for one request.

    ``kind``: ``none`` (plain replay: with ``file`` to pin a recording, or ``echo_headers``),
    ``drop``, ``drip``, ``status``, ``json_error``, ``content_type`` (module docstring).
    ``file``: the stem to serve (``None``: chosen as usual). ``at``: for ``drop``, the body bytes
    sent before the connection is closed (``None``: half the file, moved off an event boundary).
    ``status``: the status code for ``status`` (and ``json_error``, which defaults to 200).
    ``delay_ms``: the pause between bytes for ``drip``. ``body``: replaces the error body of
    ``status``/``json_error``. ``content_type``: for ``content_type``.
    """

    kind: FaultKind = "none"
    file: str | None = None
    at: int | None = None
    status: int | None = None
    delay_ms: float = 0.2
    body: bytes | None = None
    content_type: str = "text/plain; charset=utf-8"
    echo_headers: bool = False

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise UsageError(f"unknown fault kind {self.kind!r}; expected one of {_KINDS}")


def parse_fault(model: str) -> Fault | None:
    """``fault:KIND[:ARG]`` -> :class:`Fault`; ``None`` for any other model name."""
    if not model.startswith(FAULT_PREFIX):
        return None
    kind, _, arg = model[len(FAULT_PREFIX) :].partition(":")
    kind = kind.replace("-", "_")
    if kind not in _KINDS:
        return None
    if kind == "status":
        return Fault("status", status=int(arg) if arg.isdigit() else None)
    return Fault(kind, file=arg or None)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received (kept in memory only; never printed). Header names are
    lower-cased, as HTTP compares them without case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    model: str | None
    served: str | None
    """The stem of the recording served, if any."""


@dataclass
class _Recording:
    stem: str
    path: str
    data: bytes
    api: str
    ends: list[int] = field(default_factory=list)
    """Offsets just past each event's blank line: where pacing sleeps."""


def _sniff_api(data: bytes) -> str:
    """``responses`` when the first payload names a ``response.*`` type, else ``chat``."""
    match = _FIRST_DATA.search(data, 0, 64 * 1024)
    line = match.group(1) if match else b""
    if b'"type":"response.' in line.replace(b" ", b"") or data.lstrip().startswith(
        b"event: response."
    ):
        return "responses"
    return "chat"


def _load(files: Sequence[str | os.PathLike[str]] | Mapping[str, bytes]) -> list[_Recording]:
    if isinstance(files, Mapping):
        items = [(stem, f"<{stem}>", bytes(data)) for stem, data in files.items()]
    else:
        items = [(Path(f).stem, str(f), Path(f).read_bytes()) for f in files]
    if not items:
        raise UsageError("the replay server needs at least one recording")
    seen: dict[str, str] = {}
    recordings = []
    for stem, path, data in items:
        if stem in seen:
            raise UsageError(f"two recordings named {stem!r}: {seen[stem]} and {path}")
        seen[stem] = path
        ends = [m.end() for m in _EVENT_END.finditer(data)]
        recordings.append(_Recording(stem, path, data, _sniff_api(data), ends))
    return recordings


def _pieces(
    rec: _Recording,
    rng: random.Random,
    chunking: int | tuple[int, int],
    *,
    stop: int,
    paced: bool,
) -> Iterator[tuple[int, int, bool]]:
    """``(start, end, ends_event)`` spans covering ``rec.data[:stop]``: sizes from ``chunking``,
    also cut at event ends when pacing (so the pause falls between events)."""
    lo, hi = (chunking, chunking) if isinstance(chunking, int) else chunking
    ends = set(rec.ends)
    next_end = iter(rec.ends)
    boundary = next(next_end, None)
    pos = 0
    while pos < stop:
        end = min(pos + rng.randint(lo, hi), stop)
        if paced:
            while boundary is not None and boundary <= pos:
                boundary = next(next_end, None)
            if boundary is not None and boundary < end:
                end = boundary
        yield pos, end, end in ends
        pos = end


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    # -- plumbing --------------------------------------------------------------------------

    def setup(self) -> None:
        super().setup()
        # Without TCP_NODELAY, Nagle's algorithm and the client's delayed ACK hold small
        # writes back ~40 ms each, which would turn a drip into a crawl.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connection.settimeout(_READ_TIMEOUT)
        self.server.owner._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.owner._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silenced: the default writes to stderr; ``ReplayServer.log`` gets one line instead."""

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_whole(
        self, status: int, content_type: str, body: bytes, extra: Mapping[str, str] = {}
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _send_json(self, status: int, value: Any) -> None:
        self._send_whole(status, "application/json", msgspec.json.encode(value))

    def _echo(self) -> str:
        return "".join(f"{name}: {value}\n" for name, value in self.headers.items())

    # -- routes ----------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self.path.partition("?")[0].rstrip("/")
        if not path.endswith("/models"):
            self._send_json(404, _error(f"no route for GET {path}", "not_found"))
            return
        owner = self.server.owner
        models = [
            {"id": r.stem, "object": "model", "created": 0, "owned_by": "fcstream"}
            for r in owner.recordings
        ]
        self._send_json(200, {"object": "list", "data": models})

    def do_POST(self) -> None:
        owner = self.server.owner
        body = self._read_body()
        path = self.path.partition("?")[0]
        api = api_from_url(path)
        request: Any = None
        try:
            request = msgspec.json.decode(body) if body else None
        except msgspec.DecodeError:
            request = None
        model = request.get("model") if isinstance(request, dict) else None
        model = model if isinstance(model, str) else None

        def note(served: str | None, what: str) -> int:
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = RecordedRequest("POST", self.path, headers, body, model, served)
            return owner._note(request, what)

        if api is None:
            note(None, "404")
            self._send_json(404, _error(f"no route for POST {path}", "not_found"))
            return
        if isinstance(request, dict) and request.get("stream") is not True:
            note(None, "400 (not streaming)")
            self._send_json(
                400,
                _error(
                    'fcstream replay server only streams: send "stream": true',
                    "invalid_request_error",
                ),
            )
            return
        fault = owner._fault_for(model)
        rec = None
        if fault.kind not in ("status", "json_error"):  # those send no recording
            rec = owner._choose(api, fault.file or model)
        served = rec.stem if rec is not None else None
        number = note(served, f"{served or 'no recording'} (fault: {fault.kind})")
        try:
            self._answer(rec, fault, number)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client went away: nothing left to do

    def _answer(self, rec: _Recording | None, fault: Fault, number: int) -> None:
        owner = self.server.owner
        echo = self._echo() if fault.echo_headers else ""
        if fault.kind == "status":
            code = fault.status or 502
            phrase = self.responses.get(code, ("Error",))[0]
            html = _HTML_ERROR.format(
                code=code, phrase=phrase, echo=f"<pre>{echo}</pre>\n" if echo else ""
            )
            self._send_whole(code, "text/html", fault.body or html.encode())
            return
        if fault.kind == "json_error":
            message = "The server is overloaded (fcstream fault: json_error)"
            if echo:
                message += f"; request headers: {echo}"
            error = fault.body or msgspec.json.encode(_error(message, "server_error"))
            self._send_whole(fault.status or 200, "application/json", error)
            return
        assert rec is not None  # chosen for every kind that sends a recording
        content_type = "text/event-stream; charset=utf-8"
        if fault.kind == "content_type":
            content_type = fault.content_type
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("X-Request-Id", f"req_fcstream_{number}")
        self.end_headers()
        if echo:
            comment = "".join(f": {line}\n" for line in echo.splitlines()) + "\n"
            self._chunk(comment.encode())
        data = rec.data
        stop = len(data)
        if fault.kind == "drop":
            stop = fault.at if fault.at is not None else _mid_event(rec)
            stop = max(0, min(stop, len(data)))
        if fault.kind == "drip":
            for i in range(stop):
                self._chunk(data[i : i + 1])
                if owner._closing.wait(fault.delay_ms / 1000):
                    self.close_connection = True  # the server is closing: cut the reply
                    return
        else:
            pace = owner.pace_ms
            rng = random.Random(f"{owner.seed}/{number}")  # reproducible per request number
            for start, end, ends_event in _pieces(
                rec, rng, owner.chunking, stop=stop, paced=bool(pace)
            ):
                self._chunk(data[start:end])
                if pace and ends_event and end < stop and owner._closing.wait(pace / 1000):
                    self.close_connection = True
                    return
        if fault.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)  # no final chunk: a broken body
            return
        self.wfile.write(b"0\r\n\r\n")

    def _chunk(self, piece: bytes) -> None:
        if piece:  # one write per chunk: header, data and CRLF leave in one segment
            self.wfile.write(b"%x\r\n%b\r\n" % (len(piece), piece))


def _mid_event(rec: _Recording) -> int:
    """Half the file, moved back off an event boundary so the cut lands inside an event."""
    at = len(rec.data) // 2
    ends = set(rec.ends)
    while at > 0 and at in ends:
        at -= 1
    return at


def _error(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


class _HTTPServer(ThreadingHTTPServer):
    owner: ReplayServer
    request_queue_size = 1024  # the default backlog of 5 refuses bursts of concurrent clients

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet for network errors (a client that went away); a traceback for anything else."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


class ReplayServer:
    """The replay server, run in a background thread; a context manager.

    ``files``: recording paths (the stem names each), or a ``{stem: bytes}`` mapping.
    ``port=0`` picks a free port; ``host`` defaults to loopback only. ``chunking``: a fixed
    chunk size, or an inclusive ``(min, max)`` range drawn from ``random.Random`` seeded with
    ``seed`` and the request's number, so a run is reproducible. ``faults`` maps model names to
    :class:`Fault`\\ s (``fault:...`` model names work without it). ``log`` receives one line per
    request. ``requests`` lists what was received. Raises ``OSError`` if the address is taken,
    ``UsageError`` for no files or two files with one stem.
    """

    def __init__(
        self,
        files: Sequence[str | os.PathLike[str]] | Mapping[str, bytes],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        pace_ms: float | None = None,
        chunking: int | tuple[int, int] = DEFAULT_CHUNKING,
        seed: int = 0,
        faults: Mapping[str, Fault] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        lo, hi = (chunking, chunking) if isinstance(chunking, int) else chunking
        if not 1 <= lo <= hi:
            raise UsageError(f"chunking must be a size >= 1 or a (min, max) range: {chunking!r}")
        self.recordings = _load(files)
        self.pace_ms = pace_ms or None
        self.chunking = chunking
        self.seed = seed
        self.faults = dict(faults or {})
        self.log = log
        self.requests: list[RecordedRequest] = []
        self._by_stem = {r.stem: r for r in self.recordings}
        self._turn: dict[str, int] = {}
        self._count = 0
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._connections: set[socket.socket] = set()
        cls = _HTTPServer6 if ":" in host else _HTTPServer
        self._httpd = cls((host, port), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    # -- addresses -------------------------------------------------------------------------

    @property
    def host(self) -> str:
        return str(self._httpd.server_address[0])

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` (no path)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """``http://HOST:PORT/v1``: what an OpenAI client takes as ``base_url``."""
        return self.url + "/v1"

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> ReplayServer:
        """Start serving in a daemon thread (idempotent); returns ``self``."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever,
                kwargs={"poll_interval": 0.05},
                name=f"fcstream-replay-{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, cut open connections (a paced or dripping reply stops at once)."""
        self._closing.set()
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- used by the handler ---------------------------------------------------------------

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _note(self, request: RecordedRequest, what: str) -> int:
        """Keep ``request``; return its 0-based number (it seeds the request's chunk sizes)."""
        with self._lock:
            self.requests.append(request)
            number = self._count
            self._count += 1
        if self.log is not None:
            self.log(f"{request.method} {request.path} model={request.model!r} -> {what}")
        return number

    def _fault_for(self, model: str | None) -> Fault:
        if model is None:
            return Fault()
        return self.faults.get(model) or parse_fault(model) or Fault()

    def _choose(self, api: str, model: str | None) -> _Recording:
        rec = self._by_stem.get(model) if model is not None else None
        if rec is not None:
            return rec
        pool = [r for r in self.recordings if r.api == api] or self.recordings
        with self._lock:
            turn = self._turn.get(api, 0)
            self._turn[api] = turn + 1
        return pool[turn % len(pool)]


def serve_forever(
    files: Sequence[Path],
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    pace_ms: float | None = None,
) -> int:
    """``fcstream serve``: serve until interrupted (Ctrl-C or SIGTERM); return the exit status.

    The first line on stdout is exactly ``fcstream serve: <base_url>`` (for example
    ``fcstream serve: http://127.0.0.1:8765/v1``), flushed at once, so a script can read the
    URL as the line's last word. The recordings and one line per request go to stderr.
    Exit status: 0 after an interrupt, 2 when a file cannot be read or the address is taken.
    """
    import signal

    def log(line: str) -> None:
        print(f"fcstream serve: {line}", file=sys.stderr, flush=True)

    try:
        server = ReplayServer(files, host=host, port=port, pace_ms=pace_ms, log=log)
    except (OSError, UsageError) as exc:
        print(f"fcstream serve: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()
    previous: dict[signal.Signals, Any] = {}
    if threading.current_thread() is threading.main_thread():
        # Both signals only set ``stop``: a KeyboardInterrupt raised at an arbitrary point
        # (inside a lock's wait, say) could leave the shutdown waiting on a held lock.
        for number in (signal.SIGINT, signal.SIGTERM):
            previous[number] = signal.signal(number, lambda *_: stop.set())
    try:
        with server:
            print(f"fcstream serve: {server.base_url}", flush=True)
            for rec in server.recordings:
                log(f"model {rec.stem!r} ({rec.api}, {len(rec.data)} bytes): {rec.path}")
            while not stop.wait(0.2):
                pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    return 0
