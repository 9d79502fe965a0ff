"""``fcstream record``: save the raw bytes of one live stream, exactly as received.

The body is the response after HTTP content decoding (``iter_bytes``: gzip undone, nothing
else), which is what the corpus stores and what a parser sees. The request is the JSON in
``--body`` (``"stream": true`` added if missing), POSTed with ``Accept: text/event-stream`` and
``Authorization: Bearer`` + the key from the environment variable ``api_key_env``.

The key is a secret, so the recorder keeps it out of everything it writes:

- it is read from the environment only, never from an option (which would sit in shell history
  and process listings);
- every message (stdout, stderr) passes through :func:`_redact`, which replaces the key: a
  proxy's error page may echo request headers back, and an exception message may quote them;
- the output is written through a guard that holds back the last ``len(key) - 1`` bytes until
  the next chunk arrives, so a key echoed inside the stream itself is caught before any of it
  reaches the disk; the recording is then refused (an altered copy would not be "exactly as
  received");
- nothing is logged; httpx's own log lines name the method, URL and status, not headers.

Bytes go to a temporary file next to ``out`` and are renamed into place, so ``out`` never holds
half a success. A connection dropped mid-stream still keeps what arrived (a truncated stream is
worth recording) and exits with status 1.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, Final, cast

import httpx
import msgspec

from ._errors import FcstreamError
from ._events import StreamDone
from ._http_check import EXCERPT_LIMIT, is_event_stream, media_type, read_bounded
from ._parser import ApiChoice, StreamParser

__all__ = ["record"]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2

_ENDPOINTS: Final = {"chat": "/chat/completions", "responses": "/responses"}
_REDACTED: Final = "[redacted]"
_TIMEOUT: Final = httpx.Timeout(30.0, read=300.0)
"""Connect/write/pool 30 s; a read may wait 5 minutes: reasoning models pause long."""


class _KeyFound(Exception):
    """The response contains the API key: refuse to save it."""


def _redact(text: str, key: str) -> str:
    return text.replace(key, _REDACTED) if key else text


def _say(message: str, key: str, *, error: bool = True) -> None:
    stream = sys.stderr if error else sys.stdout
    print(f"fcstream record: {_redact(message, key)}", file=stream, flush=True)


def _endpoint_url(url: str, api: str) -> str:
    """``url`` as given when it already names an endpoint, else with the API's path appended
    (``https://api.openai.com/v1`` -> ``.../v1/chat/completions``)."""
    parsed = httpx.URL(url)
    path = parsed.path.rstrip("/")
    if path.endswith(("/chat/completions", "/responses")):
        return url
    return str(parsed.copy_with(path=path + _ENDPOINTS[api]))


class _GuardedWriter:
    """Writes bytes to ``file`` unless they contain ``key``; holds back a possible key prefix."""

    def __init__(self, file: IO[bytes], key: bytes) -> None:
        self._file = file
        self._key = key
        self._held = b""
        self.size = 0

    def write(self, chunk: bytes) -> None:
        pending = self._held + chunk
        if self._key in pending:
            raise _KeyFound
        keep = len(self._key) - 1
        cut = max(len(pending) - keep, 0)
        self._file.write(pending[:cut])
        self._held = pending[cut:]
        self.size += len(chunk)

    def close(self) -> None:
        self._file.write(self._held)
        self._held = b""


def _summary(data: bytes, api: str) -> str:
    """What the saved bytes hold, read leniently: a quick check that the recording is usable."""
    parser = StreamParser(cast(ApiChoice, api), strict=False)
    try:
        events = [*parser.feed(data), *parser.finish()]
    except FcstreamError as exc:  # only framing errors are raised in lenient mode
        return f"not readable as {api} SSE: {exc}"
    except Exception as exc:  # the bytes are saved already; a summary must not undo that
        return f"no summary ({type(exc).__name__}: {exc})"
    status = next((e.status for e in events if isinstance(e, StreamDone)), "?")
    return f"{parser.events_seen} events, {len(parser.calls)} calls, stream {status}"


def record(
    *, api: str, url: str, body: Path, out: Path, api_key_env: str = "OPENAI_API_KEY"
) -> int:
    """``fcstream record``: POST ``body`` to ``url`` and save the streamed response to ``out``.

    Returns 0 when the whole stream was saved, 1 when the server or the connection failed (an
    HTTP error or a non-stream body leaves ``out`` untouched; a dropped connection keeps the
    bytes received), 2 for usage errors (unknown ``api``, missing key, unreadable body).
    """
    if api not in _ENDPOINTS:
        _say(f"--api must be 'chat' or 'responses', not {api!r}", "")
        return EXIT_USAGE
    key = os.environ.get(api_key_env, "").strip()
    if not key:
        _say(f"set the API key in the environment variable {api_key_env}", "")
        return EXIT_USAGE
    if not all(0x21 <= ord(ch) <= 0x7E for ch in key):
        # httpx would reject it, quoting the header value in its message: refuse first.
        _say(f"the value of {api_key_env} has characters not allowed in an HTTP header", key)
        return EXIT_USAGE
    try:
        payload = _request_body(body)
    except (OSError, ValueError) as exc:
        _say(f"cannot use {body} as the request body: {exc}", key)
        return EXIT_USAGE
    try:
        target = _endpoint_url(url, api)
    except (httpx.InvalidURL, ValueError) as exc:
        _say(f"invalid --url: {exc}", key)
        return EXIT_USAGE
    headers = {
        "Authorization": f"Bearer {key}",
        "Content-Type": "application/json",
        "Accept": "text/event-stream",
    }
    try:
        with (
            httpx.Client(timeout=_TIMEOUT, follow_redirects=False) as client,
            client.stream("POST", target, content=payload, headers=headers) as response,
        ):
            return _save(response, api, out, key)
    except httpx.HTTPError as exc:
        _say(f"request to {target} failed: {type(exc).__name__}: {exc}", key)
        return EXIT_FAILED
    except OSError as exc:  # the output directory or file cannot be written
        _say(f"cannot write {out}: {exc}", key)
        return EXIT_FAILED


def _request_body(path: Path) -> bytes:
    """The body file's bytes, sent as they are unless ``"stream": true`` must be added."""
    raw = path.read_bytes()
    try:
        value: Any = msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise ValueError(f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    if value.get("stream") is True:
        return raw
    value["stream"] = True
    print('fcstream record: added "stream": true to the request body', file=sys.stderr)
    return msgspec.json.encode(value)


def _save(response: httpx.Response, api: str, out: Path, key: str) -> int:
    content_type = response.headers.get("content-type")
    if not is_event_stream(response.status_code, content_type):
        chunks = response.iter_bytes()
        try:
            excerpt = read_bounded(chunks, EXCERPT_LIMIT).decode("utf-8", "replace")
        finally:
            chunks.close()  # type: ignore[attr-defined]
        what = media_type(content_type) or "no content type"
        _say(
            f"HTTP {response.status_code} ({what}) from {response.url}, nothing saved: {excerpt}",
            key,
        )
        return EXIT_FAILED
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    tmp = Path(tmp_name)
    dropped: str | None = None
    try:
        with os.fdopen(fd, "wb") as file:
            writer = _GuardedWriter(file, key.encode())
            try:
                for chunk in response.iter_bytes():
                    writer.write(chunk)
            except httpx.RequestError as exc:  # transport or decoding failure mid-stream
                dropped = f"{type(exc).__name__}: {exc}"
            writer.close()
        os.replace(tmp, out)
    except _KeyFound:
        _say(
            "the response contains the API key (a server or proxy echoed it back); "
            "refusing to save it, nothing written",
            key,
        )
        return EXIT_FAILED
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    summary = _summary(out.read_bytes(), api)
    if dropped is not None:
        _say(
            f"connection dropped after {writer.size} bytes ({dropped}); "
            f"saved the bytes received to {out} ({summary})",
            key,
        )
        return EXIT_FAILED
    _say(f"saved {writer.size} bytes to {out} ({summary})", key, error=False)
    return EXIT_OK
