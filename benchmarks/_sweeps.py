"""Scaling sweeps: does time grow linearly with the stream, for every candidate?

Each sweep varies one thing, the rest fixed, in both API shapes (``n`` choices is chat only):

- ``arguments``: one call of 1 KB to 4 MB (fragments of 16 characters);
- ``fragment``: 64 KB of arguments in fragments of 1 to 256 characters;
- ``calls``: 1 to 256 parallel calls of 1 KB;
- ``choices``: n = 1 to 8 choices, each carrying 4 calls of 4 KB (chat);
- ``unicode``: one call of 1 KB to 1 MB of multi-byte text, emoji and escapes.

The slope is the least-squares fit of log(time) against log(size): 1.0 is linear. Time is each
point's best run: on a shared machine, interference only ever adds time, and a median taken
during someone else's burst would bend the line. For the same reason a sweep's points are
timed side by side (``time_workloads``: every candidate on every point, runs in turns), so a
burst cannot fall on one point alone. Size is the
stream's bytes, except for the fragment sweep, where the bytes fall as fragments grow and the
events are what a parser pays for: there it is the SSE event count. Slopes above
``SLOPE_FLAG`` are flagged for every candidate; fcstream's target is ``SLOPE_TARGET``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from functools import cache
from typing import Any

from ._measure import Progress, sweep_settings, time_workloads
from ._peers import suite_candidates
from ._timing import Settings
from ._workloads import KB, MB, Api, Workload, make_stream

__all__ = ["SLOPE_FLAG", "SLOPE_TARGET", "fit_slope", "run_sweeps", "sweep_workload"]

SLOPE_FLAG = 1.1
SLOPE_TARGET = 1.05
FRAGMENT = 16


def _size(n: int) -> str:
    return f"{n // MB} MB" if n >= MB else f"{n // KB} KB"


@cache
def sweep_workload(
    api: Api,
    n_calls: int,
    arg_bytes: int,
    *,
    fragment: int = FRAGMENT,
    choices: int = 1,
    unicode: bool = False,
) -> Workload:
    """One generated stream (cached: several sections share them)."""
    from fixtures.generate import chat_stream, responses_stream, synthetic_calls

    calls = synthetic_calls(n_calls, arg_bytes, unicode=unicode)
    size = sum(len(c.arguments.encode()) for c in calls) * choices
    if api == "chat":
        data = chat_stream(calls, fragment=fragment, choices=choices)
    else:
        data = responses_stream(calls, fragment=fragment)
    name = (
        f"{api}: {n_calls} call(s) x {_size(arg_bytes)}"
        + (f", fragment {fragment}" if fragment != FRAGMENT else "")
        + (f", n={choices}" if choices != 1 else "")
        + (", unicode" if unicode else "")
    )
    # generated streams are LF-only with one blank line per event: counting them is exact
    stream = make_stream(name, data, size, data.count(b"\n\n"))
    return Workload(name, api, (stream,))


Point = tuple[float, Workload]  # (x value for the fit, workload)


def _points(quick: bool, tiny: bool) -> list[tuple[str, Api, str, list[Point]]]:
    """(sweep, api, x axis, points) for every sweep of this mode."""
    if tiny:
        args = [KB, 4 * KB, 16 * KB]
        frags = [4, 16, 64]
        ncalls = [1, 4, 16]
        ns = [1, 2]
        uni = [KB, 16 * KB]
    elif quick:
        args = [KB, 16 * KB, 256 * KB, MB]
        frags = [1, 4, 16, 64, 256]
        ncalls = [1, 4, 16, 64, 256]
        ns = [1, 2, 4, 8]
        uni = [KB, 16 * KB, 256 * KB]
    else:
        args = [KB, 4 * KB, 16 * KB, 64 * KB, 256 * KB, MB, 4 * MB]
        frags = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        ncalls = [1, 2, 4, 8, 16, 32, 64, 128, 256]
        ns = [1, 2, 4, 8]
        uni = [KB, 16 * KB, 256 * KB, MB]
    frag_args = 16 * KB if tiny else 64 * KB
    out: list[tuple[str, Api, str, list[Point]]] = []
    apis: tuple[Api, ...] = ("chat", "responses")
    for a in apis:
        out.append(
            ("arguments", a, "bytes", [(0, sweep_workload(a, 1, n)) for n in args]),
        )
        out.append(
            (
                "fragment",
                a,
                "events",
                [(0, sweep_workload(a, 1, frag_args, fragment=f)) for f in frags],
            )
        )
        out.append(("calls", a, "bytes", [(0, sweep_workload(a, n, KB)) for n in ncalls]))
        if a == "chat":
            out.append(
                (
                    "choices",
                    a,
                    "bytes",
                    [(0, sweep_workload(a, 4, 4 * KB, choices=n)) for n in ns],
                )
            )
        out.append(
            ("unicode", a, "bytes", [(0, sweep_workload(a, 1, n, unicode=True)) for n in uni]),
        )
    return out


def fit_slope(xs: list[float], ys: list[float]) -> float | None:
    """Least-squares slope of log(y) on log(x); ``None`` below two distinct points."""
    pts = [(math.log(x), math.log(y)) for x, y in zip(xs, ys, strict=True) if x > 0 and y > 0]
    if len(pts) < 2:
        return None
    mx = sum(p[0] for p in pts) / len(pts)
    my = sum(p[1] for p in pts) / len(pts)
    sxx = sum((p[0] - mx) ** 2 for p in pts)
    if sxx == 0:
        return None
    return sum((p[0] - mx) * (p[1] - my) for p in pts) / sxx


def run_sweeps(
    settings: Settings, progress: Progress, *, tiny: bool = False
) -> list[dict[str, Any]]:
    """Every sweep: the timed points and each candidate's slope (``flag`` above 1.1)."""
    light = sweep_settings(settings)
    out: list[dict[str, Any]] = []
    for sweep, api, axis, points in _points(settings.name == "quick", tiny):
        progress(f"sweep {api} {sweep} ({len(points)} points)")
        cands = suite_candidates(api, full_set=False)
        results = time_workloads([w for _, w in points], light, cands, progress)
        xs_of: Callable[[dict[str, Any]], float] = (
            (lambda r: float(r["events"])) if axis == "events" else (lambda r: float(r["bytes"]))
        )
        slopes: dict[str, dict[str, Any]] = {}
        for row in results[0]["rows"]:
            name = row["name"]
            xs, ys = [], []
            for res in results:
                match = next((r for r in res["rows"] if r["name"] == name), None)
                if match is not None and "best_ns" in match:
                    xs.append(xs_of(res))
                    ys.append(match["best_ns"])
            slope = fit_slope(xs, ys)
            slopes[name] = {
                "slope": slope,
                "points": len(xs),
                "flag": slope is not None and slope > SLOPE_FLAG,
                "role": row.get("role"),
            }
        out.append({"sweep": sweep, "api": api, "axis": axis, "points": results, "slopes": slopes})
    return out
