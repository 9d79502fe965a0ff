"""Time a list of candidates on one workload and return plain data (the JSON report's rows).

The same rules, through the same helpers (``run_once``, ``exclusions``, ``check_calls``), as
``_report.run_workload`` (which prints the per-issue tables): every candidate first runs each
stream once, untimed, and its calls are compared with fcstream's; a stream on
which any candidate fails is left out of every row (and listed), so all rows time the same
bytes. Capped candidates (the openai SDK, langchain, quadratic ``+=``) are skipped above their
event cap, with the reason in the row.

Times: ``measure_side_by_side`` from ``_timing`` (warm-up, gc off, loops calibrated, the
candidates' runs taken in turns so interference hits every row alike). A row keeps every
run's per-call time; ``median`` is the headline, ``spread`` is (max - min) / median, and ratios
use each row's best run (the least disturbed estimate on a shared machine).
"""

from __future__ import annotations

import dataclasses
import math
import statistics
import sys
import time
from collections.abc import Callable
from itertools import zip_longest
from typing import Any

from ._candidates import CallKey, Candidate, Missing
from ._peers import PEER_ARG_CAPS, PEER_CAPS
from ._timing import Settings, Timing, measure_side_by_side
from ._workloads import Stream, Workload

__all__ = [
    "Progress",
    "check_calls",
    "exclusions",
    "loop",
    "run_once",
    "sweep_settings",
    "time_workload",
    "time_workloads",
]


class Progress:
    """One line per step on stderr with the elapsed time: a long run shows where it is."""

    def __init__(self, quiet: bool = False) -> None:
        self.start = time.perf_counter()
        self.quiet = quiet

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def __call__(self, message: str) -> None:
        if not self.quiet:
            print(f"[{self.elapsed():7.1f} s] {message}", file=sys.stderr, flush=True)


def sweep_settings(settings: Settings) -> Settings:
    """Lighter settings for the sweeps: many points, each one cheap; the slope needs the trend."""
    if settings.name == "quick":
        return dataclasses.replace(
            settings,
            repeat=3,
            min_run_ns=5_000_000,
            budget_ns=150_000_000,
            sdk_max_events=2_000,
            superlinear_max_events=20_000,
        )
    return dataclasses.replace(
        settings,
        repeat=5,
        min_run_ns=20_000_000,
        budget_ns=2_000_000_000,
        sdk_max_events=12_000,
        superlinear_max_events=70_000,
    )


def _cap(cand: Candidate, settings: Settings) -> tuple[int, str] | None:
    if cand.name in PEER_CAPS:
        quick, full = PEER_CAPS[cand.name]
        return (quick if settings.name == "quick" else full), "~0.1-1 ms/event, superlinear"
    if cand.sdk:
        return settings.sdk_max_events, "~0.1-0.4 ms/event, superlinear"
    if cand.superlinear:
        return settings.superlinear_max_events, "quadratic +="
    return None


def loop(run: Callable[[Stream], Any], streams: tuple[Stream, ...]) -> Callable[[], None]:
    """One timed call: ``run`` over every stream."""

    def run_all() -> None:
        for stream in streams:
            run(stream)

    return run_all


def run_once(cand: Candidate, workload: Workload
             ) -> tuple[dict[str, list[CallKey] | None], dict[str, str]]:
    """Each stream once, untimed: the calls rebuilt per stream, and the failures (a
    candidate's crash is a finding, reported, not raised)."""
    got: dict[str, list[CallKey] | None] = {}
    failed: dict[str, str] = {}
    for stream in workload.streams:
        try:
            result = cand.run(stream)
            got[stream.name] = cand.calls(result) if cand.calls is not None else None
        except Exception as exc:
            failed[stream.name] = f"{type(exc).__name__}: {exc}"[:160]
    return got, failed


def exclusions(workload: Workload, failures: dict[str, dict[str, str]]
               ) -> tuple[dict[str, str], Workload]:
    """Streams some candidate failed on (with the first reason), and the workload without
    them: every row times the same bytes."""
    excluded: dict[str, str] = {}
    for name, failed in failures.items():
        for stream_name, error in failed.items():
            excluded.setdefault(stream_name, f"{name}: {error}")
    return excluded, (workload.without(set(excluded)) if excluded else workload)


def check_calls(cand: Candidate, ref: str | None, timed: Workload,
                calls: dict[str, dict[str, list[CallKey] | None]]) -> tuple[str, list[str]]:
    """``cand``'s calls against the reference candidate's: the check label and the streams
    where they differ."""
    if cand.calls is None:
        return "-", []
    if ref is None or cand.name == ref:
        return ("ref" if cand.name == ref else "?"), []
    bad = [s.name for s in timed.streams if calls[cand.name][s.name] != calls[ref][s.name]]
    return (f"DIFFERS on {len(bad)}/{len(timed.streams)}" if bad else "ok"), bad


def _finite(x: float | None) -> float | None:
    return x if x is not None and math.isfinite(x) else None


@dataclasses.dataclass
class _Prepared:
    """A workload checked and ready to time: its rows, the candidates to time, the streams."""

    workload: Workload
    began: float
    rows: list[dict[str, Any]]
    runnable: list[tuple[Candidate, dict[str, Any]]]
    timed: Workload
    excluded: dict[str, str]


def _prepare(
    workload: Workload, settings: Settings, cands: list[Candidate | Missing]
) -> _Prepared:
    """Run every candidate once on ``workload`` and check its calls (untimed)."""
    began = time.perf_counter()
    rows: list[dict[str, Any]] = []
    runnable: list[tuple[Candidate, dict[str, Any]]] = []
    calls: dict[str, dict[str, list[CallKey] | None]] = {}
    failures: dict[str, dict[str, str]] = {}
    largest = max((s.events for s in workload.streams), default=0)
    for cand in cands:
        if isinstance(cand, Missing):
            rows.append({"name": cand.name, "status": f"MISSING: {cand.reason}", "role": "peer"})
            continue
        role = (
            "fcstream"
            if cand.fcstream
            else "floor"
            if cand.floor
            else "sdk"
            if cand.sdk
            else "fcstream-variant"
            if cand.name.startswith("fcstream")
            else "peer"
        )
        row: dict[str, Any] = {"name": cand.name, "role": role, "status": ""}
        rows.append(row)
        cap = _cap(cand, settings)
        arg_cap = PEER_ARG_CAPS.get(cand.name)
        if arg_cap is not None:
            limit = arg_cap[0] if settings.name == "quick" else arg_cap[1]
            biggest = max((s.arg_bytes for s in workload.streams), default=0)
            if biggest > limit:
                row["status"] = (
                    f"skipped: {biggest:,} argument bytes in one stream > {limit:,} "
                    f"({settings.name} mode; re-parses partial JSON on every chunk)"
                )
                continue
        if cap is not None and largest > cap[0]:
            row["status"] = (
                f"skipped: {largest:,} events in one stream > {cap[0]:,} "
                f"({settings.name} mode; {cap[1]})"
            )
            continue
        got, failed = run_once(cand, workload)
        if failed and len(failed) == len(workload.streams):
            row["status"] = f"ERROR on every stream: {next(iter(failed.values()))}"
            continue
        calls[cand.name], failures[cand.name] = got, failed
        runnable.append((cand, row))

    excluded, timed = exclusions(workload, failures)
    ref = next((c.name for c, _ in runnable if c.fcstream), None)
    for cand, row in runnable:
        row["check"], bad = check_calls(cand, ref, timed, calls)
        if bad:
            row["differs_on"] = bad[:10]

    return _Prepared(workload, began, rows, runnable, timed, excluded)


def _timed_fns(prepared: _Prepared) -> list[Callable[[], Any]]:
    if not prepared.timed.streams:
        return []
    return [loop(cand.run, prepared.timed.streams) for cand, _ in prepared.runnable]


def _finish(
    prepared: _Prepared, timings: list[Timing], progress: Progress | None
) -> dict[str, Any]:
    """The JSON-ready result of a prepared workload, from its candidates' timings."""
    workload, rows, timed, excluded = (
        prepared.workload, prepared.rows, prepared.timed, prepared.excluded)
    began = prepared.began
    events, nbytes = timed.events, timed.nbytes
    for (_, row), timing in zip_longest(prepared.runnable, timings):
        if timing is None:
            row["status"] = "no stream left after exclusions"
            continue
        med = timing.median_ns
        row.update(
            times_ns=[round(t) for t in timing.times_ns],
            best_ns=timing.best_ns,
            median_ns=med,
            spread=(max(timing.times_ns) - min(timing.times_ns)) / med if med else 0.0,
            runs=timing.runs,
            us_per_event=med / events / 1000 if events else None,
            ns_per_byte=med / nbytes if nbytes else None,
            best_us_per_event=timing.best_ns / events / 1000 if events else None,
        )
    floor = next((r for r in rows if r.get("role") == "floor" and "best_ns" in r), None)
    fc = next((r for r in rows if r.get("role") == "fcstream" and "best_ns" in r), None)
    for row in rows:
        if "best_ns" not in row:
            continue
        row["x_floor"] = _finite(row["best_ns"] / floor["best_ns"]) if floor else None
        row["over_fcstream"] = _finite(row["best_ns"] / fc["best_ns"]) if fc else None
    out = {
        "name": workload.name,
        "api": workload.api,
        "streams": len(timed.streams),
        "events": events,
        "bytes": nbytes,
        "arg_bytes": timed.arg_bytes,
        "excluded": excluded,
        "rows": rows,
        "seconds": round(time.perf_counter() - began, 2),
    }
    if progress is not None:
        fc_us = f", fcstream {fc['us_per_event']:.2f} us/event" if fc else ""
        progress(f"  {workload.name}: {events:,} events{fc_us} ({out['seconds']:.1f} s)")
    return out


def time_workload(
    workload: Workload,
    settings: Settings,
    cands: list[Candidate | Missing],
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Check, then time, every candidate on ``workload`` side by side; JSON-ready."""
    prepared = _prepare(workload, settings, cands)
    return _finish(prepared, measure_side_by_side(_timed_fns(prepared), settings), progress)


def time_workloads(
    workloads: list[Workload],
    settings: Settings,
    cands: list[Candidate | Missing],
    progress: Progress | None = None,
) -> list[dict[str, Any]]:
    """``time_workload`` for several workloads (a sweep's points), every candidate on every
    workload timed side by side: a burst of interference then hits every point alike instead
    of bending a slope at the point it happened to hit."""
    prepared = [_prepare(w, settings, cands) for w in workloads]
    fns = [_timed_fns(p) for p in prepared]
    timings = measure_side_by_side([f for group in fns for f in group], settings)
    out = []
    at = 0
    for p, group in zip(prepared, fns, strict=True):
        out.append(_finish(p, timings[at : at + len(group)], progress))
        at += len(group)
    return out


def median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None
