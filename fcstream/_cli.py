"""The ``fcstream`` command: an argparse front end over the library, for people and scripts.

Subcommands, each a short function over the public API:

- ``calls FILE...``: rebuild the tool calls of recorded streams (table, or JSON lines);
- ``sse FILE``: the SSE framing layer alone, one JSON line per dispatched event;
- ``demo``: replay bundled recordings and show when each call could run (``_demo``);
- ``serve`` / ``record`` / ``bench``: thin doors to ``_server``, ``_record`` and
  ``benchmarks/run.py``, each imported only when its subcommand runs.

Exit status: 0 when everything read was complete, 1 when a stream was incomplete or carried an
error (the output is still printed in full), 2 for usage errors (bad options, unreadable files).
``main()`` returns the status instead of exiting, so tests call it in-process.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final, cast

from ._call import ToolCall
from ._errors import FcstreamError, PayloadError, StreamFormatError
from ._events import CallDone, CallIncomplete, ErrorEvent, Event, StreamDone
from ._parser import ApiChoice, StreamParser
from ._sse import SSEFramer

__all__ = ["main"]

EXIT_OK: Final = 0
EXIT_INCOMPLETE: Final = 1
EXIT_USAGE: Final = 2

_READ_CHUNK: Final = 64 * 1024
_ARGS_WIDTH: Final = 40  # argument excerpt in the calls table: enough to recognise a call


class _UsageFailure(Exception):
    """A usage problem found after parsing (e.g. an unreadable file): message, exit status 2."""


def _repo_root() -> Path:
    """The checkout fcstream runs from (editable install): fixtures/ and benchmarks/ live here."""
    import fcstream

    return Path(fcstream.__file__).resolve().parents[1]


def _label(name: str) -> str:
    return "<stdin>" if name == "-" else name


def _read(name: str) -> bytes:
    """The whole input (``-`` is stdin's bytes); unreadable input is a usage error."""
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise _UsageFailure(f"cannot read {name}: {exc.strerror or exc}") from None


def _chunks(name: str) -> Iterator[bytes]:
    """Input in reads as they come (``read1``), so ``curl ... | fcstream sse -`` prints live."""
    if name == "-":
        stream: IO[bytes] = sys.stdin.buffer
        yield from iter(lambda: stream.read1(_READ_CHUNK), b"")  # type: ignore[attr-defined]
        return
    try:
        handle = open(name, "rb")  # noqa: SIM115 - closed below; opening is the usage check
    except OSError as exc:
        raise _UsageFailure(f"cannot read {name}: {exc.strerror or exc}") from None
    with handle:
        yield from iter(lambda: handle.read1(_READ_CHUNK), b"")


def _json_line(obj: dict[str, Any], out: IO[str]) -> None:
    # ASCII-only JSON: valid on any terminal or pipe encoding; readers decode it back exactly.
    out.write(json.dumps(obj) + "\n")


def _short(text: str, width: int) -> str:
    text = text.replace("\r", " ").replace("\n", " ")
    return text if len(text) <= width else text[: width - 3] + "..."


def _describe_error(label: str, error: FcstreamError) -> str:
    """Two lines for stderr: what went wrong, then every field of the error."""
    fields = " ".join(
        f"{name}={_short(repr(getattr(error, name)), 160)}" for name in type(error)._fields
    )
    head = f"{label}: {type(error).__name__}: {error.message}"
    return head + (f"\n    {fields}" if fields else "")


# -- calls ----------------------------------------------------------------------------------


@dataclass
class _Parsed:
    """One input file read to the end: its calls, when each became final, how it ended."""

    label: str
    api: str | None
    calls: list[ToolCall]
    finals: dict[tuple[int, int], int] = field(default_factory=dict)
    cut: dict[tuple[int, int], str] = field(default_factory=dict)
    errors: list[FcstreamError] = field(default_factory=list)
    done: StreamDone | None = None
    events: int = 0

    def failed(self, lenient: bool) -> bool:
        """Incomplete or erroneous. ``lenient`` forgives bad payloads that were skipped, not
        provider errors, cut calls or a missing end."""
        done = self.done
        if done is None or self.cut:
            return True
        forgiven = lenient and all(isinstance(e, PayloadError) for e in self.errors)
        if not done.complete:
            # a skipped payload alone makes a stream incomplete (data was lost); --lenient
            # forgives that, never a missing end, a provider error or a cut call
            return not (forgiven and done.status in ("done", "finished", "completed"))
        return bool(self.errors) and not forgiven


def _parse(label: str, data: bytes, api: str) -> _Parsed:
    """Lenient parse of one whole stream: every error becomes a report, every call is kept."""
    parser = StreamParser(cast(ApiChoice, api), strict=False)  # argparse checked the choice
    events: list[Event] = []
    raised: list[FcstreamError] = []
    try:
        events.extend(parser.feed(data))
    except StreamFormatError as exc:  # unframeable input is sticky even when lenient
        events.extend(exc.events)
        raised.append(exc)
    events.extend(parser.finish())
    parsed = _Parsed(label, parser.api, parser.calls, events=parser.events_seen)
    for event in events:
        if isinstance(event, CallDone):
            parsed.finals[(event.call.choice, event.call.index)] = event.event_index
        elif isinstance(event, CallIncomplete):
            parsed.cut[(event.call.choice, event.call.index)] = event.reason
        elif isinstance(event, ErrorEvent):
            parsed.errors.append(event.error)
        elif isinstance(event, StreamDone):
            parsed.done = event
    parsed.errors.extend(raised)
    return parsed


def _call_record(parsed: _Parsed, call: ToolCall) -> dict[str, Any]:
    return {
        "api": call.api,
        "choice": call.choice,
        "index": call.index,
        "call_id": call.call_id,
        "name": call.name,
        "arguments": call.arguments,
        "final": parsed.finals.get((call.choice, call.index)),
        "complete": call.complete,
    }


def _print_table(results: Sequence[_Parsed], out: IO[str]) -> None:
    header = ("FILE", "CHOICE", "INDEX", "NAME", "CALL ID", "ARGUMENTS", "FINAL", "STATUS")
    rows: list[tuple[str, ...]] = []
    for parsed in results:
        name = Path(parsed.label).name if parsed.label != "<stdin>" else parsed.label
        for call in parsed.calls:
            key = (call.choice, call.index)
            final = parsed.finals.get(key)
            reason = parsed.cut.get(key)
            status = "final" if final is not None else f"incomplete ({reason or 'open'})"
            rows.append(
                (
                    name,
                    str(call.choice),
                    str(call.index),
                    call.name or "?",
                    call.call_id or "-",
                    _short(call.arguments, _ARGS_WIDTH),
                    f"event {final}" if final is not None else "-",
                    status,
                )
            )
    if rows:
        widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
        numeric = {1, 2}
        for row in (header, *rows):
            cells = [
                cell.rjust(w) if i in numeric else cell.ljust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            ]
            out.write("  ".join(cells).rstrip() + "\n")
        out.write("\n")
    for parsed in results:
        out.write(_summary(parsed) + "\n")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _summary(parsed: _Parsed) -> str:
    done = parsed.done
    status = done.status if done else "truncated"
    state = "complete" if done is not None and done.complete else "INCOMPLETE"
    reasons = ", ".join(f"{c}={r}" for c, r in sorted(done.finish_reasons.items())) if done else ""
    finished = sum(1 for call in parsed.calls if call.complete)
    parts = [
        f"{parsed.api or 'unknown API'}",
        f"{parsed.events} SSE events",
        f"{status}, {state}",
        f"finish reasons: {reasons or 'none'}",
        f"{_plural(len(parsed.calls), 'call')} ({finished} final)",
        _plural(len(parsed.errors), "error"),
    ]
    if done is not None and done.leftover:
        parts.append(f"{len(done.leftover)} unterminated bytes")
    return f"{parsed.label}: " + "; ".join(parts)


def _cmd_calls(ns: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    inputs = [(_label(name), _read(name)) for name in ns.files]
    results = [_parse(label, data, ns.api) for label, data in inputs]
    if ns.json:
        for parsed in results:
            for call in parsed.calls:
                _json_line(_call_record(parsed, call), out)
    else:
        _print_table(results, out)
    for parsed in results:
        for error in parsed.errors:
            err.write(_describe_error(parsed.label, error) + "\n")
    failed = [p for p in results if p.failed(ns.lenient)]
    if failed and ns.json:  # the table's summary already says it; JSON mode says it on stderr
        for parsed in failed:
            err.write(_summary(parsed) + "\n")
    return EXIT_INCOMPLETE if failed else EXIT_OK


# -- sse ------------------------------------------------------------------------------------


def _cmd_sse(ns: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    framer = SSEFramer()
    label = _label(ns.file)
    status = EXIT_OK
    for chunk in _chunks(ns.file):
        try:
            messages = framer.feed(chunk)
        except StreamFormatError as exc:
            messages = exc.events
            status = EXIT_INCOMPLETE
            err.write(_describe_error(label, exc) + "\n")
        for msg in messages:
            _json_line(
                {
                    "event": msg.event,
                    "data": msg.data.decode("utf-8", "replace"),
                    "id": msg.id,
                    "retry": msg.retry,
                },
                out,
            )
        out.flush()
        if status:
            return status
    rest = framer.finish()
    if rest.truncated:
        err.write(
            f"{label}: input ended inside an event block at byte {rest.offset}: "
            f"{len(rest.data)} bytes were not dispatched (no closing blank line)\n"
        )
        return EXIT_INCOMPLETE
    return EXIT_OK


# -- demo, serve, record, bench -------------------------------------------------------------


def _cmd_demo(ns: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from ._demo import run_demo, use_color

    return run_demo(
        json_mode=ns.json,
        pace_ms=ns.pace,
        color=use_color(out, disabled=ns.no_color),
        out=out,
        err=err,
    )


def _cmd_serve(ns: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from ._server import serve_forever

    # It checks the files, prints its URL first and returns 0 after Ctrl-C, 2 for bad input.
    files = [Path(name) for name in ns.files]
    return serve_forever(files, host=ns.host, port=ns.port, pace_ms=ns.pace)


def _cmd_record(ns: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    from ._record import record

    # The API key comes from the environment only (never an option: shell history).
    return record(api=ns.api, url=ns.url, body=Path(ns.body), out=Path(ns.out))


def _cmd_bench(ns: argparse.Namespace, out: IO[str], err: IO[str]) -> int:
    import runpy

    script = _repo_root() / "benchmarks" / "run.py"
    if not script.is_file():
        raise _UsageFailure(
            f"benchmarks not found at {script}: `fcstream bench` runs from a source checkout "
            "(pip install -e .)"
        )
    args = list(ns.passthrough)
    if args[:1] == ["--"]:
        args = args[1:]
    saved_argv, saved_path = sys.argv, list(sys.path)
    sys.argv = [str(script), *args]
    sys.path.insert(0, str(script.parent))  # as `python benchmarks/run.py` would have it
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
    return EXIT_OK


# -- argument parsing -----------------------------------------------------------------------


def _pace_ms(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of milliseconds: {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"pace must be a finite number >= 0, not {text!r}")
    return value


def _pace_or_none(text: str) -> float | None:
    return None if text.lower() == "none" else _pace_ms(text)


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0..65535, not {value}")
    return value


Command = Callable[[argparse.Namespace, IO[str], IO[str]], int]


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from ._demo import DEFAULT_PACE_MS

    parser = argparse.ArgumentParser(
        prog="fcstream",
        description="Rebuild LLM tool calls from streamed Chat Completions and Responses "
        "output, at the earliest moment the stream's structure proves each call final.",
    )
    parser.add_argument("--version", action="version", version=f"fcstream {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, run: Command, help: str, description: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=description)
        p.set_defaults(run=run, parser=p)
        return p

    calls = add(
        "calls",
        _cmd_calls,
        "print the tool calls of recorded streams",
        "Parse recorded event streams and print every tool call: when the stream made it "
        "final (SSE event number) and whether it is complete. Exit status 1 when a stream is "
        "incomplete or carries an error; everything parsed is still printed and errors go to "
        "stderr with their fields.",
    )
    calls.add_argument("files", nargs="+", metavar="FILE", help="recorded stream; - for stdin")
    calls.add_argument(
        "--api",
        choices=("auto", "chat", "responses"),
        default="auto",
        help="the stream's API (default: detect from the first payload)",
    )
    calls.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per call per line: api, choice, index, call_id, "
        "name, arguments, final (SSE event number, null if never), complete",
    )
    calls.add_argument(
        "--lenient",
        action="store_true",
        help="bad payloads (invalid JSON, protocol violations) are reported but "
        "do not by themselves make the exit status 1",
    )

    sse = add(
        "sse",
        _cmd_sse,
        "print the SSE events of a stream as JSON lines",
        "Frame a stream as server-sent events (WHATWG rules) and print one JSON object per "
        "dispatched event: event, data, id (last-event-ID), retry. Exit status 1 when input "
        "ends inside an event block.",
    )
    sse.add_argument("file", metavar="FILE", help="recorded stream; - for stdin (read live)")

    demo = add(
        "demo",
        _cmd_demo,
        "replay bundled recordings and show when each call could run",
        "Replay the bundled recordings with realistic pacing, run small example tools the "
        "moment each call is final, and compare with waiting for the end of the stream. "
        "No network or API key needed.",
    )
    demo.add_argument(
        "--json",
        action="store_true",
        help="one JSON object per line per call and per stream, times in seconds",
    )
    demo.add_argument(
        "--pace",
        type=_pace_ms,
        default=DEFAULT_PACE_MS,
        metavar="MS",
        help=f"milliseconds between SSE events (default {DEFAULT_PACE_MS:g}; "
        "0 = no waiting); the example tools' latency scales with it",
    )
    demo.add_argument(
        "--no-color",
        action="store_true",
        help="plain text even on a terminal (NO_COLOR=1 does the same)",
    )

    serve = add(
        "serve",
        _cmd_serve,
        "serve recordings over loopback HTTP",
        "Serve recorded streams as text/event-stream responses, paced like a live model.",
    )
    serve.add_argument("files", nargs="+", metavar="FILE", help="recorded stream")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument(
        "--port", type=_port, default=0, help="port (default 0: any free port; the URL is printed)"
    )
    serve.add_argument(
        "--pace",
        type=_pace_or_none,
        default=None,
        metavar="none|MS",
        help="milliseconds between SSE events, or none (default: none)",
    )

    record = add(
        "record",
        _cmd_record,
        "record a live stream to a file",
        "Send a request body to a streaming endpoint and save the response bytes as received. "
        "The API key is read from the OPENAI_API_KEY environment variable, never an option.",
    )
    record.add_argument("--api", choices=("chat", "responses"), required=True)
    record.add_argument("--url", required=True, help="endpoint URL")
    record.add_argument("--body", required=True, metavar="FILE", help="JSON request body")
    record.add_argument("-o", "--out", required=True, metavar="OUT", help="file to write")

    add(
        "bench",
        _cmd_bench,
        "run the benchmarks (source checkout only)",
        "Run benchmarks/run.py; every further argument is passed to it (e.g. --quick).",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (the console script exits with it)."""
    out, err = sys.stdout, sys.stderr
    parser = _build_parser()
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        ns, extra = parser.parse_known_args(args)
        if ns.command == "bench":
            ns.passthrough = extra
        elif extra:  # what parse_args would say, with the subcommand's own usage line
            ns.parser.error(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # argparse: --help, --version (0) or a usage error (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    run: Command = ns.run
    try:
        return run(ns, out, err)
    except _UsageFailure as exc:
        err.write(f"fcstream {ns.command}: {exc}\n")
        return EXIT_USAGE
    except ModuleNotFoundError as exc:
        if exc.name not in ("fcstream._server", "fcstream._record"):
            raise
        err.write(f"fcstream {ns.command}: not available in this build ({exc.name} missing)\n")
        return EXIT_USAGE
    except FcstreamError as exc:  # e.g. record: the endpoint answered with an error
        err.write(f"fcstream {ns.command}: {type(exc).__name__}: {exc}\n")
        return EXIT_INCOMPLETE
    except KeyboardInterrupt:
        err.write("\ninterrupted\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, and keep Python's own flush at exit
        # from raising again on the closed pipe.
        devnull = os.open(os.devnull, os.O_WRONLY)
        with contextlib.suppress(OSError, ValueError):
            os.dup2(devnull, sys.stdout.fileno())
        return EXIT_INCOMPLETE
