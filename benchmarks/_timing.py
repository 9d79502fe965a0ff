"""Timing: warm-up, then best-of and median over repeated runs, gc off while timed.

A run is ``loops`` calls of the function, with ``loops`` calibrated from the warm-up so that a
run lasts at least ``min_run_ns`` (short workloads would otherwise measure the clock). The
collector is run before each timed run and disabled during it: a collection triggered by the
previous run's garbage would land on whoever runs next. Times are reported per call.

Candidates compared in one table are timed side by side (``measure_side_by_side``: their runs
in turns), so interference from other work on the machine hits them alike. Slow candidates
(the quadratic ones on megabyte streams) are bounded by ``budget_ns``: repeats
stop once that much time was spent, after ``min_repeat`` runs, so ``--quick`` stays quick.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FULL",
    "QUICK",
    "Settings",
    "Timing",
    "gc_off",
    "measure_side_by_side",
    "settings_from_argv",
]


@dataclass(frozen=True)
class Settings:
    """How hard to measure. ``repeat`` timed runs after ``warmup`` untimed calls."""

    repeat: int
    warmup: int
    min_run_ns: int  # loops per run are calibrated so a run lasts at least this
    budget_ns: int  # stop repeating once timed runs took this long (after min_repeat runs)
    min_repeat: int
    sdk_max_events: int  # the openai SDK (~250 us/event, superlinear) runs only below this
    superlinear_max_events: int  # likewise for the other quadratic candidates (naive +=)
    name: str


QUICK = Settings(
    repeat=5,
    warmup=1,
    min_run_ns=10_000_000,
    budget_ns=300_000_000,
    min_repeat=1,
    sdk_max_events=5_000,
    superlinear_max_events=60_000,
    name="quick",
)
FULL = Settings(
    repeat=9,
    warmup=2,
    min_run_ns=30_000_000,
    budget_ns=8_000_000_000,
    min_repeat=3,
    sdk_max_events=60_000,
    superlinear_max_events=1_000_000,
    name="full",
)


@dataclass(frozen=True)
class Timing:
    """Per-call times of each timed run, in nanoseconds."""

    times_ns: tuple[float, ...]
    loops: int

    @property
    def best_ns(self) -> float:
        return min(self.times_ns)

    @property
    def median_ns(self) -> float:
        return statistics.median(self.times_ns)

    @property
    def runs(self) -> int:
        return len(self.times_ns)


@contextmanager
def gc_off() -> Iterator[None]:
    """Collect now, then keep the collector off until the block ends (restored even on error).

    Survivors are frozen (``gc.freeze``): the SDK and pydantic leave ~100,000 long-lived objects
    that a full collection would rescan before every run (~60 ms each time). Anything the
    measured code builds afterwards is still collected normally.
    """
    was_enabled = gc.isenabled()
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run(fn: Callable[[], Any], loops: int) -> int:
    clock = time.perf_counter_ns
    with gc_off():
        start = clock()
        for _ in range(loops):
            fn()
        return clock() - start


def _calibrate(fn: Callable[[], Any], settings: Settings, warmed_ns: int) -> int:
    """Warm ``fn`` up and return the loops per run that make a run last ``min_run_ns``."""
    first = warmed_ns
    spent = warmed_ns
    warmup = settings.warmup
    if warmed_ns:
        warmup = 0 if warmed_ns > settings.min_run_ns else warmup - 1
    for _ in range(warmup if warmed_ns else max(warmup, 1)):  # calibrate on one call at least
        elapsed = _run(fn, 1)
        spent += elapsed
        first = first or elapsed
        if spent > settings.budget_ns // 4:
            break  # a long call warms itself up; do not pay for more
    return max(1, math.ceil(settings.min_run_ns / max(first, 1)))


def measure_side_by_side(
    fns: list[Callable[[], Any]], settings: Settings, *, warmed_ns: list[int] | None = None
) -> list[Timing]:
    """Time each of ``fns``: warm-up calls, loop calibration, then up to ``settings.repeat``
    runs, taken in turns: round ``r`` runs each function once, starting from the ``r``-th. A
    burst of interference on a shared machine then lands on every row alike instead of on
    whichever row was being timed, so the ratios between rows survive it. Each function keeps
    its own warm-up, loop count and budget (a slow one stops repeating once it spent
    ``budget_ns``, after ``min_repeat``). ``warmed_ns``: per function, how long a call the
    caller already made took (e.g. a correctness pass); a call longer than ``min_run_ns``
    then needs no further warm-up."""
    warmed = warmed_ns if warmed_ns is not None else [0] * len(fns)
    loops = [_calibrate(fn, settings, w) for fn, w in zip(fns, warmed, strict=True)]
    times: list[list[float]] = [[] for _ in fns]
    spent = [0] * len(fns)
    for turn in range(settings.repeat):
        ran = False
        for k in range(len(fns)):
            i = (turn + k) % len(fns)
            if spent[i] > settings.budget_ns and len(times[i]) >= settings.min_repeat:
                continue
            elapsed = _run(fns[i], loops[i])
            spent[i] += elapsed
            times[i].append(elapsed / loops[i])
            ran = True
        if not ran:
            break
    return [Timing(tuple(t), n) for t, n in zip(times, loops, strict=True)]


def settings_from_argv(argv: list[str], prog: str) -> Settings:
    """``--quick`` (the default is the full, slower measurement)."""
    import argparse

    parser = argparse.ArgumentParser(prog=prog)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="fewer repeats and smaller caps: the whole run in well under a minute",
    )
    args = parser.parse_args(argv)
    return QUICK if args.quick else FULL
