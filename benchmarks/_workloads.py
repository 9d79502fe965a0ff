"""The streams the benchmarks run on: corpus recordings (read in place) and synthetic streams.

Recordings are read from ``../shared/corpus`` beside the repository, never copied into it. Each
stream is kept whole (``data``) and cut once, outside any timing, into network-sized chunks
(``chunks``: 1-4 KB, fixed seed) for candidates that read like a socket would deliver, and
on demand into one event per read (``event_reads``), as a live stream arrives.

Synthetic streams come from ``fixtures.generate`` (the same generator the tests use), built
once per process: the 1 MB streams take seconds to generate and several benchmarks share them.
"""

from __future__ import annotations

import random
import re
import sys
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Literal

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"

if str(ROOT) not in sys.path:  # fixtures/ is imported from the repository, not installed
    sys.path.append(str(ROOT))

from fcstream._sse import SSEFramer  # noqa: E402

__all__ = [
    "CORPUS",
    "KB",
    "MB",
    "Api",
    "Stream",
    "Workload",
    "corpus",
    "network_chunks",
    "parallel",
    "single_call",
]

Api = Literal["chat", "responses"]

KB = 1000
MB = 1000 * KB
FRAGMENT = 4  # characters per argument fragment: the "4-byte fragments"
CHUNK_MIN = 1024
CHUNK_MAX = 4096

_API_IN_NAME = re.compile(r"(?:^|-)(chat|responses)-")
_BLANK_LINE = re.compile(rb"\r?\n\r?\n")  # the end of a block, LF or CRLF


@dataclass(frozen=True)
class Stream:
    """One recorded or generated stream."""

    name: str
    data: bytes
    chunks: tuple[bytes, ...] = field(repr=False)
    events: int  # dispatched SSE events, as the WHATWG rules count them
    arg_bytes: int = 0  # argument bytes of its calls (synthetic streams), for per-byte costs

    @cached_property
    def event_reads(self) -> tuple[bytes, ...]:
        """The stream cut after each blank line: one event per read, as a live stream arrives
        (the model is slower than the network). Built on first use: it doubles the memory."""
        data = self.data
        out: list[bytes] = []
        start = 0
        for blank in _BLANK_LINE.finditer(data):
            out.append(data[start : blank.end()])
            start = blank.end()
        if start < len(data):
            out.append(data[start:])
        return tuple(out)


@dataclass(frozen=True)
class Workload:
    """Streams timed together: a run parses each one with a fresh parser."""

    name: str
    api: Api
    streams: tuple[Stream, ...]
    note: str = ""

    @property
    def events(self) -> int:
        return sum(s.events for s in self.streams)

    @property
    def nbytes(self) -> int:
        return sum(len(s.data) for s in self.streams)

    @property
    def arg_bytes(self) -> int:
        return sum(s.arg_bytes for s in self.streams)

    def without(self, names: set[str], note: str = "") -> Workload:
        kept = tuple(s for s in self.streams if s.name not in names)
        return Workload(self.name, self.api, kept, note or self.note)


def network_chunks(
    data: bytes, *, low: int = CHUNK_MIN, high: int = CHUNK_MAX, seed: int = 0
) -> tuple[bytes, ...]:
    """``data`` cut into pieces of ``low``..``high`` bytes, as reads from a socket arrive."""
    rng = random.Random(seed)
    out: list[bytes] = []
    pos = 0
    while pos < len(data):
        size = rng.randint(low, high)
        out.append(data[pos : pos + size])
        pos += size
    return tuple(out)


def count_events(data: bytes) -> int:
    framer = SSEFramer()
    framer.feed(data)
    framer.finish()
    return framer.dispatched


def make_stream(name: str, data: bytes, arg_bytes: int = 0, events: int | None = None) -> Stream:
    """``events``: the count when known by construction (else the framer counts them)."""
    n = count_events(data) if events is None else events
    return Stream(name, data, network_chunks(data), n, arg_bytes)


def _api_of(path: Path, data: bytes) -> Api:
    m = _API_IN_NAME.search(path.name)
    if m is not None:
        return "responses" if m.group(1) == "responses" else "chat"
    head = data[:4096]  # no hint in the name: Responses events name their type
    return "responses" if b"response." in head else "chat"


@cache
def corpus(api: Api) -> Workload:
    """Every recording of ``api`` under the shared corpus, sorted by path."""
    streams = []
    for path in sorted(CORPUS.rglob("*.sse")):
        data = path.read_bytes()
        if _api_of(path, data) == api:
            streams.append(make_stream(f"{path.parent.name}/{path.name}", data))
    return Workload(f"{api} corpus ({len(streams)} recordings)", api, tuple(streams))


def _generate(api: Api, n_calls: int, arg_bytes: int) -> tuple[bytes, int]:
    """The stream and the exact argument bytes it carries."""
    from fixtures.generate import chat_stream, responses_stream, synthetic_calls

    calls = synthetic_calls(n_calls, arg_bytes)
    size = sum(len(c.arguments.encode()) for c in calls)
    if api == "chat":
        return chat_stream(calls, fragment=FRAGMENT), size
    return responses_stream(calls, fragment=FRAGMENT), size


def _size(n: int) -> str:
    return f"{n // MB} MB" if n >= MB else f"{n // KB} KB"


@cache
def single_call(api: Api, arg_bytes: int) -> Workload:
    """One call with ``arg_bytes`` of arguments in 4-character fragments."""
    data, size = _generate(api, 1, arg_bytes)
    name = f"{api}: 1 call, {_size(arg_bytes)} arguments"
    # generated streams are LF-only with one blank line per event: counting them is exact
    return Workload(name, api, (make_stream(name, data, size, data.count(b"\n\n")),))


@cache
def parallel(api: Api, n_calls: int, arg_bytes: int = KB) -> Workload:
    """``n_calls`` calls of ``arg_bytes`` each in one stream, 4-character fragments."""
    data, size = _generate(api, n_calls, arg_bytes)
    name = f"{api}: {n_calls} parallel calls x {_size(arg_bytes)}"
    # generated streams are LF-only with one blank line per event: counting them is exact
    return Workload(name, api, (make_stream(name, data, size, data.count(b"\n\n")),))
