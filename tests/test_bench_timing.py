"""The benchmark's side-by-side timing: turns, loop calibration and budgets."""

from __future__ import annotations

import time
from collections.abc import Callable

from benchmarks._timing import Settings, measure_side_by_side

_SETTINGS = Settings(
    repeat=4,
    warmup=1,
    min_run_ns=1,  # one call per run
    budget_ns=50_000_000,  # far above what the quick functions take, even on a busy machine
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
    fns = [_recorder(calls, "a"), _recorder(calls, "b"), _recorder(calls, "slow", 0.03)]
    timings = measure_side_by_side(fns, _SETTINGS)
    warmup, timed = calls[:3], calls[3:]
    assert warmup == ["a", "b", "slow"]
    # each turn starts one further along; "slow" spent its 50 ms budget after two runs
    assert timed == ["a", "b", "slow", "b", "slow", "a", "a", "b", "a", "b"]
    assert [t.runs for t in timings] == [4, 4, 2]
    assert [t.loops for t in timings] == [1, 1, 1]
    assert timings[2].best_ns >= 30_000_000


def test_one_function_alone_is_warmed_up_then_run_every_turn() -> None:
    calls: list[str] = []
    (timing,) = measure_side_by_side([_recorder(calls, "a")], _SETTINGS)
    assert calls == ["a"] * 5  # one warm-up call, then four runs
    assert timing.runs == 4


def test_a_sweep_times_every_point_side_by_side() -> None:
    from benchmarks._candidates import candidates
    from benchmarks._measure import time_workloads
    from benchmarks._sweeps import sweep_workload

    floor = "floor (split + msgspec view)"
    cands = [c for c in candidates("chat") if c.name in ("fcstream", floor)]
    points = [sweep_workload("chat", 1, 1024), sweep_workload("chat", 2, 1024)]
    settings = Settings(repeat=3, warmup=1, min_run_ns=1, budget_ns=10**9, min_repeat=1,
                        sdk_max_events=0, superlinear_max_events=10**6, name="test")
    results = time_workloads(points, settings, cands)
    assert [r["name"] for r in results] == [w.name for w in points]
    assert [r["events"] for r in results] == [w.events for w in points]
    for result in results:
        rows = {row["name"]: row for row in result["rows"]}
        assert set(rows) == {"fcstream", floor}
        assert all(row["runs"] == 3 and row["best_ns"] > 0 for row in rows.values())
        assert rows["fcstream"]["check"] == "ref"  # the reference the others are checked by
        assert rows[floor]["x_floor"] == 1.0
    # two calls stream twice the events: the per-point rows are not mixed up
    assert results[1]["events"] > results[0]["events"]
