"""Is the cost linear? ns per byte as one call grows from 1 KB to 1 MB of arguments, and per
call as 1 to 64 calls share a stream, for both APIs and every candidate.

A linear parser keeps a flat column; ``+=`` accumulation (naive, the SDK) grows with the call.
Reuses the timings bench_chat/bench_responses already took in the same process.

    python benchmarks/bench_scaling.py [--quick]
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from benchmarks._report import (
    LINEAR_TARGET,
    PARALLEL,
    Result,
    run_workload,
    versions,
)
from benchmarks._timing import Settings, settings_from_argv
from benchmarks._workloads import KB, MB, Api, parallel, single_call

SIZES = (KB, 10 * KB, 100 * KB, MB)
_SHORT = {
    "fcstream, 1-4 KB chunks": "fc 1-4 KB reads",
    "fcstream, 1 event per read": "fc 1 event/read",
    "floor (split + msgspec view)": "floor",
    "floor + accumulate": "floor + acc",
    "floor + typed events": "floor + events",
    "naive json.loads + str +=": "naive +=",
}


def _sweep(
    title: str,
    results: list[tuple[str, Result]],
    unit: str,
    per: Callable[[Result, str], float | None],
    out: Callable[[str], None],
) -> None:
    names = [r.name for r in results[0][1].rows]
    short = {n: _SHORT.get(n, n.split(" (")[0]) for n in names}
    out("")
    out(f"-- {title}: {unit}; last column: largest / smallest --")
    out(f"   {'workload':<34}" + "".join(f"{short[n][:16]:>17}" for n in names))
    for label, result in results:
        cells = []
        for n in names:
            v = per(result, n)
            cells.append(f"{v:>17.2f}" if v is not None else f"{'-':>17}")
        out(f"   {label:<34}" + "".join(cells))
    ratios = []
    for n in names:
        first, last = per(results[0][1], n), per(results[-1][1], n)
        ratios.append(f"{last / first:>16.2f}x" if first and last else f"{'-':>17}")
    out(f"   {'growth':<34}" + "".join(ratios))


def _per_byte(result: Result, name: str) -> float | None:
    return result.per_byte_ns(result.row(name))


def _per_call(result: Result, name: str) -> float | None:
    row = result.row(name)
    if row is None or row.timing is None:
        return None
    n_calls = max(1, result.workload.arg_bytes // KB)
    return row.timing.best_ns / n_calls / 1000


def scaling(api: Api, settings: Settings, out: Callable[[str], None] = print) -> None:
    sizes = [(single_call(api, s).name, run_workload(single_call(api, s), settings)) for s in SIZES]
    _sweep(f"{api}: one call, growing arguments", sizes, "ns per stream byte", _per_byte, out)
    calls = [(parallel(api, n).name, run_workload(parallel(api, n), settings)) for n in PARALLEL]
    _sweep(f"{api}: parallel calls of 1 KB", calls, "us per call", _per_call, out)
    fc = sizes[0][1].fcstream
    if fc is not None:
        small, large = sizes[1][1], sizes[-1][1]
        a, b = large.per_byte_ns(large.fcstream), small.per_byte_ns(small.fcstream)
        if a and b:
            verdict = "ok" if a / b <= LINEAR_TARGET else "MISS"
            out(
                f"   fcstream 1 MB vs 10 KB per byte: {a / b:.2f}x "
                f"(target <= {LINEAR_TARGET}x: {verdict})"
            )


def main(settings: Settings) -> None:
    for api in ("chat", "responses"):
        scaling(api, settings)


if __name__ == "__main__":
    chosen = settings_from_argv(sys.argv[1:], "bench_scaling.py")
    print(versions(), f"| {chosen.name} mode")
    main(chosen)
