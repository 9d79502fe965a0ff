"""The benchmark's side-by-side timing: turns, loop calibration and budgets."""

from __future__ import annotations

import time
from collections.abc import Callable

from benchmarks._timing import Settings, measure, measure_side_by_side

_SETTINGS = Settings(
    repeat=4,
    warmup=1,
    min_run_ns=1,  # one call per run
    budget_ns=3_000_000,
    min_repeat=2,
    sdk_max_events=0,
    superlinear_max_events=0,
    name="test",
)


def _recorder(calls: list[str], name: str, pause_s: float = 0.0) -> Callable[[], None]:
    def run() -> None:
        calls.append(name)
        if pause_s:
            time.sleep(pause_s)

    return run


def test_runs_are_taken_in_turns_and_a_slow_one_stops_at_its_budget() -> None:
    calls: list[str] = []
    fns = [_recorder(calls, "a"), _recorder(calls, "b"), _recorder(calls, "slow", 0.002)]
    timings = measure_side_by_side(fns, _SETTINGS)
    warmup, timed = calls[:3], calls[3:]
    assert warmup == ["a", "b", "slow"]
    # each turn starts one further along; "slow" spent its 3 ms budget after two runs
    assert timed == ["a", "b", "slow", "b", "slow", "a", "a", "b", "a", "b"]
    assert [t.runs for t in timings] == [4, 4, 2]
    assert [t.loops for t in timings] == [1, 1, 1]
    assert timings[2].best_ns >= 2_000_000


def test_measure_is_one_function_side_by_side_with_nothing() -> None:
    calls: list[str] = []
    timing = measure(_recorder(calls, "a"), _SETTINGS)
    assert calls == ["a"] * 5  # one warm-up call, then four runs
    assert timing.runs == 4
