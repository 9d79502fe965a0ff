"""Memory while parsing, and the cost of a partial-JSON preview after every delta.

Memory: ``tracemalloc`` peak while a ``StreamParser`` is fed the stream in 4 KB reads, its
events dropped as a consumer that only wants finished calls would, then ``finish()``. The
stream's bytes exist before tracing starts (they are the input, not the parser's memory); the
calls are kept after it. The ratio is peak / argument bytes kept (UTF-8). The breakdown says
where the peak comes from: memory held just before ``finish()`` (the open calls' fragments in
``ArgumentBuffer`` lists: one ``str`` object of ~49 + n bytes plus an 8-byte list slot per
fragment) and what ``finish()`` adds while it joins them into the final string.

Preview: fcstream's ``ArgumentsPreview`` against ``partial_json_parser.loads`` on one call's
argument fragments. partial-json-parser can only re-parse the whole text so far after each
delta; ArgumentsPreview scans each fragment once and builds a value only when asked, so both
"value() every delta" (the same work as the peer) and "looks_complete every delta" (what a
progress indicator needs) are timed.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from fcstream import ArgumentsPreview, StreamParser

from ._measure import Progress
from ._sweeps import fit_slope, sweep_workload
from ._workloads import KB, MB, Workload

__all__ = ["memory", "preview"]

READ = 4096


def _measure_memory(workload: Workload) -> dict[str, Any]:
    data = workload.streams[0].data
    reads = [data[i : i + READ] for i in range(0, len(data), READ)]
    gc.collect()
    tracemalloc.start()
    try:
        parser = StreamParser()
        feed = parser.feed
        for chunk in reads:
            feed(chunk)
        before_finish, peak_feed = tracemalloc.get_traced_memory()
        parser.finish()
        calls = parser.calls
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    arg_bytes = sum(len(c.arguments.encode()) for c in calls)
    return {
        "workload": workload.name,
        "stream_bytes": len(data),
        "events": workload.events,
        "arg_bytes": arg_bytes,
        "peak_bytes": peak,
        "ratio": peak / arg_bytes if arg_bytes else None,
        "held_before_finish": before_finish,
        "peak_while_feeding": peak_feed,
        "kept_after_finish": kept,
        "calls": len(calls),
    }


def memory(quick: bool, progress: Progress, *, tiny: bool = False) -> list[dict[str, Any]]:
    if tiny:
        cases = [sweep_workload("chat", 1, 64 * KB)]
    elif quick:
        cases = [
            sweep_workload("chat", 1, MB),
            sweep_workload("chat", 64, 16 * KB),
            sweep_workload("responses", 1, MB),
        ]
    else:
        cases = [
            sweep_workload("chat", 1, MB),
            sweep_workload("chat", 1, 4 * MB),
            sweep_workload("chat", 64, 16 * KB),
            sweep_workload("responses", 1, MB),
            sweep_workload("responses", 1, 4 * MB),
            sweep_workload("chat", 1, MB, fragment=4),
        ]
    out = []
    for workload in cases:
        result = _measure_memory(workload)
        out.append(result)
        progress(
            f"  memory {workload.name}: peak {result['peak_bytes'] / MB:.1f} MB for "
            f"{result['arg_bytes'] / MB:.2f} MB kept = {result['ratio']:.2f}x"
        )
    return out


# -- preview -----------------------------------------------------------------------------------


def _fragments(size: int, fragment: int = 16) -> list[str]:
    from fixtures.generate import synthetic_calls

    text = synthetic_calls(1, size)[0].arguments
    return [text[i : i + fragment] for i in range(0, len(text), fragment)]


def _time(fn: Callable[[], Any], budget_s: float) -> float | None:
    """Best of up to 3 runs, stopping once ``budget_s`` is spent (None: not run)."""
    best = None
    spent = 0.0
    for _ in range(3):
        start = time.perf_counter()
        fn()
        took = time.perf_counter() - start
        best = took if best is None else min(best, took)
        spent += took
        if spent > budget_s:
            break
    return best


def _preview_runs(frags: list[str]) -> dict[str, Callable[[], Any]]:
    def value_every() -> None:
        p = ArgumentsPreview()
        for f in frags:
            p.feed(f)
            p.value()

    def complete_every() -> None:
        p = ArgumentsPreview()
        for f in frags:
            p.feed(f)
            p.looks_complete  # noqa: B018 - the property is the work measured

    def value_at_end() -> None:
        p = ArgumentsPreview()
        for f in frags:
            p.feed(f)
        p.value()

    return {
        "fcstream_value_every_delta": value_every,
        "fcstream_looks_complete_every_delta": complete_every,
        "fcstream_feed_value_at_end": value_at_end,
    }


def _peer_run(loads: Callable[[str], Any], frags: list[str]) -> Callable[[], None]:
    def peer() -> None:
        text = ""
        for f in frags:
            text += f
            loads(text)

    return peer


def preview(quick: bool, progress: Progress, *, tiny: bool = False) -> dict[str, Any]:
    try:
        import partial_json_parser  # type: ignore[import-untyped]

        pjp: Any = partial_json_parser
    except ImportError as exc:
        pjp = None
        missing = f"partial-json-parser not installed ({exc})"
    sizes = [KB, 4 * KB] if tiny else [KB, 4 * KB, 16 * KB, 64 * KB] if quick else [
        KB, 4 * KB, 16 * KB, 64 * KB, 256 * KB,
    ]  # fmt: skip
    peer_max = 16 * KB if quick or tiny else 64 * KB  # quadratic: ~ n^2 / 16 parses
    rows: list[dict[str, Any]] = []
    for size in sizes:
        frags = _fragments(size)
        row: dict[str, Any] = {"arg_bytes": size, "deltas": len(frags)}
        budget = 1.0 if quick or tiny else 4.0
        for key, fn in _preview_runs(frags).items():
            row[key] = _time(fn, budget)
        if pjp is not None and size <= peer_max:
            row["partial_json_parser_every_delta"] = _time(_peer_run(pjp.loads, frags), budget)
        else:
            row["partial_json_parser_every_delta"] = None
        rows.append(row)
        peer_s = row["partial_json_parser_every_delta"]
        progress(
            f"  preview {size // KB} KB ({len(frags)} deltas): value() every delta "
            f"{row['fcstream_value_every_delta'] * 1e3:.1f} ms, looks_complete "
            f"{row['fcstream_looks_complete_every_delta'] * 1e3:.2f} ms, partial-json-parser "
            + (f"{peer_s * 1e3:.1f} ms" if peer_s else "-")
        )
    slopes = {}
    for key in rows[0]:
        if key in ("arg_bytes", "deltas"):
            continue
        pts = [(r["arg_bytes"], r[key]) for r in rows if r[key]]
        slopes[key] = fit_slope([p[0] for p in pts], [p[1] for p in pts])
    out: dict[str, Any] = {"rows": rows, "slopes": slopes, "fragment_chars": 16}
    if pjp is None:
        out["partial_json_parser"] = f"MISSING: {missing}"
    else:
        import importlib.metadata as md

        out["partial_json_parser"] = md.version("partial-json-parser")
    return out
