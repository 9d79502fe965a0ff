"""Run every candidate on a workload, check their calls agree, time them, print the table.

One pass per candidate first runs each stream once, untimed, and keeps the calls it rebuilt:
a stream on which some candidate fails (the SDK crashes on several real quirks) is left out
of every candidate's timing, and said so, so all rows time the same bytes. Calls are compared
with fcstream's; a candidate that rebuilds different calls is flagged, not hidden.

Results are cached per (workload, settings) so ``run.py`` can print the scaling summary from
the tables already measured instead of timing the same megabytes twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ._candidates import CallKey, Candidate, Missing, candidates
from ._measure import check_calls, exclusions, loop, run_once
from ._timing import Settings, Timing, measure_side_by_side
from ._workloads import KB, MB, Api, Workload, corpus, parallel, single_call

__all__ = [
    "PARALLEL",
    "SIZES",
    "Result",
    "Row",
    "print_result",
    "print_scaling",
    "run_api",
    "run_workload",
    "summary",
    "versions",
]

FLOOR_TARGET = 1.5  # fcstream within 1.5x of the floor
SDK_TARGET = 100.0  # at least 100x faster than the openai SDK's own path
LINEAR_TARGET = 1.3  # per-byte cost of 1 MB within 1.3x of 10 KB


@dataclass
class Row:
    name: str
    timing: Timing | None = None
    status: str = ""  # why there is no timing: missing, skipped, error
    check: str = ""  # do its calls agree with fcstream's?
    floor: bool = False
    sdk: bool = False
    fcstream: bool = False


@dataclass
class Result:
    workload: Workload  # the streams actually timed
    rows: list[Row]
    excluded: dict[str, str] = field(default_factory=dict)
    differs: dict[str, list[str]] = field(default_factory=dict)
    seconds: float = 0.0  # wall time spent checking and timing this workload

    def _first(self, pred: Callable[[Row], bool]) -> Row | None:
        return next((r for r in self.rows if pred(r)), None)

    @property
    def floor(self) -> Row | None:
        return self._first(lambda r: r.floor)

    @property
    def sdk(self) -> Row | None:
        return self._first(lambda r: r.sdk)

    @property
    def fcstream(self) -> Row | None:
        return self._first(lambda r: r.fcstream)

    def row(self, name: str) -> Row | None:
        return self._first(lambda r: r.name == name)

    def per_event_us(self, row: Row | None) -> float | None:
        if row is None or row.timing is None or not self.workload.events:
            return None
        return row.timing.best_ns / self.workload.events / 1000

    def per_byte_ns(self, row: Row | None) -> float | None:
        if row is None or row.timing is None or not self.workload.nbytes:
            return None
        return row.timing.best_ns / self.workload.nbytes


_RESULTS: dict[tuple[str, str], Result] = {}
_SUMMARY: list[str] = []


def _skip_reason(cand: Candidate, workload: Workload, settings: Settings) -> str:
    largest = max((s.events for s in workload.streams), default=0)
    if cand.sdk and largest > settings.sdk_max_events:
        return (
            f"skipped: {largest:,} events in one stream > {settings.sdk_max_events:,} "
            f"({settings.name} mode; ~0.1-0.4 ms/event and superlinear)"
        )
    if cand.superlinear and largest > settings.superlinear_max_events:
        return (
            f"skipped: {largest:,} events in one stream > "
            f"{settings.superlinear_max_events:,} ({settings.name} mode; quadratic +=)"
        )
    return ""


def run_workload(workload: Workload, settings: Settings) -> Result:
    """Check and time every candidate on ``workload`` (cached per settings)."""
    key = (workload.name, settings.name)
    if key in _RESULTS:
        return _RESULTS[key]
    began = time.perf_counter()
    rows: list[Row] = []
    runnable: list[tuple[Candidate, Row]] = []
    calls: dict[str, dict[str, list[CallKey] | None]] = {}
    failures: dict[str, dict[str, str]] = {}
    first_ns: dict[str, int] = {}
    for cand in candidates(workload.api):
        if isinstance(cand, Missing):
            rows.append(Row(cand.name, status=f"MISSING: {cand.reason}", sdk=cand.sdk))
            continue
        row = Row(cand.name, floor=cand.floor, sdk=cand.sdk, fcstream=cand.fcstream)
        rows.append(row)
        row.status = _skip_reason(cand, workload, settings)
        if row.status:
            continue
        start = time.perf_counter_ns()
        got, failed = run_once(cand, workload)
        first_ns[cand.name] = time.perf_counter_ns() - start
        if failed and len(failed) == len(workload.streams):
            row.status = f"ERROR on every stream: {next(iter(failed.values()))}"
            continue
        calls[cand.name], failures[cand.name] = got, failed
        runnable.append((cand, row))

    excluded, timed = exclusions(workload, failures)
    ref = next((c.name for c, _ in runnable if c.fcstream), None)
    differs: dict[str, list[str]] = {}
    for cand, row in runnable:
        row.check, bad = check_calls(cand, ref, timed, calls)
        if bad:
            differs[cand.name] = bad

    fns = [loop(cand.run, timed.streams) for cand, _ in runnable]
    warmed = [0 if excluded else first_ns[cand.name] for cand, _ in runnable]
    timings = measure_side_by_side(fns, settings, warmed_ns=warmed)
    for (_, row), timing in zip(runnable, timings, strict=True):
        row.timing = timing

    result = Result(timed, rows, excluded, differs, time.perf_counter() - began)
    _RESULTS[key] = result
    return result


# -- printing ------------------------------------------------------------------------------


def _fmt(value: float | None, width: int, decimals: int, suffix: str = "x") -> str:
    if value is None:
        return f"{'-':>{width}}"
    return f"{value:>{width - len(suffix)}.{decimals}f}{suffix}"


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


def print_result(result: Result, out: Callable[[str], None] = print) -> None:
    """The table for one workload, then its target lines."""
    w = result.workload
    out("")
    out(
        f"== {w.name}: {len(w.streams)} stream(s), {w.events:,} SSE events, {w.nbytes:,} bytes"
        + (f", {w.arg_bytes:,} argument bytes" if w.arg_bytes else "")
        + f" == ({result.seconds:.1f} s)"
    )
    for stream_name, why in result.excluded.items():
        out(f"   excluded {stream_name} (every row): {why}")
    floor_ns = result.floor.timing.best_ns if result.floor and result.floor.timing else None
    sdk_ns = result.sdk.timing.best_ns if result.sdk and result.sdk.timing else None
    out(
        f"   {'candidate':<36}{'us/event':>9}{'median':>9}{'ns/byte':>9}{'x floor':>9}"
        f"{'SDK/this':>10}{'runs':>6}  calls"
    )
    for row in result.rows:
        if row.timing is None:
            out(f"   {row.name:<36}{row.status}")
            continue
        best = row.timing.best_ns
        ratio = best / floor_ns if floor_ns else None
        sdk_ratio = sdk_ns / best if sdk_ns else None
        out(
            f"   {row.name:<36}"
            f"{best / w.events / 1000:>9.2f}{row.timing.median_ns / w.events / 1000:>9.2f}"
            f"{best / w.nbytes:>9.2f}{_fmt(ratio, 9, 2)}{_fmt(sdk_ratio, 10, 0)}"
            f"{row.timing.runs:>6}  {row.check}"
        )
    for name, streams in result.differs.items():
        shown = ", ".join(streams[:3]) + (", ..." if len(streams) > 3 else "")
        out(f"   note: {name} rebuilds different calls on {shown}")
    for line in target_lines(result):
        out("   " + line)


def target_lines(result: Result) -> list[str]:
    fc, floor, sdk = result.fcstream, result.floor, result.sdk
    if fc is None or fc.timing is None:
        return ["targets: fcstream not measured" + (f" ({fc.status})" if fc else "")]
    lines = []
    name = result.workload.name
    if floor is not None and floor.timing is not None:
        r = fc.timing.best_ns / floor.timing.best_ns
        lines.append(
            f"target fcstream/floor = {r:.2f}x (<= {FLOOR_TARGET}x: "
            f"{_verdict(r <= FLOOR_TARGET)})  [{name}]"
        )
    if sdk is not None and sdk.timing is not None:
        r = sdk.timing.best_ns / fc.timing.best_ns
        lines.append(
            f"target SDK/fcstream = {r:.0f}x (>= {SDK_TARGET:.0f}x: "
            f"{_verdict(r >= SDK_TARGET)})  [{name}]"
        )
    elif sdk is not None:
        lines.append(f"target SDK/fcstream: not measured ({sdk.status})  [{name}]")
    _SUMMARY.extend(lines)
    return lines


def print_scaling(small: Result, large: Result, out: Callable[[str], None] = print) -> None:
    """Per-byte cost of ``large`` over ``small`` for every candidate timed on both."""
    out("")
    out(f"-- linearity: ns/byte of [{large.workload.name}] / [{small.workload.name}] --")
    for row in large.rows:
        other = small.row(row.name)
        a, b = large.per_byte_ns(row), small.per_byte_ns(other)
        if a is None or b is None:
            out(f"   {row.name:<36}-")
            continue
        r = a / b
        tail = (
            f"  (target <= {LINEAR_TARGET}x: {_verdict(r <= LINEAR_TARGET)})"
            if row.fcstream
            else ""
        )
        out(f"   {row.name:<36}{b:>7.2f} -> {a:>7.2f} ns/byte = {r:5.2f}x{tail}")
        if row.fcstream:
            _SUMMARY.append(
                f"target linearity {r:.2f}x (<= {LINEAR_TARGET}x: "
                f"{_verdict(r <= LINEAR_TARGET)})  [{large.workload.name} vs "
                f"{small.workload.name}]"
            )


def summary() -> list[str]:
    """Every target line printed so far (once each), for the closing summary."""
    return list(dict.fromkeys(_SUMMARY))


def versions() -> str:
    """Python, msgspec, openai, pydantic and fcstream versions, and the machine."""
    import platform

    import msgspec

    import fcstream

    parts = [
        f"python {platform.python_version()} ({platform.python_implementation()})",
        f"msgspec {msgspec.__version__}",
    ]
    for module in ("openai", "pydantic"):
        try:
            parts.append(f"{module} {__import__(module).__version__}")
        except ImportError:
            parts.append(f"{module} not installed")
    parts.append(f"fcstream {fcstream.__version__} ({Path(fcstream.__file__).parent})")
    return ", ".join(parts) + f"; {platform.machine()} {platform.system()}"


SIZES = (10 * KB, 100 * KB, MB)
PARALLEL = (1, 4, 16, 64)


def run_api(api: Api, settings: Settings, out: Callable[[str], None] = print) -> None:
    """The tables for one API: its corpus, one call of 10 KB to 1 MB, 1 to 64 parallel calls,
    then the linearity line (1 MB against 10 KB)."""
    print_result(run_workload(corpus(api), settings), out)
    for size in SIZES:
        print_result(run_workload(single_call(api, size), settings), out)
    for n in PARALLEL:
        print_result(run_workload(parallel(api, n), settings), out)
    print_scaling(
        run_workload(single_call(api, SIZES[0]), settings),
        run_workload(single_call(api, SIZES[-1]), settings),
        out,
    )
