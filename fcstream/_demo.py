"""``fcstream demo``: what handing calls over early buys, shown on a live timeline.

The bundled recordings (``fixtures/streams/*.sse``, written by ``fixtures/generate.py``) are
replayed one after another with realistic pacing: one SSE event every ``pace`` ms. Each call goes
to a small example tool in a thread pool the moment the parser says it is final (``CallDone``),
so the stream keeps being read while tools run. The timeline shows when each call was ready and
its tool done against when the stream ended: the first moment a consumer that waits for the end
of the stream (most SDK helpers) could start. The tools' simulated latency is counted in event
times, so ``--pace`` speeds up or slows down the whole little world alike and ``--pace 0``
finishes instantly (tests).

Transports, picked at start:

- loopback HTTP (``_server.ReplayServer`` + ``_http.stream`` over httpx/httpx-sse) when those
  modules are present: the full path a real client takes, still with no network or API key;
- in-process replay otherwise: the recording cut at its recorded event boundaries and fed to a
  ``StreamParser`` with the same pacing.
"""

from __future__ import annotations

import os
import shutil
import textwrap
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, Protocol

import httpx

from ._call import ToolCall
from ._errors import ArgumentsError, FcstreamError
from ._events import CallDone, CallIncomplete, ErrorEvent, Event, StreamDone, StreamStarted
from ._parser import StreamParser
from ._sse import SSEFramer

__all__ = ["DEFAULT_PACE_MS", "recordings_dir", "run_demo", "use_color"]

DEFAULT_PACE_MS: Final = 25.0
"""Between SSE events: about the rate at which OpenAI streams argument tokens, and slow enough to
watch: the four bundled recordings (206 events) replay in about 5 s, 7 s with the tools."""

PREFERRED: Final = ("chat-parallel-3", "responses-parallel-3", "chat-single", "responses-single")
"""Demo order: the parallel streams first, where the head start is largest."""

_POOL_WORKERS: Final = 8


def recordings_dir() -> Path:
    """Where the bundled recordings live in a source checkout (editable install)."""
    import fcstream

    return Path(fcstream.__file__).resolve().parents[1] / "fixtures" / "streams"


def find_recordings(directory: Path) -> list[Path]:
    """The demo's recordings: the preferred four in order, else every ``.sse`` file sorted."""
    found = {p.stem: p for p in directory.glob("*.sse") if p.is_file()}
    preferred = [found[name] for name in PREFERRED if name in found]
    return preferred or [found[name] for name in sorted(found)]


def use_color(out: IO[str], *, disabled: bool = False) -> bool:
    """ANSI colour only for a terminal, and never with ``--no-color``, ``NO_COLOR`` or a dumb
    terminal (https://no-color.org)."""
    if disabled or os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(out, "isatty", None)
    return bool(isatty is not None and isatty())


# -- example tools -------------------------------------------------------------------------


@dataclass(frozen=True)
class Tool:
    """An example handler: ``latency`` in event times (scaled by the pace), canned answer."""

    latency: float
    run: Callable[[dict[str, Any]], str]


def _weather(args: dict[str, Any]) -> str:
    place = args.get("location") or args.get("city") or "somewhere"
    unit = "F" if args.get("unit") == "fahrenheit" else "C"
    temp = 64 if unit == "F" else 18
    return f"{place}: {temp} {unit}, partly cloudy, wind 12 km/h"


def _search(args: dict[str, Any]) -> str:
    query = str(args.get("query", ""))
    count = args.get("max_results", 3)
    count = count if isinstance(count, int) and 0 < count < 100 else 3
    return f"{count} documents for {query[:40]!r}"


def _stock(args: dict[str, Any]) -> str:
    symbol = args.get("symbol") or "?"
    currency = args.get("currency") or "USD"
    return f"{symbol}: last close 131.42 {currency}"


def _generic(args: dict[str, Any]) -> str:
    return f"ok ({len(args)} arguments)"


TOOLS: Final[dict[str, Tool]] = {
    "get_weather": Tool(24.0, _weather),  # 0.6 s at the default pace: a weather API
    "search_docs": Tool(40.0, _search),  # 1.0 s: a search with ranking
    "get_stock_price": Tool(16.0, _stock),  # 0.4 s: a quote service
}
_FALLBACK: Final = Tool(20.0, _generic)


# -- what happened, per call and per stream ------------------------------------------------


@dataclass
class CallRun:
    """One call's times, in seconds since its stream's request started."""

    call: ToolCall
    event_index: int
    ready_s: float | None  # None: the call never became final (cut or truncated)
    reason: str = ""  # why it was incomplete
    cut_s: float | None = None  # when it came back incomplete
    started_s: float | None = None
    handler_done_s: float | None = None
    result: str = ""


@dataclass
class StreamRun:
    name: str
    api: str
    events: int = 0  # SSE events in the recording
    calls: list[CallRun] = field(default_factory=list)
    end_s: float | None = None
    end: StreamDone | None = None
    errors: list[FcstreamError] = field(default_factory=list)

    @property
    def ready(self) -> list[CallRun]:
        return [c for c in self.calls if c.ready_s is not None]

    def results_at(self) -> float | None:
        """When the last tool result was in, with calls handed over as they became final."""
        done = [c.handler_done_s for c in self.ready if c.handler_done_s is not None]
        return max(done) if done else None

    def results_at_end(self) -> float | None:
        """The same for a consumer that waits for the end: every tool starts at ``end_s`` (all
        in parallel, generously), so the last result is in after the slowest tool's time."""
        spans = [
            c.handler_done_s - c.started_s
            for c in self.ready
            if c.handler_done_s is not None and c.started_s is not None
        ]
        if self.end_s is None or not spans:
            return None
        return self.end_s + max(spans)


# -- transports ----------------------------------------------------------------------------


class Transport(Protocol):
    description: str

    def open(self, path: Path) -> AbstractContextManager[Iterable[Event]]:
        """Start the request for ``path``'s recording; yield its events as they arrive."""
        ...


def _event_chunks(data: bytes) -> list[bytes]:
    """The recording cut at its recorded event boundaries (one SSE event per chunk)."""
    framer = SSEFramer()
    starts = [m.offset for m in framer.feed(data)]
    rest = framer.finish()
    if rest.data:  # an unterminated last block comes as its own (final) chunk
        starts.append(rest.offset)
    if not starts:
        return [data] if data else []
    starts[0] = 0  # a leading comment or BOM travels with the first event
    ends = [*starts[1:], len(data)]
    return [data[a:b] for a, b in zip(starts, ends, strict=True)]


class HttpTransport:
    """The path a real client takes: a POST to the loopback replay server (which paces the
    recording and cuts it into arbitrary chunks), read with httpx + httpx-sse via
    ``fcstream.stream``. The recording is picked by its stem as the request's ``model``."""

    def __init__(self, client: httpx.Client, base_url: str, pace_ms: float) -> None:
        self.client = client
        self.base_url = base_url
        self.description = (
            f"served over loopback HTTP ({base_url}) at {pace_ms:g} ms per SSE event and read "
            "with httpx + httpx-sse"
        )

    @contextmanager
    def open(self, path: Path) -> Iterator[Iterable[Event]]:
        from ._http import stream

        api, _ = inspect_recording(path)
        ask = "What's the weather, the docs on streaming and the NVDA price?"
        body: dict[str, Any]
        if api == "responses":
            url, body = f"{self.base_url}/responses", {"input": ask}
        else:
            url = f"{self.base_url}/chat/completions"
            body = {"messages": [{"role": "user", "content": ask}]}
        body = {"model": path.stem, "stream": True, **body}
        try:
            with stream(self.client, "POST", url, json=body, strict=False) as events:
                yield events
        except httpx.HTTPError as exc:  # reported like fcstream's own errors, with the stream
            raise FcstreamError(f"{type(exc).__name__}: {exc}") from exc


class LocalTransport:
    """In-process replay, the fallback when no loopback socket can be opened: the recording
    cut at its event boundaries, paced the same way, straight into a ``StreamParser``."""

    def __init__(self, pace_ms: float) -> None:
        self.pace_s = pace_ms / 1000
        self.description = f"replayed in-process at {pace_ms:g} ms per SSE event"

    @contextmanager
    def open(self, path: Path) -> Iterator[Iterable[Event]]:
        yield self._events(path.read_bytes())

    def _events(self, data: bytes) -> Iterator[Event]:
        parser = StreamParser(strict=False)
        start = time.perf_counter()
        for n, chunk in enumerate(_event_chunks(data)):
            if n and self.pace_s:  # as the server: event 0 at once; an absolute schedule
                delay = start + n * self.pace_s - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
            yield from parser.feed(chunk)
        yield from parser.finish()


# -- views ---------------------------------------------------------------------------------


class View(Protocol):
    def begin(self, transport: Transport, paths: Sequence[Path]) -> None: ...
    def stream_start(self, run: StreamRun) -> None: ...
    def ready(self, run: StreamRun, call: CallRun) -> None: ...
    def incomplete(self, run: StreamRun, call: CallRun) -> None: ...
    def handler_done(self, run: StreamRun, call: CallRun) -> None: ...
    def error(self, run: StreamRun, error: FcstreamError, at_s: float) -> None: ...
    def stream_end(self, run: StreamRun) -> None: ...
    def stream_done(self, run: StreamRun) -> None: ...
    def end(self, runs: Sequence[StreamRun]) -> None: ...


class JsonView:
    """One JSON object per line: every call of a stream, then the stream, once it is done."""

    def __init__(self, out: IO[str], err: IO[str]) -> None:
        self.out = out
        self.err = err

    def begin(self, transport: Transport, paths: Sequence[Path]) -> None:
        pass

    def stream_start(self, run: StreamRun) -> None:
        pass

    def ready(self, run: StreamRun, call: CallRun) -> None:
        pass

    def incomplete(self, run: StreamRun, call: CallRun) -> None:
        pass

    def handler_done(self, run: StreamRun, call: CallRun) -> None:
        pass

    def error(self, run: StreamRun, error: FcstreamError, at_s: float) -> None:
        self.err.write(f"fcstream demo: {run.name}: {type(error).__name__}: {error}\n")

    def stream_end(self, run: StreamRun) -> None:
        pass

    def stream_done(self, run: StreamRun) -> None:
        import json

        for c in run.calls:
            record = {
                "kind": "call",
                "stream": run.name,
                "api": c.call.api,
                "call_id": c.call.call_id,
                "name": c.call.name,
                "ready_s": _round(c.ready_s),
                "handler_done_s": _round(c.handler_done_s),
            }
            self.out.write(json.dumps(record) + "\n")
        record = {"kind": "stream", "stream": run.name, "api": run.api, "end_s": _round(run.end_s)}
        self.out.write(json.dumps(record) + "\n")
        self.out.flush()

    def end(self, runs: Sequence[StreamRun]) -> None:
        pass


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 6)


class _Paint:
    """ANSI styles, or nothing."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def green(self, text: str) -> str:
        return self._wrap("1;32", text)

    def cyan(self, text: str) -> str:
        return self._wrap("36", text)

    def yellow(self, text: str) -> str:
        return self._wrap("1;33", text)

    def red(self, text: str) -> str:
        return self._wrap("1;31", text)


_END_MARKERS: Final = {"done": "[DONE]", "completed": "response.completed"}


class TextView:
    """The live timeline: a line the moment something happens, a verdict per stream, a table.

    Tool threads print too (``handler_done``), so every write holds one lock.
    """

    def __init__(self, out: IO[str], *, color: bool) -> None:
        self.out = out
        self.p = _Paint(color)
        self.lock = threading.Lock()
        columns = shutil.get_terminal_size(fallback=(100, 24)).columns
        self.width = max(72, min(columns, 120))

    def _line(self, text: str = "") -> None:
        with self.lock:
            self.out.write(text + "\n")
            self.out.flush()

    def _time(self, seconds: float | None) -> str:
        return self.p.dim(f"{seconds:6.2f} s" if seconds is not None else f"{'-':>6}  ")

    def begin(self, transport: Transport, paths: Sequence[Path]) -> None:
        p = self.p
        self._line(
            p.bold("fcstream demo") + ": each tool call runs the moment the stream proves it final."
        )
        about = (
            f"{len(paths)} recorded streams, {transport.description}; example tools run in a "
            "thread pool as calls become final."
        )
        for line in textwrap.wrap(about, self.width):
            self._line(p.dim(line))

    def stream_start(self, run: StreamRun) -> None:
        self._line()
        about = f"{run.api}, {run.events} SSE events; times since the request started"
        self._line(f"{self.p.bold(run.name)}  {self.p.dim(about)}")

    def ready(self, run: StreamRun, call: CallRun) -> None:
        c = call.call
        head = f"{self._time(call.ready_s)}  event {call.event_index:>3}  "
        name = c.name or "?"
        room = self.width - 27 - len(name)
        args = _excerpt(c.arguments, max(room, 12))
        self._line(f"{head}{self.p.green('ready')}  {self.p.bold(name)} {self.p.dim(args)}")

    def incomplete(self, run: StreamRun, call: CallRun) -> None:
        c = call.call
        head = f"{self._time(call.cut_s)}  event {call.event_index:>3}  "
        self._line(f"{head}{self.p.red('cut')}    {c.name or '?'} ({call.reason}): not run")

    def handler_done(self, run: StreamRun, call: CallRun) -> None:
        name = call.call.name or "?"
        room = self.width - 32 - len(name)
        result = _excerpt(call.result, max(room, 12))
        self._line(
            f"{self._time(call.handler_done_s)}             {self.p.cyan('done')}   "
            f"{name} -> {result}"
        )

    def error(self, run: StreamRun, error: FcstreamError, at_s: float) -> None:
        text = _excerpt(f"{type(error).__name__}: {error}", self.width - 30)
        self._line(f"{self._time(at_s)}             {self.p.red('error')}  {text}")

    def stream_end(self, run: StreamRun) -> None:
        end = run.end
        assert end is not None
        marker = _END_MARKERS.get(end.status, end.status)
        if end.complete:
            what = f"{marker}: an end-of-stream consumer starts here"
        else:
            what = self.p.red(f"{marker}, incomplete: the stream was cut")
        head = f"{self._time(run.end_s)}  event {end.event_index:>3}  "
        self._line(f"{head}{self.p.yellow('END')}    {what}")

    def stream_done(self, run: StreamRun) -> None:
        ready = run.ready
        if not ready or run.end_s is None:
            self._line(self.p.dim("    no call became final in this stream"))
            return
        end_s = run.end_s
        leads = ", ".join(f"{end_s - c.ready_s:.2f}" for c in ready if c.ready_s is not None)
        noun = "call" if len(ready) == 1 else "calls"
        self._line(f"    head start: {noun} ready {leads} s before the stream ended")
        streamed, at_end = run.results_at(), run.results_at_end()
        if streamed is not None and at_end is not None:
            sooner = self.p.green(f"{at_end - streamed:.2f} s sooner")
            self._line(
                f"    all tool results in at {streamed:.2f} s; waiting for the end: "
                f"{at_end:.2f} s ({sooner})"
            )

    def end(self, runs: Sequence[StreamRun]) -> None:
        p = self.p
        self._line()
        self._line(p.bold("Time saved") + p.dim(" (seconds since each request started)"))
        header = (
            "stream",
            "calls",
            "1st ready",
            "stream end",
            "head start",
            "results",
            "at end",
            "saved",
        )
        rows: list[tuple[str, ...]] = []
        total_saved = 0.0
        for run in runs:
            ready = [c.ready_s for c in run.ready if c.ready_s is not None]
            first = min(ready) if ready else None
            streamed, at_end = run.results_at(), run.results_at_end()
            saved = at_end - streamed if streamed is not None and at_end is not None else None
            total_saved += saved or 0.0
            head = run.end_s - first if first is not None and run.end_s is not None else None
            rows.append(
                (
                    run.name,
                    str(len(run.calls)),
                    _num(first),
                    _num(run.end_s),
                    _num(head),
                    _num(streamed),
                    _num(at_end),
                    _num(saved),
                )
            )
        widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
        for n, row in enumerate((header, *rows)):
            cells = [row[0].ljust(widths[0])] + [
                cell.rjust(w) for cell, w in zip(row[1:], widths[1:], strict=True)
            ]
            text = "  ".join(cells)
            self._line("  " + (p.dim(text) if n == 0 else text))
        legend = (
            "'results': the last tool result is in, calls run as they become final; 'at end': "
            "the same when every tool starts at the stream's end (all in parallel)."
        )
        for line in textwrap.wrap(legend, self.width - 2):
            self._line("  " + p.dim(line))
        self._line(f"  Saved in total: {p.green(f'{total_saved:.2f} s')}.")


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _excerpt(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


# -- the run -------------------------------------------------------------------------------


def _run_tool(run: StreamRun, call: CallRun, t0: float, unit_s: float, view: View) -> None:
    """Runs on a pool thread: decode, wait the tool's latency, answer, report."""
    call.started_s = time.perf_counter() - t0
    tool = TOOLS.get(call.call.name or "", _FALLBACK)
    try:
        args = call.call.json()
        time.sleep(tool.latency * unit_s)
        call.result = tool.run(args if isinstance(args, dict) else {})
    except ArgumentsError as exc:
        call.result = f"not run: {exc.message}"
    except Exception as exc:  # an example tool must not take the demo down
        call.result = f"failed: {type(exc).__name__}: {exc}"
    call.handler_done_s = time.perf_counter() - t0
    view.handler_done(run, call)


def inspect_recording(path: Path) -> tuple[str, int]:
    """The recording's API (decided from its first event, as the parser does) and its number
    of SSE events, for the stream's heading."""
    framer = SSEFramer()
    messages = framer.feed(path.read_bytes())
    framer.finish()
    api = "chat"
    if messages:
        first = messages[0]
        if first.event.startswith("response.") or b'"type":"response.' in first.data[:200]:
            api = "responses"
    return api, len(messages)


def run_stream(
    path: Path, transport: Transport, pool: ThreadPoolExecutor, view: View, unit_s: float
) -> StreamRun:
    """Replay one recording; hand each final call to the pool; return its timings."""
    api, count = inspect_recording(path)
    run = StreamRun(name=path.stem, api=api, events=count)
    view.stream_start(run)
    futures: list[Future[None]] = []
    t0 = time.perf_counter()  # the request starts now: every time is measured from here
    try:
        with transport.open(path) as events:
            for event in events:
                now = time.perf_counter() - t0
                if isinstance(event, CallDone):
                    call = CallRun(event.call, event.event_index, now)
                    run.calls.append(call)
                    view.ready(run, call)
                    futures.append(pool.submit(_run_tool, run, call, t0, unit_s, view))
                elif isinstance(event, CallIncomplete):
                    call = CallRun(
                        event.call, event.event_index, None, reason=event.reason, cut_s=now
                    )
                    run.calls.append(call)
                    view.incomplete(run, call)
                elif isinstance(event, StreamDone):
                    run.end_s, run.end = now, event
                    view.stream_end(run)
                elif isinstance(event, StreamStarted):
                    run.api = event.api
                elif isinstance(event, ErrorEvent):
                    run.errors.append(event.error)
                    view.error(run, event.error, now)
    except FcstreamError as exc:  # a failed request, a dropped connection
        run.errors.append(exc)
        view.error(run, exc, time.perf_counter() - t0)
    if run.end_s is None:
        run.end_s = time.perf_counter() - t0
    for future in futures:
        future.result()
    view.stream_done(run)
    return run


@contextmanager
def open_transport(paths: Sequence[Path], pace_ms: float, err: IO[str]) -> Iterator[Transport]:
    """Loopback HTTP; in-process replay (with a note) if no loopback socket can be opened,
    e.g. in a sandbox without networking."""
    from ._server import ReplayServer

    try:
        server = ReplayServer(paths, pace_ms=pace_ms or None).start()
    except OSError as exc:
        err.write(f"fcstream demo: no loopback HTTP ({exc}); replaying in-process instead\n")
        yield LocalTransport(pace_ms)
        return
    # trust_env=False: a proxy configured in the environment must not see loopback traffic.
    client = httpx.Client(timeout=httpx.Timeout(10.0), trust_env=False)
    with server, client:
        yield HttpTransport(client, server.base_url, pace_ms)


def run_demo(
    *,
    json_mode: bool,
    pace_ms: float,
    color: bool,
    out: IO[str],
    err: IO[str],
    directory: Path | None = None,
) -> int:
    """The ``demo`` subcommand: 0 when every stream replayed complete, 1 otherwise, 2 when the
    recordings are missing."""
    directory = directory or recordings_dir()
    paths = find_recordings(directory) if directory.is_dir() else []
    if not paths:
        err.write(
            f"fcstream demo: no recordings found in {directory}\n"
            "The demo replays fixtures/streams/*.sse from a source checkout (pip install -e .); "
            "`python -m fixtures.generate` writes them.\n"
        )
        return 2
    view: View = JsonView(out, err) if json_mode else TextView(out, color=color)
    runs: list[StreamRun] = []
    with (
        open_transport(paths, pace_ms, err) as transport,
        ThreadPoolExecutor(_POOL_WORKERS, thread_name_prefix="fcstream-demo-tool") as pool,
    ):
        view.begin(transport, paths)
        for path in paths:
            runs.append(run_stream(path, transport, pool, view, pace_ms / 1000))
    view.end(runs)
    ok = all(r.end is not None and r.end.complete and not r.errors for r in runs)
    return 0 if ok else 1
